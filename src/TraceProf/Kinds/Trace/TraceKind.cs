using TraceProf.Attribution;
using TraceProf.Kinds.Cpu;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Trace;

/// <summary>
/// The raw-trace kind, for PerfView and friends: CPU samples plus GC, exception and contention events. Its profile
/// is the CPU profile of the capture; the raw file is what users come for.
/// </summary>
internal sealed class TraceKind : KindDefinition
{
    private static readonly CpuKind Cpu = new();

    public override CaptureKind Kind => CaptureKind.Trace;

    public override string Name => "trace";

    public override bool UsesSampleProfiler => true;

    // One provider entry per name: the level is shared, so GC at Verbose also brings GCAllocationTick.
    public override long RuntimeKeywords => RuntimeEvents.GcKeyword | RuntimeEvents.ContentionKeyword | RuntimeEvents.ExceptionKeyword;

    public override Profile? ParseStreaming(string nettracePath, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        Cpu.ParseStreaming(nettracePath, options, labels, cancellationToken);

    public override Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        Cpu.Parse(reader, options, labels, cancellationToken);
}
