using System.Reflection;
using Microsoft.Diagnostics.NETCore.Client;
using TraceProf.Capture;

namespace TraceProf.Kinds.Heap;

/// <summary>
/// Starts the heap snapshot's EventPipe session with a buffer sized for the heap.
/// </summary>
/// <remarks>
/// <c>EventPipeCaptureSource.StartSessionAsync</c> starts sessions one at a time in the process but with
/// a fixed 64 MB buffer, and a heap dump needs up to a gigabyte (the whole dump is written while the process is
/// suspended, so nobody reads the buffer meanwhile). Until it takes a buffer size, this starts the session under
/// the same gate (its private <c>SessionGate</c>, found by reflection; a private lock of our own if it is
/// renamed) and stops it through <see cref="EventPipeCaptureSource.StopSession"/>, so the one-at-a-time rule holds.
/// </remarks>
internal static class HeapSession
{
    private static readonly Lock Gate =
        typeof(EventPipeCaptureSource).GetField("SessionGate", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null) as Lock ?? new Lock();

    public static async Task<EventPipeSession> StartAsync(IReadOnlyList<EventPipeProvider> providers, int bufferMegabytes, TimeProvider time, CancellationToken cancellationToken)
    {
        var start = Task.Run(
            () =>
            {
                lock (Gate)
                {
                    // No rundown: a heap dump names types, not methods.
                    return new DiagnosticsClient(Environment.ProcessId).StartEventPipeSession(providers, requestRundown: false, bufferMegabytes);
                }
            },
            CancellationToken.None);
        try
        {
            return await start.WaitAsync(EventPipeCaptureSource.StartTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            ReleaseWhenStarted(start);
            throw new CaptureUnavailableException($"Starting the heap snapshot's EventPipe session took longer than {EventPipeCaptureSource.StartTimeout.TotalSeconds:0} s; the process may be overloaded. Try again later.", ex);
        }
        catch (OperationCanceledException)
        {
            ReleaseWhenStarted(start);
            throw;
        }
        catch (ServerNotAvailableException ex)
        {
            throw new CaptureUnavailableException(
                "The runtime's diagnostics channel is not available in this process, so EventPipe cannot take a heap snapshot. " +
                "Is DOTNET_EnableDiagnostics=0 (or DOTNET_EnableDiagnostics_IPC=0) set, or is the temp folder not writable? Remove the setting and restart.",
                ex);
        }
        catch (DiagnosticsClientException ex)
        {
            throw new CaptureUnavailableException($"The runtime refused the heap snapshot's EventPipe session: {ex.Message}", ex);
        }
    }

    /// <summary>Stops a session whose stream someone is reading, bounded by <see cref="EventPipeCaptureSource.StopTimeout"/>.</summary>
    public static Task StopAsync(EventPipeSession session, TimeProvider time) =>
        Task.Run(() => EventPipeCaptureSource.StopSession(session), CancellationToken.None).WaitAsync(EventPipeCaptureSource.StopTimeout, time);

    // A session whose caller gave up while it started still induces its GC; its stream is read into nothing while
    // it stops, because the runtime answers Stop (and every later session start) only once the stream is drained.
    private static void ReleaseWhenStarted(Task<EventPipeSession> start) =>
        start.ContinueWith(
            static t =>
            {
                if (!t.IsCompletedSuccessfully)
                {
                    return;
                }

                var session = t.Result;
                var drain = new Thread(() =>
                {
                    try
                    {
                        session.EventStream.CopyTo(Stream.Null);
                    }
#pragma warning disable CA1031 // An exception escaping a thread would end the process; the stream ends with the session either way.
                    catch (Exception)
#pragma warning restore CA1031
                    {
                    }
                })
                {
                    IsBackground = true,
                    Name = "TraceProf heap snapshot discard",
                };
                drain.Start();
                try
                {
                    EventPipeCaptureSource.StopSession(session);
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or ServerNotAvailableException or TimeoutException)
                {
                    // Disposing below ends it regardless.
                }

                drain.Join(EventPipeCaptureSource.StopTimeout);
                session.Dispose();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
}
