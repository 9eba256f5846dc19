using TraceProf.Attribution;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Exceptions;

/// <summary>
/// The exceptions kind: every first-chance exception (<c>ExceptionThrown_V1</c>, runtime keyword 0x8000) with the
/// stack it was thrown from. Not sampled: each throw is one event, so counts are exact while the session's buffer
/// keeps up.
/// </summary>
internal sealed class ExceptionsKind : KindDefinition
{
    public override CaptureKind Kind => CaptureKind.Exceptions;

    public override string Name => "exceptions";

    public override long RuntimeKeywords => RuntimeEvents.ExceptionKeyword;

    public override Profile? ParseStreaming(string nettracePath, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        StreamingExceptionProfileParser.Parse(nettracePath, options, labels, cancellationToken);

    public override Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        ExceptionProfileParser.Parse(reader, options, labels, cancellationToken);
}
