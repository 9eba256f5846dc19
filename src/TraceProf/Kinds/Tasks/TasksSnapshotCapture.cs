using System.Runtime.InteropServices;
using TraceProf.Attribution;
using TraceProf.Kinds.Heap;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Tasks;

/// <summary>The result of a tasks snapshot.</summary>
/// <param name="Profile">The tasks profile.</param>
/// <param name="Stats">The heap snapshot's figures.</param>
/// <param name="Chains">How many chains were found (including any over the bound).</param>
internal sealed record TasksSnapshot(Profile Profile, HeapSnapshotStats Stats, int Chains);

/// <summary>
/// Takes a tasks snapshot: a heap snapshot whose graph is read for async state machine boxes (<see cref="AsyncChainFinder"/>),
/// with the activity of every request in flight held by a GC handle for the length of the walk, so that the dump's
/// handle roots say which object is which request's activity (the graph has types and references, not values).
/// </summary>
internal sealed class TasksSnapshotCapture(HeapSnapshotOptions? options = null, TimeProvider? timeProvider = null)
{
    /// <summary>Default of the chain bound.</summary>
    public const int DefaultMaxChains = 100_000;

    /// <summary>Takes the snapshot; same exceptions as <see cref="HeapSnapshotCapture.CaptureAsync"/>.</summary>
    /// <param name="maxChains">The most chains in the profile.</param>
    /// <param name="cancellationToken">Stops the snapshot.</param>
    /// <returns>The profile and figures.</returns>
    public async Task<TasksSnapshot> CaptureAsync(int maxChains, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChains, 1);
        var tracking = InFlightRequests.IsTracking;
        var requests = InFlightRequests.All();
        var handles = new GCHandle[requests.Length];
        try
        {
            for (var i = 0; i < requests.Length; i++)
            {
                handles[i] = GCHandle.Alloc(requests[i].Activity, GCHandleType.Normal);
            }

            var byHandle = new Dictionary<ulong, int>(requests.Length);
            for (var i = 0; i < handles.Length; i++)
            {
                byHandle[(ulong)GCHandle.ToIntPtr(handles[i])] = i;
            }

            var (graph, stats, watched) = await new HeapSnapshotCapture(options, timeProvider)
                .CaptureGraphAsync(byHandle.Keys, cancellationToken).ConfigureAwait(false);
            var markers = new Dictionary<int, int>(watched.Count);
            foreach (var (handle, node) in watched)
            {
                markers[node] = byHandle[handle];
            }

            var chains = AsyncChainFinder.Find(graph, markers, maxChains, out var omitted);
            var profile = TasksProfileBuilder.Build(chains, requests, stats, omitted, tracking);
            return new TasksSnapshot(profile, stats, chains.Count + omitted);
        }
        finally
        {
            foreach (var handle in handles)
            {
                if (handle.IsAllocated)
                {
                    handle.Free();
                }
            }
        }
    }
}
