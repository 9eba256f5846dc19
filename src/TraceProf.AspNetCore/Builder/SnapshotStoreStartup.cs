using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Builder;

/// <summary>Resolves the snapshot store at start-up, so that its configuration errors stop the host with their message.</summary>
internal sealed class SnapshotStoreStartup(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<ISnapshotStore>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
