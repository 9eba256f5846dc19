using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;

namespace TraceProf.AspNetCore.Security;

/// <summary>
/// Says once, at start, that loopback trust is on with no API key outside Development: the default that makes
/// <c>curl localhost</c> work is also what a sidecar or anything else on the machine can use.
/// </summary>
internal sealed class LoopbackTrustWarning(IOptions<TraceProfOptions> options, IHostEnvironment environment, ILogger<LoopbackTrustWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.TrustLoopback && settings.ApiKeyHashes.Count == 0 && settings.ApiKeys.Count == 0 && !environment.IsDevelopment())
        {
            Log.LoopbackTrustedWithoutApiKey(logger, environment.EnvironmentName, settings.RoleClaimType);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
