using System.Diagnostics;
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.Logging;
using TraceProf.Capture;
using TraceProf.Parsing;
using TraceProf.Parsing.Streaming;

namespace TraceProf.Recording;

/// <summary>
/// The flight recorder's method names: one address table fed by the live session's load events and by rundowns
/// (a session that stops at once, for code loaded before the recorder started or run for the first time since),
/// frozen for each cut.
/// </summary>
#pragma warning disable CA1001 // The gate is a SemaphoreSlim whose wait handle is never asked for: nothing to dispose.
internal sealed partial class RecorderMethodNames(TimeProvider time, ILogger logger)
#pragma warning restore CA1001
{
    // A rundown costs the runtime a few hundred milliseconds in a large app; new code needs one rarely after warm-up.
    private static readonly TimeSpan RundownInterval = TimeSpan.FromSeconds(5);
    private const int MaxNativeAddresses = 100_000;

    private readonly MethodAddressTable _methods = new() { OfThisProcess = true };
    private readonly Lock _methodsLock = new();
    private readonly SemaphoreSlim _rundownGate = new(1, 1);
    private readonly HashSet<ulong> _nativeAddresses = [];
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;
    private long _lastRundown;
    private int _rundowns;

    /// <summary>Gets how many rundowns have run (one at start, more when new code needed names).</summary>
    public int Rundowns => Volatile.Read(ref _rundowns);

    /// <summary>Gets how many methods the table names.</summary>
    public int Count
    {
        get
        {
            lock (_methodsLock)
            {
                return _methods.Count;
            }
        }
    }

    /// <summary>A decoder that adds the load events it reads to this table (and, with a ring, records into it).</summary>
    /// <param name="ring">Where samples go; null for a decoder that only reads names (a rundown).</param>
    /// <param name="starvation">Where thread-pool adjustment events go, or null to skip them.</param>
    /// <returns>The handler.</returns>
    public RecordingHandler NewHandler(SampleRing? ring, ThreadPoolStarvation? starvation = null) => new(ring, _methods, _methodsLock, starvation);

    /// <summary>
    /// A method table (only the methods the stacks meet) that names as many of the stacks' addresses as it can. Ready-to-run code that runs
    /// for the first time after the start-up rundown raises no load event, so an address no method covers
    /// triggers another rundown — at most one per <see cref="RundownInterval"/>; addresses a rundown could not
    /// name either (native code) are remembered and never trigger one again.
    /// </summary>
    /// <param name="stacks">The stacks to name.</param>
    /// <param name="cancellationToken">Cancels the wait for a rundown.</param>
    /// <param name="native">
    /// The process's native code mappings (perf_event stacks hold native frames): an address in a native library never
    /// triggers a rundown, which could not name it. Null where stacks are managed only (EventPipe's).
    /// </param>
    public async Task<MethodAddressTable> NamingAsync(RawStacks stacks, CancellationToken cancellationToken, NativeFrameNames? native = null)
    {
        var methods = MethodsOf(stacks);
        var unknown = Unresolved(methods, stacks, native);
        if (unknown.Count == 0)
        {
            return methods;
        }

        await _rundownGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The interval runs between these on-demand rundowns only: the first cut after the start, which often
            // meets code that first ran for that very request, always gets one.
            if (_lastRundown != 0 && _time.GetElapsedTime(_lastRundown) < RundownInterval)
            {
                return methods; // named at the next cut that may run one
            }

            _lastRundown = _time.GetTimestamp();
            await ReadRundownAsync(cancellationToken).ConfigureAwait(false);
            methods = MethodsOf(stacks);
            lock (_nativeAddresses)
            {
                foreach (var address in Unresolved(methods, stacks, native))
                {
                    if (_nativeAddresses.Count < MaxNativeAddresses)
                    {
                        _nativeAddresses.Add(address);
                    }
                }
            }

            return methods;
        }
        finally
        {
            _rundownGate.Release();
        }
    }

    // Only the methods the cut's stacks meet: a cut allocates in proportion to what it cuts, not to the table.
    private MethodAddressTable MethodsOf(RawStacks stacks)
    {
        lock (_methodsLock)
        {
            return _methods.Subset(stacks);
        }
    }

    private List<ulong> Unresolved(MethodAddressTable methods, RawStacks stacks, NativeFrameNames? native)
    {
        var unknown = new List<ulong>();
        var seen = new HashSet<ulong>();
        lock (_nativeAddresses)
        {
            for (var i = 0; i < stacks.Count; i++)
            {
                foreach (var address in stacks.Get(i))
                {
                    if (seen.Add(address) && !_nativeAddresses.Contains(address) && !methods.TryResolve(address, out _, out _) && !InNativeLibrary(native, address))
                    {
                        unknown.Add(address);
                    }
                }
            }
        }

        return unknown;
    }

    // Ready-to-run code is mapped from its .dll and named by a rundown; code in any other mapped file is native.
    private static bool InNativeLibrary(NativeFrameNames? native, ulong address) =>
        native is not null && native.Resolve(address, out _, out var module) && !module.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);

    public async Task ReadRundownAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _rundowns);

        // The runtime provider with no keywords: the session exists only for the rundown its stop produces.
        var session = await EventPipeCaptureSource.StartSessionAsync([new EventPipeProvider(RuntimeEvents.RuntimeProvider, EventLevel.Informational, 0)], requestRundown: true, _time, cancellationToken).ConfigureAwait(false);
        var handler = NewHandler(ring: null);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The reader owns the session: it disposes it once the stream has ended, never while the runtime still
        // writes the rundown into it. Closing a session's stream under a stop in progress wedged the runtime's
        // EventPipe in a test run (a spinning EventPipe thread, the diagnostics server no longer answering).
        var read = new Thread(() =>
        {
            try
            {
                new NettraceReader(session.EventStream, "flight recorder rundown").Read(handler, CancellationToken.None);
            }
#pragma warning disable CA1031 // A thread's exception would end the process; a rundown that fails only leaves frames unnamed.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogRundownFailed(_logger, ex);
            }
            finally
            {
                session.Dispose();
                done.TrySetResult();
            }
        })
        {
            IsBackground = true,
            Name = "TraceProf rundown",
        };
        read.Start();

        // Stop is waited for in full (bounded) even when the caller gives up, so no stop is ever left half-done;
        // a cancelled caller stops waiting for the names, the rundown completes on its own.
        try
        {
            await Task.Run(() => EventPipeCaptureSource.StopSession(session), CancellationToken.None).WaitAsync(EventPipeCaptureSource.StopTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or ServerNotAvailableException)
        {
            LogRundownFailed(_logger, ex);
            return;
        }

        await done.Task.WaitAsync(EventPipeCaptureSource.StopTimeout, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 43, EventName = "FlightRecorderRundownFailed", Level = LogLevel.Warning,
        Message = "A flight-recorder rundown failed; some frames may stay unnamed")]
    private static partial void LogRundownFailed(ILogger logger, Exception exception);
}
