using TraceProf.Attribution;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Threads;

/// <summary>The threads kind: a very short sampler session; each thread's first tick is its stack now.</summary>
internal sealed class ThreadsKind : KindDefinition
{
    public override CaptureKind Kind => CaptureKind.Threads;

    public override string Name => "threads";

    public override bool UsesSampleProfiler => true;

    public override long RuntimeKeywords => 0;

    public override bool StoresNettrace => false;

    public override Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        ThreadStacksParser.Parse(reader, options, labels, cancellationToken);
}
