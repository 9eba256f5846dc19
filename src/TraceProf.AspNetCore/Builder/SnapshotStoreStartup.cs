using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Builder;

/// <summary>Resolves the snapshot store at start-up, so that its configuration errors stop the host with their message.</summary>
internal sealed class SnapshotStoreStartup(IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetRequiredService<ISnapshotStore>() is SnapshotStoreGuard guard)
        {
            await guard.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
