using Microsoft.Diagnostics.NETCore.Client;
using TraceProf.Capture;

namespace TraceProf.Kinds.Heap;

/// <summary>
/// Starts and stops the heap snapshot's EventPipe session through the process's one session gate
/// (<see cref="EventPipeCaptureSource"/>), with a buffer sized for the heap: the whole dump is written while the
/// process is suspended, so nobody reads the buffer meanwhile, and a heap of 10 M objects needs ~440 MB of it.
/// </summary>
internal static class HeapSession
{
    public static Task<EventPipeSession> StartAsync(IReadOnlyList<EventPipeProvider> providers, int bufferMegabytes, TimeProvider time, CancellationToken cancellationToken) =>
        // No rundown: a heap dump names types, not methods. A start the caller gave up on is drained and stopped.
        EventPipeCaptureSource.StartSessionAsync(providers, requestRundown: false, time, cancellationToken, bufferMegabytes);

    /// <summary>Stops a session whose stream someone is reading, bounded by <see cref="EventPipeCaptureSource.StopTimeout"/>.</summary>
    public static Task StopAsync(EventPipeSession session, TimeProvider time) =>
        Task.Run(() => EventPipeCaptureSource.StopSession(session), CancellationToken.None).WaitAsync(EventPipeCaptureSource.StopTimeout, time);
}
