using TraceProf.AspNetCore.Pyroscope;
using TraceProf.Profiles;

namespace TraceProf.AspNetCore.Tests.Pyroscope;

public sealed class PyroscopeProfilesTests
{
    private static readonly ProfileFrame Leaf = new("Shop.Pricing.Compute", "Shop");

    [Fact]
    public void ForUpload_PutsTheLocalRootInSpanId_DropsPerRequestLabels_AndMergesWhatNowAgrees()
    {
        var builder = new ProfileBuilder(WellKnownSampleTypes.CpuProfile, WellKnownSampleTypes.CpuProfileDefaultIndex) { Period = 1_000_000, PeriodType = WellKnownSampleTypes.Cpu };
        var stack = new[] { builder.InternFrame(Leaf) };
        // Two threads, two inner spans of one request: as uploaded they are one sample of the request's root span.
        builder.Add(stack, [1, 1_000_000, 1_000_000], [new("thread_id", "11"), new("trace_id", new string('a', 32)), new("span_id", "1111111111111111"), new("local_root_span_id", "0000000000000001"), new("http.route", "/orders")]);
        builder.Add(stack, [2, 2_000_000, 2_000_000], [new("thread_id", "12"), new("trace_id", new string('a', 32)), new("span_id", "2222222222222222"), new("local_root_span_id", "0000000000000001"), new("http.route", "/orders")]);

        var upload = PyroscopeProfiles.ForUpload(builder.Build(), WellKnownSampleTypes.Cpu)!;

        Assert.Equal([WellKnownSampleTypes.Cpu], upload.SampleTypes);
        Assert.Equal(WellKnownSampleTypes.Cpu, upload.PeriodType);
        var sample = Assert.Single(upload.Samples);
        Assert.Equal([3_000_000L], sample.Values);
        Assert.Equal(
            [new ProfileLabel("http_route", "/orders"), new ProfileLabel("span_id", "0000000000000001")],
            sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void ForUpload_ColumnWithoutValues_IsLeftOut()
    {
        var builder = new ProfileBuilder(WellKnownSampleTypes.CpuProfile, WellKnownSampleTypes.CpuProfileDefaultIndex);
        builder.Add([builder.InternFrame(Leaf)], [1, 0, 1_000_000], []); // a waiting thread: wall, no cpu

        var profile = builder.Build();

        Assert.Null(PyroscopeProfiles.ForUpload(profile, WellKnownSampleTypes.Cpu));
        Assert.Equal(1_000_000, PyroscopeProfiles.ForUpload(profile, WellKnownSampleTypes.Wall)!.Total(0));
    }

    [Theory]
    [InlineData("http.route", "http_route")]
    [InlineData("tenant-id", "tenant_id")]
    [InlineData("1st", "_1st")]
    [InlineData("already_ok", "already_ok")]
    public void Sanitize_MakesPrometheusLabelNames(string name, string expected) => Assert.Equal(expected, PyroscopeLabels.Sanitize(name));
}
