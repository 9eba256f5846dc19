using Microsoft.Extensions.Configuration;
using OpenTelemetry.Trace;
using TraceProf.AspNetCore.OpenTelemetry;

namespace TraceProf.AspNetCore.Tests.OpenTelemetry;

/// <summary>Without an inner sampler, the wrapper wraps what the SDK would have chosen from OTEL_TRACES_SAMPLER.</summary>
public sealed class ConfiguredSamplerTests
{
    [Theory]
    [InlineData(null, null, "ParentBased{AlwaysOnSampler}")]
    [InlineData("parentbased_always_on", null, "ParentBased{AlwaysOnSampler}")]
    [InlineData("always_on", null, "AlwaysOnSampler")]
    [InlineData("ALWAYS_OFF", null, "AlwaysOffSampler")]
    [InlineData("parentbased_always_off", null, "ParentBased{AlwaysOffSampler}")]
    [InlineData("traceidratio", "0.25", "TraceIdRatioBasedSampler{0.250000}")]
    [InlineData("parentbased_traceidratio", "0.1", "ParentBased{TraceIdRatioBasedSampler{0.100000}}")]
    public void ConfiguredSampler_ReadsOtelTracesSampler(string? name, string? argument, string description)
    {
        Assert.Equal(description, ConfiguredSampler.Create(Configuration(name, argument)).Description);
    }

    [Theory]
    [InlineData("traceidratio", null)]
    [InlineData("traceidratio", "1.5")]
    [InlineData("traceidratio", "ten percent")]
    public void ConfiguredSampler_MissingOrInvalidRatio_MeansOne(string name, string? argument)
    {
        Assert.Equal("TraceIdRatioBasedSampler{1.000000}", ConfiguredSampler.Create(Configuration(name, argument)).Description);
    }

    [Fact]
    public void ConfiguredSampler_UnknownName_FallsBackToTheSdkDefault()
    {
        Assert.Equal("ParentBased{AlwaysOnSampler}", ConfiguredSampler.Create(Configuration("jaeger_remote", null)).Description);
    }

    [Fact]
    public void ConfiguredSampler_NoConfiguration_FallsBackToTheSdkDefault()
    {
        Assert.IsType<ParentBasedSampler>(ConfiguredSampler.Create(null));
    }

    private static IConfiguration Configuration(string? name, string? argument) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                [ConfiguredSampler.SamplerKey] = name,
                [ConfiguredSampler.SamplerArgKey] = argument,
            })
            .Build();
}
