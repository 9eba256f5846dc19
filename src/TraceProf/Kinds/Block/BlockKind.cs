using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Block;

/// <summary>
/// The block kind (Go's <c>block</c>): everything that blocked a thread — lock contention
/// (<c>ContentionStart/Stop</c>) plus blocking waits (<c>WaitHandleWaitStart/Stop</c>, .NET 9+). No sampler: a wait
/// profile must not pay for stopping the world. <c>contention</c> stays lock contention only (Go's <c>mutex</c>).
/// </summary>
internal sealed class BlockKind : KindDefinition
{
    public override CaptureKind Kind => CaptureKind.Block;

    public override string Name => "block";

    public override long RuntimeKeywords => RuntimeEvents.ContentionKeyword | RuntimeEvents.WaitHandleKeyword;

    public override Profile? ParseStreaming(string nettracePath, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        StreamingBlockProfileParser.Parse(nettracePath, options, labels, cancellationToken);

    // TraceEvent 3.2.8's CLR parser has no WaitHandleWait events, so the TraceLog path (taken only for a nettrace
    // layout the streaming reader does not decode) gives the lock-contention half of the profile and says so.
    public override Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        BlockProfileParser.ParseContentionOnly(reader, options, labels, cancellationToken);
}
