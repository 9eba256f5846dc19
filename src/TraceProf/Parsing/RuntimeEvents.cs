namespace TraceProf.Parsing;

/// <summary>
/// The runtime's event vocabulary as TraceProf uses it: provider names, keywords and event ids. The only place
/// they are written; <c>Kinds/KindProviders</c> builds sessions from them and the decoders classify events by them.
/// </summary>
/// <remarks>Numbers as the runtime's manifest (ClrEtwAll.man) gives them.</remarks>
internal static class RuntimeEvents
{
    /// <summary>The runtime's sampling profiler: one event per managed thread per tick, with its stack.</summary>
    public const string SampleProfilerProvider = "Microsoft-DotNETCore-SampleProfiler";

    /// <summary>The runtime provider.</summary>
    public const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";

    /// <summary>The rundown provider: the events a session's stop writes to name code loaded before it started.</summary>
    public const string RundownProvider = "Microsoft-Windows-DotNETRuntimeRundown";

    /// <summary>GC events; at Verbose also <c>GCAllocationTick</c>.</summary>
    public const long GcKeyword = 0x1;

    /// <summary>Loader (0x8) | Jit (0x10) | NGen (0x20): method and module load events, so stacks can be named.</summary>
    public const long MethodNameKeywords = 0x8 | 0x10 | 0x20;

    /// <summary>
    /// JittedMethodILToNativeMap: a <c>MethodILToNativeMap</c> event after each method's load event, so frames get
    /// source lines. The same bit on the rundown provider (part of the default rundown keywords) gives the maps of code
    /// jitted before the session.
    /// </summary>
    public const long ILToNativeMapKeyword = 0x2_0000;

    /// <summary><c>ContentionStart</c> / <c>ContentionStop</c>.</summary>
    public const long ContentionKeyword = 0x4000;

    /// <summary>Exception events.</summary>
    public const long ExceptionKeyword = 0x8000;

    /// <summary>
    /// Threading: the thread pool's worker-thread events, among them <c>ThreadPoolWorkerThreadAdjustmentAdjustment</c>
    /// (Informational; the Verbose level adds per-item events that an always-on listener must not pay for).
    /// </summary>
    public const long ThreadingKeyword = 0x1_0000;

    /// <summary>
    /// .NET 9's <c>WaitHandleWaitStart</c> / <c>WaitHandleWaitStop</c> (Verbose): every blocking wait of a managed thread
    /// on a wait handle or in <c>Monitor.Wait</c> (so also <c>Task.Wait</c>, <c>.Result</c>, <c>ManualResetEventSlim</c>,
    /// <c>SemaphoreSlim.Wait</c>). Older runtimes ignore the keyword.
    /// </summary>
    public const long WaitHandleKeyword = 0x400_0000_0000;

    /// <summary>
    /// .NET 10's randomized allocation sampling (<c>AllocationSampled</c>); runtimes without it ignore the keyword,
    /// and the GC keyword at Verbose then yields <c>GCAllocationTick</c> instead (one or the other, never both).
    /// </summary>
    public const long AllocationSamplingKeyword = 0x800_0000_0000;

    /// <summary>Runtime provider: <c>ContentionStart</c>.</summary>
    public const int ContentionStart = 81;

    /// <summary>Runtime provider: <c>ContentionStop</c>.</summary>
    public const int ContentionStop = 91;

    /// <summary>Runtime provider: <c>MethodLoadVerbose</c>; rundown provider: <c>MethodDCStartVerbose</c>.</summary>
    public const int MethodLoadVerbose = 143;

    /// <summary>Runtime provider: <c>MethodUnloadVerbose</c>; rundown provider: <c>MethodDCEndVerbose</c>.</summary>
    public const int MethodUnloadVerbose = 144;

    /// <summary>Runtime provider: <c>MethodILToNativeMap</c>.</summary>
    public const int MethodILToNativeMap = 190;

    /// <summary>Rundown provider: <c>MethodDCStartILToNativeMap</c>.</summary>
    public const int MethodDCStartILToNativeMap = 149;

    /// <summary>Rundown provider: <c>MethodDCEndILToNativeMap</c>.</summary>
    public const int MethodDCEndILToNativeMap = 150;

    /// <summary>Runtime provider: <c>ModuleLoad</c>.</summary>
    public const int ModuleLoad = 152;

    /// <summary>Rundown provider: <c>ModuleDCStart</c> (154 is <c>ModuleDCEnd</c>).</summary>
    public const int ModuleDCStart = 153;

    /// <summary>Rundown provider: <c>ModuleDCEnd</c>.</summary>
    public const int ModuleDCEnd = 154;

    /// <summary>
    /// Runtime provider: <c>ThreadPoolWorkerThreadAdjustmentAdjustment</c>: AverageThroughput (double),
    /// NewWorkerThreadCount (uint32), Reason (uint32, <see cref="ThreadAdjustmentReason"/>), ClrInstanceID (uint16).
    /// </summary>
    public const int ThreadPoolWorkerThreadAdjustmentAdjustment = 55;

    /// <summary>Runtime provider: <c>WaitHandleWaitStart</c>: WaitSource (uint8), AssociatedObjectID (pointer), ClrInstanceID (uint16).</summary>
    public const int WaitHandleWaitStart = 301;

    /// <summary>Runtime provider: <c>WaitHandleWaitStop</c>: ClrInstanceID (uint16); the wait is the time since its start.</summary>
    public const int WaitHandleWaitStop = 302;

    /// <summary><c>WaitHandleWaitStart</c>'s WaitSource map: 0 Unknown (every wait that is not <c>Monitor.Wait</c>), 1 MonitorWait.</summary>
    public const byte WaitSourceMonitorWait = 1;

    /// <summary>Runtime provider: <c>AllocationSampled</c> (.NET 10).</summary>
    public const int AllocationSampled = 303;

    /// <summary>Runtime provider: <c>ExceptionThrown_V1</c> (keyword <see cref="ExceptionKeyword"/>, level Warning).</summary>
    public const int ExceptionThrown = 80;

    /// <summary>Sample profiler: <c>ThreadSample</c>.</summary>
    public const int ThreadSample = 0;
}

/// <summary>The runtime's ThreadAdjustmentReasonMap: why the thread pool changed its worker count.</summary>
internal enum ThreadAdjustmentReason : uint
{
    /// <summary>Warm-up.</summary>
    Warmup = 0,

    /// <summary>Initialising.</summary>
    Initializing = 1,

    /// <summary>Hill climbing: a random move.</summary>
    RandomMove = 2,

    /// <summary>Hill climbing: a climbing move.</summary>
    ClimbingMove = 3,

    /// <summary>Hill climbing: a change point.</summary>
    ChangePoint = 4,

    /// <summary>Hill climbing: stabilising.</summary>
    Stabilizing = 5,

    /// <summary>The gate thread saw queued work and no progress: workers blocked in ways the pool was not told of (Thread.Sleep, WaitOne).</summary>
    Starvation = 6,

    /// <summary>A worker timed out.</summary>
    ThreadTimedOut = 7,

    /// <summary>A worker blocked in a wait the pool is told of (Task.Wait, .Result: sync-over-async), up or down again.</summary>
    CooperativeBlocking = 8,
}
