using TraceProf.Kinds;
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

    /// <summary><c>ContentionStart</c> / <c>ContentionStop</c>.</summary>
    public const long ContentionKeyword = 0x4000;

    /// <summary>Exception events.</summary>
    public const long ExceptionKeyword = 0x8000;

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

    /// <summary>Runtime provider: <c>ModuleLoad</c>.</summary>
    public const int ModuleLoad = 152;

    /// <summary>Rundown provider: <c>ModuleDCStart</c> (154 is <c>ModuleDCEnd</c>).</summary>
    public const int ModuleDCStart = 153;

    /// <summary>Rundown provider: <c>ModuleDCEnd</c>.</summary>
    public const int ModuleDCEnd = 154;

    /// <summary>Runtime provider: <c>AllocationSampled</c> (.NET 10).</summary>
    public const int AllocationSampled = 303;

    /// <summary>Runtime provider: <c>ExceptionThrown_V1</c> (keyword <see cref="ExceptionKeyword"/>, level Warning).</summary>
    public const int ExceptionThrown = 80;

    /// <summary>Sample profiler: <c>ThreadSample</c>.</summary>
    public const int ThreadSample = 0;
}
