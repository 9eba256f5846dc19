using TraceProf.Parsing.Streaming;

namespace TraceProf.Kinds.Block;

/// <summary>What a thread blocked in: the <c>wait_source</c> label of a block profile.</summary>
internal enum BlockWaitSource : byte
{
    /// <summary>Lock contention (<c>ContentionStart/Stop</c>): <c>lock</c>, <c>Monitor.Enter</c>, <c>System.Threading.Lock</c>.</summary>
    Lock,

    /// <summary>
    /// A wait on a wait handle: the runtime's WaitSource <c>Unknown</c>, which it gives every wait that is not
    /// <c>Monitor.Wait</c> (<c>WaitHandle.WaitOne</c>/<c>WaitAny</c>, the thread pool's and timer's own waits).
    /// </summary>
    WaitHandle,

    /// <summary><c>Monitor.Wait</c>, and what waits through it: <c>Task.Wait</c>, <c>.Result</c>, <c>ManualResetEventSlim</c>, <c>SemaphoreSlim.Wait</c>.</summary>
    MonitorWait,

    /// <summary>A WaitSource value this version does not know (a newer runtime's).</summary>
    Unknown,
}

/// <summary>Names and runtime values of <see cref="BlockWaitSource"/>, and which threads are the pool's.</summary>
internal static class BlockWaits
{
    /// <summary>The label naming what a thread blocked in.</summary>
    public const string WaitSourceLabel = "wait_source";

    /// <summary>The label saying whether the blocked thread was a thread-pool worker (the sync-over-async smell).</summary>
    public const string ThreadPoolLabel = "threadpool";

    /// <summary>
    /// The OS name of a thread-pool worker on Linux (.NET 8+; <c>/proc/self/task/&lt;tid&gt;/comm</c>, at most 15
    /// characters). Measured on .NET 10: workers are <c>.NET TP Worker</c>, the pool's gate <c>.NET TP Gate</c>.
    /// </summary>
    public const string ThreadPoolWorkerName = ".NET TP Worker";

    /// <summary>The method a pool worker's stack starts in (above the runtime's <c>Thread.StartCallback</c>).</summary>
    public const string PoolWorkerStartMethod = "System.Threading.PortableThreadPool+WorkerThread.WorkerThreadStart";

    // The thread's start is the outermost frame or next to it; a few more allow for frames a runtime version adds.
    private const int OutermostFramesToCheck = 8;

    // Threads that wait by design, between their own events: the runtime's timer thread and the pool's gate thread
    // (each waits all the time), Kestrel's heartbeat timer, and TraceProf's own readers of its EventPipe sessions. Their waits would lead every
    // block profile and are nobody's to fix, so the feeds leave them out and count them in a comment.
    private static readonly string[] ServiceThreadMethods =
    [
        "System.Threading.TimerQueue.TimerThread",
        "System.Threading.PortableThreadPool+GateThread.GateThreadStart",
        "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Infrastructure.Heartbeat.TimerLoop",
        "TraceProf.Capture.",
        "TraceProf.Recording.",
    ];

    /// <summary>The source of a <c>WaitHandleWaitStart</c> by its WaitSource payload byte.</summary>
    /// <param name="waitSource">The runtime's value.</param>
    /// <returns>The source.</returns>
    public static BlockWaitSource FromRuntime(byte waitSource) => waitSource switch
    {
        0 => BlockWaitSource.WaitHandle,
        Parsing.RuntimeEvents.WaitSourceMonitorWait => BlockWaitSource.MonitorWait,
        _ => BlockWaitSource.Unknown,
    };

    /// <summary>The label value of a source.</summary>
    /// <param name="source">The source.</param>
    /// <returns><c>lock</c>, <c>wait-handle</c>, <c>monitor-wait</c> or <c>unknown</c>.</returns>
    public static string Name(BlockWaitSource source) => source switch
    {
        BlockWaitSource.Lock => "lock",
        BlockWaitSource.WaitHandle => "wait-handle",
        BlockWaitSource.MonitorWait => "monitor-wait",
        _ => "unknown",
    };

    /// <summary>
    /// Where a raw stack (leaf first) runs, from the thread's start at its outermost frames. Needs no thread name, so
    /// it holds for threads that have exited and for files read elsewhere; a stack cut short by the runtime's depth
    /// limit does not reach the start and is neither.
    /// </summary>
    /// <param name="methods">Names of the trace's code.</param>
    /// <param name="addresses">The stack.</param>
    /// <returns>The thread's role.</returns>
    public static WaiterThread ThreadOf(MethodAddressTable methods, ReadOnlySpan<ulong> addresses)
    {
        for (var i = addresses.Length - 1; i >= Math.Max(0, addresses.Length - OutermostFramesToCheck); i--)
        {
            if (!methods.TryResolve(addresses[i], out var name, out _))
            {
                continue;
            }

            if (name.StartsWith(PoolWorkerStartMethod, StringComparison.Ordinal))
            {
                return WaiterThread.PoolWorker;
            }

            if (Array.Exists(ServiceThreadMethods, m => name.StartsWith(m, StringComparison.Ordinal)))
            {
                return WaiterThread.Service;
            }
        }

        return WaiterThread.Other;
    }

    /// <summary>Whether a thread of this name is a thread-pool worker.</summary>
    /// <param name="threadName">The OS thread name, or null when unknown.</param>
    /// <returns>Null when the name is unknown.</returns>
    public static bool? IsThreadPoolWorker(string? threadName) =>
        threadName is null ? null : string.Equals(threadName, ThreadPoolWorkerName, StringComparison.Ordinal);
}

/// <summary>The role of a waiting thread, from where its stack starts.</summary>
internal enum WaiterThread : byte
{
    /// <summary>Neither of the others (or a stack that does not reach the thread's start).</summary>
    Other,

    /// <summary>A thread-pool worker.</summary>
    PoolWorker,

    /// <summary>A thread that waits by design: the runtime's timer or pool gate, or TraceProf's own session readers.</summary>
    Service,
}
