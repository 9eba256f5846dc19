using System.Diagnostics;
using OpenTelemetry.Trace;
using TraceProf.AspNetCore.OpenTelemetry;

namespace TraceProf.AspNetCore.Tests.OpenTelemetry;

/// <summary>The sampler wrapper's mapping of the inner sampler's decision.</summary>
public sealed class ErrorForcingSamplerTests
{
    private static readonly KeyValuePair<string, object>[] InnerAttributes = [new("sampler.rule", "checkout")];

    [Fact]
    public void Sampler_InnerDrops_ReturnsRecordOnly()
    {
        var sampler = new ErrorForcingSampler(new AlwaysOffSampler());

        Assert.Equal(SamplingDecision.RecordOnly, sampler.ShouldSample(RootParameters()).Decision);
    }

    [Theory]
    [InlineData(SamplingDecision.RecordOnly)]
    [InlineData(SamplingDecision.RecordAndSample)]
    public void Sampler_InnerRecords_DecisionIsKept(SamplingDecision decision)
    {
        var sampler = new ErrorForcingSampler(new FixedSampler(new SamplingResult(decision, InnerAttributes, "vendor=b")));

        var result = sampler.ShouldSample(RootParameters());

        Assert.Equal(decision, result.Decision);
        Assert.Equal(InnerAttributes, result.Attributes);
        Assert.Equal("vendor=b", result.TraceStateString);
    }

    [Fact]
    public void Sampler_InnerDrops_KeepsItsAttributesAndTraceState()
    {
        var sampler = new ErrorForcingSampler(new FixedSampler(new SamplingResult(SamplingDecision.Drop, InnerAttributes, "vendor=a")));

        var result = sampler.ShouldSample(RootParameters());

        Assert.Equal(SamplingDecision.RecordOnly, result.Decision);
        Assert.Equal(InnerAttributes, result.Attributes);
        Assert.Equal("vendor=a", result.TraceStateString);
    }

    [Fact]
    public void Sampler_InnerDropsWithoutTraceState_LeavesTraceStateAlone()
    {
        // null means "do not change the trace state"; an empty string would clear it.
        var sampler = new ErrorForcingSampler(new AlwaysOffSampler());

        Assert.Null(sampler.ShouldSample(RootParameters()).TraceStateString);
    }

    [Fact]
    public void Sampler_ParentBasedInner_ChildOfUnsampledRemoteParentIsRecordOnly()
    {
        var sampler = new ErrorForcingSampler(new ParentBasedSampler(new AlwaysOnSampler()));
        var parent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);

        var result = sampler.ShouldSample(new SamplingParameters(parent, parent.TraceId, "GET /", ActivityKind.Server));

        Assert.Equal(SamplingDecision.RecordOnly, result.Decision);
    }

    [Fact]
    public void Sampler_ParentBasedInner_ChildOfSampledRemoteParentIsSampled()
    {
        var sampler = new ErrorForcingSampler(new ParentBasedSampler(new AlwaysOffSampler()));
        var parent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);

        var result = sampler.ShouldSample(new SamplingParameters(parent, parent.TraceId, "GET /", ActivityKind.Server));

        Assert.Equal(SamplingDecision.RecordAndSample, result.Decision);
    }

    [Fact]
    public void Sampler_Description_NamesTheInnerSampler()
    {
        var inner = new TraceIdRatioBasedSampler(0.25);

        Assert.Contains(inner.Description, new ErrorForcingSampler(inner).Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Sampler_Dispose_DisposesADisposableInner()
    {
        var inner = new FixedSampler(new SamplingResult(SamplingDecision.Drop));

        new ErrorForcingSampler(inner).Dispose();

        Assert.True(inner.Disposed);
    }

    private static SamplingParameters RootParameters() =>
        new(default, ActivityTraceId.CreateRandom(), "GET /", ActivityKind.Server);

    private sealed class FixedSampler(SamplingResult result) : Sampler, IDisposable
    {
        public bool Disposed { get; private set; }

        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) => result;

        public void Dispose() => Disposed = true;
    }
}
