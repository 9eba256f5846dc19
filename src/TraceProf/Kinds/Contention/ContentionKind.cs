using TraceProf.Attribution;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Contention;

/// <summary>The contention kind: <c>ContentionStart</c> with the waiting stack, <c>ContentionStop</c> with the wait.</summary>
internal sealed class ContentionKind : KindDefinition
{
    public override CaptureKind Kind => CaptureKind.Contention;

    public override string Name => "contention";

    public override long RuntimeKeywords => RuntimeEvents.ContentionKeyword;

    public override Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        ContentionProfileParser.Parse(reader, labels, cancellationToken);
}
