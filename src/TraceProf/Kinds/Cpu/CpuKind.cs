using TraceProf.Attribution;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Cpu;

/// <summary>
/// The CPU kind: the runtime's thread sampler. Samples of threads running managed code count as CPU, every sample
/// as wall time; each stands for the effective sampling interval (<see cref="EffectiveSamplingInterval"/>).
/// </summary>
internal sealed class CpuKind : KindDefinition
{
    public override CaptureKind Kind => CaptureKind.Cpu;

    public override string Name => "cpu";

    public override bool UsesSampleProfiler => true;

    public override long RuntimeKeywords => 0;

    public override Profile? ParseStreaming(string nettracePath, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        EffectiveSamplingInterval.Apply(StreamingCpuProfileParser.Parse(nettracePath, options, labels, cancellationToken), options.SamplingInterval);

    public override Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) =>
        EffectiveSamplingInterval.Apply(CpuProfileParser.Parse(reader, options, labels, cancellationToken), options.SamplingInterval);
}
