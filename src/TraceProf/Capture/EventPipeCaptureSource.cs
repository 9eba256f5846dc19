using System.Diagnostics;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TraceProf.Capture;

/// <summary>
/// Captures this very process through its own diagnostics IPC channel
/// (<see cref="DiagnosticsClient"/> on <see cref="Environment.ProcessId"/>).
/// </summary>
internal sealed partial class EventPipeCaptureSource : ICaptureSource
{
    /// <summary>How long starting a session may take before the capture is refused.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long stopping (including rundown) and draining the stream may take.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    // Starts and stops of EventPipe sessions in this process, one at a time (see StopSession).
    private static readonly Lock SessionGate = new();

    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the source.</summary>
    /// <param name="timeProvider">The clock for the capture's duration.</param>
    /// <param name="logger">The logger.</param>
    public EventPipeCaptureSource(TimeProvider? timeProvider = null, ILogger<EventPipeCaptureSource>? logger = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public async Task<CaptureResult> CaptureAsync(SessionSpec spec, TimeSpan duration, string nettracePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        ArgumentException.ThrowIfNullOrEmpty(nettracePath);
        cancellationToken.ThrowIfCancellationRequested();

        var session = await StartSessionAsync(spec.Providers, spec.RequestRundown, _time, cancellationToken, spec.BufferMegabytes).ConfigureAwait(false);
        var file = new FileStream(nettracePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The session does not stop while nobody reads its stream, and a starved thread pool would make the
        // reader late; so the reader is a dedicated thread, started before Stop and never the one calling it.
        var drain = new Thread(() =>
        {
            try
            {
                session.EventStream.CopyTo(file, 1 << 16);
                drained.TrySetResult();
            }
#pragma warning disable CA1031 // The exception is handed to the awaiting capture.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                drained.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "TraceProf EventPipe drain",
        };

        var startedAt = _time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        var completed = false;
        try
        {
            drain.Start();
            try
            {
                await Task.Delay(duration, _time, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Also on cancellation: stop first, so the session is gone within moments of the client leaving.
                await StopAsync(session, drained.Task).ConfigureAwait(false);
            }

            var elapsed = stopwatch.Elapsed;
            await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            var bytes = file.Length;
            completed = true;
            LogCaptured(_logger, spec.Name, (long)elapsed.TotalMilliseconds, bytes);
            return new CaptureResult(startedAt, elapsed, bytes, nettracePath);
        }
        finally
        {
            session.Dispose();
            await file.DisposeAsync().ConfigureAwait(false);
            if (!completed)
            {
                File.Delete(nettracePath);
            }
        }
    }

    /// <summary>
    /// Starts a session on this process, off the caller's thread and bounded by <see cref="StartTimeout"/>
    /// (starting can block on a constrained machine); every way it can fail becomes a
    /// <see cref="CaptureUnavailableException"/> that says why.
    /// </summary>
    /// <param name="providers">The providers.</param>
    /// <param name="requestRundown">Whether stopping it writes rundown.</param>
    /// <param name="time">The clock of the timeout.</param>
    /// <param name="cancellationToken">Gives up waiting (a session that starts anyway is drained and stopped).</param>
    /// <param name="bufferMegabytes">The session's circular buffer (a heap snapshot sizes it from the heap).</param>
    /// <returns>The session.</returns>
    internal static async Task<EventPipeSession> StartSessionAsync(IReadOnlyList<EventPipeProvider> providers, bool requestRundown, TimeProvider time, CancellationToken cancellationToken, int bufferMegabytes = SessionSpec.DefaultBufferMegabytes)
    {
        var start = Task.Run(
            () =>
            {
                lock (SessionGate)
                {
                    return new DiagnosticsClient(Environment.ProcessId).StartEventPipeSession(providers, requestRundown, bufferMegabytes);
                }
            },
            CancellationToken.None);
        try
        {
            return await start.WaitAsync(StartTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            DisposeWhenStarted(start);
            throw new CaptureUnavailableException($"Starting an EventPipe session took longer than {StartTimeout.TotalSeconds:0} s; the process may be overloaded. Try again later.", ex);
        }
        catch (OperationCanceledException)
        {
            DisposeWhenStarted(start);
            throw;
        }
        catch (ServerNotAvailableException ex)
        {
            throw new CaptureUnavailableException(
                "The runtime's diagnostics channel is not available in this process, so EventPipe cannot capture. " +
                "Is DOTNET_EnableDiagnostics=0 (or DOTNET_EnableDiagnostics_IPC=0) set, or is the temp folder not writable? Remove the setting and restart.",
                ex);
        }
        catch (DiagnosticsClientException ex)
        {
            throw new CaptureUnavailableException($"The runtime refused the EventPipe session: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Stops a live session whose stream a reader drains, then waits for that reader to end, each bounded by
    /// <see cref="StopTimeout"/> (the flight recorder's sessions). Never throws for a session that does not stop cleanly:
    /// returns why, for the caller to log; the caller disposes the session either way.
    /// </summary>
    /// <param name="session">The session.</param>
    /// <param name="readerDone">Completes when the reader has read the stream to its end; null when none reads it.</param>
    /// <returns>Null, or the failure (a timeout, a broken stream or diagnostics connection).</returns>
    internal static async Task<Exception?> StopLiveSessionAsync(EventPipeSession session, Task? readerDone)
    {
        try
        {
            await Task.Run(() => StopSession(session)).WaitAsync(StopTimeout).ConfigureAwait(false);
            if (readerDone is not null)
            {
                await readerDone.WaitAsync(StopTimeout).ConfigureAwait(false);
            }

            return null;
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or ServerNotAvailableException or ObjectDisposedException)
        {
            return ex;
        }
    }

    /// <summary>
    /// Stops a session; like every start, one at a time in this process. Sessions starting and stopping at the
    /// same moment (a flight recorder's rundown, captures, hosts starting and stopping in one test process) wedged
    /// the runtime's EventPipe twice in test runs: every later session start waited forever for an answer.
    /// </summary>
    internal static void StopSession(EventPipeSession session)
    {
        lock (SessionGate)
        {
            session.Stop();
        }
    }

    private static void DisposeWhenStarted(Task<EventPipeSession> start) =>
        start.ContinueWith(
            static t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    // A session whose caller gave up while it started: the runtime answers Stop only once the
                    // session's stream has been read to its end, and its diagnostics server answers nothing else
                    // meanwhile, so the stream is drained into nothing while stopping. Without this, a host stopped
                    // during its start wedged every later session of the process.
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
                        Name = "TraceProf EventPipe discard",
                    };
                    drain.Start();
                    try
                    {
                        StopSession(session);
                    }
                    catch (Exception ex) when (ex is IOException or ObjectDisposedException or ServerNotAvailableException or TimeoutException)
                    {
                        // Disposing below ends it regardless.
                    }

                    drain.Join(StopTimeout);
                    session.Dispose();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private async Task StopAsync(EventPipeSession session, Task drained)
    {
        try
        {
            await Task.Run(() => StopSession(session), CancellationToken.None).WaitAsync(StopTimeout, _time).ConfigureAwait(false);
            await drained.WaitAsync(StopTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or ServerNotAvailableException)
        {
            LogStopFailed(_logger, ex);
            throw new CaptureUnavailableException($"The EventPipe session did not stop cleanly: {ex.Message}", ex);
        }
    }

    [LoggerMessage(EventId = 10, EventName = "SessionCaptured", Level = LogLevel.Debug, Message = "EventPipe {Kind} capture: {ElapsedMs} ms, {Bytes} bytes")]
    private static partial void LogCaptured(ILogger logger, string kind, long elapsedMs, long bytes);

    [LoggerMessage(EventId = 11, EventName = "SessionStopFailed", Level = LogLevel.Warning, Message = "The EventPipe session did not stop cleanly")]
    private static partial void LogStopFailed(ILogger logger, Exception exception);
}
