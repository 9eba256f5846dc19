using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.Capture;

namespace TraceProf.AspNetCore.Builder;

/// <summary>
/// Decides the CPU sampler while the host starts and says which one in one log line: resolving the choice probes
/// perf_event (<c>auto</c>), or stops the host with the reason when <c>perf</c> was asked for and is unavailable.
/// </summary>
internal sealed class CpuSamplerStartup(CpuSamplerChoice choice, ILogger<CpuSamplerStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Log.CpuSamplerChosen(logger, choice.Active, choice.Reason);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
