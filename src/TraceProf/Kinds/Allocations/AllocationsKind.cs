using TraceProf.Attribution;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Allocations;

/// <summary>The allocations kind: .NET 10's <c>AllocationSampled</c> (older runtimes: <c>GCAllocationTick</c>).</summary>
internal sealed class AllocationsKind : KindDefinition
{
    public override CaptureKind Kind => CaptureKind.Allocations;

    public override string Name => "allocs";

    // Runtimes without allocation sampling ignore its keyword; GC at Verbose then yields GCAllocationTick instead
    // (the runtime emits one or the other, never both).
    public override long RuntimeKeywords => Environment.Version.Major >= 10 ? RuntimeEvents.AllocationSamplingKeyword : RuntimeEvents.GcKeyword;

    public override Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        AllocationProfileParser.Parse(reader, labels, cancellationToken);
}
