using System.Net;
using System.Text.Json;
using TraceProf.AspNetCore.Tests.Endpoints;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.AspNetCore.Triggers;
using static TraceProf.AspNetCore.Tests.Triggers.FlightRecorderServiceTests;

namespace TraceProf.AspNetCore.Tests.Triggers;

/// <summary>
/// TraceProf:FlightRecorder:EventPipeCpu = armed through a real host: the first failure arms EventPipe's CPU sampler
/// (its own snapshot has none of its CPU), the next failure's snapshot has its hot method; the index says so.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class FlightRecorderArmedCpuTests
{
    private const string HotMethod = nameof(FlightRecorderWorkload.ComputeDistinctiveChecksum);

    [Fact]
    public async Task ArmedCpu_FirstFailureArms_TheNextFailureHasItsCpu_AndTheIndexShowsTheState()
    {
        await using var host = await TraceProfHost.StartAsync(
            options =>
            {
                options.FlightRecorder.Enabled = true;
                options.Cpu.Sampler = "eventpipe";
                options.FlightRecorder.EventPipeCpu = "armed";
                options.FlightRecorder.EventPipeCpuArmedMinutes = 2;
            },
            configureApp: MapWorkload);
        await WaitUntilRecordingAsync(host.Client);
        var before = await ArmedStateAsync(host.Client);
        Assert.Equal("armed", before.GetProperty("mode").GetString());
        Assert.False(before.GetProperty("armed").GetBoolean());
        Assert.Equal(0, before.GetProperty("arms").GetInt64());

        // The first failure: nothing sampled its CPU (the sampler was armed after it ended); the snapshot says why.
        var first = await SendAsync(host.Client, "/fail?ms=300");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.Status);
        var firstProfile = await DownloadAsync(host.Client, (await WaitForSnapshotAsync(host.Client, first.TraceId, "cpu")).GetProperty("id").GetString()!);
        Assert.DoesNotContain(Samples(firstProfile), s => s.Labels.GetValueOrDefault("trace_id") == first.TraceId && s.Frames.Any(f => f.Contains(HotMethod, StringComparison.Ordinal)));
        Assert.Contains(Comments(firstProfile), c => c.Contains("TraceProf:FlightRecorder:EventPipeCpu = armed", StringComparison.Ordinal));

        var armed = await ArmedStateAsync(host.Client);
        Assert.True(armed.GetProperty("armed").GetBoolean());
        Assert.Equal(1, armed.GetProperty("arms").GetInt64());
        Assert.Equal(2, armed.GetProperty("armedMinutes").GetDouble());

        // The incident's next failure is sampled, under its trace.
        var second = await SendAsync(host.Client, "/fail?ms=300");
        var secondProfile = await DownloadAsync(host.Client, (await WaitForSnapshotAsync(host.Client, second.TraceId, "cpu")).GetProperty("id").GetString()!);
        Assert.Contains(Samples(secondProfile), s => s.Labels.GetValueOrDefault("trace_id") == second.TraceId && s.Frames.Any(f => f.Contains(HotMethod, StringComparison.Ordinal)));
        Assert.Contains(Comments(secondProfile), c => c.StartsWith("CPU sampled for", StringComparison.Ordinal));
        Assert.Equal(1, (await ArmedStateAsync(host.Client)).GetProperty("arms").GetInt64());
    }

    [Theory]
    [InlineData("auto", "auto", null, true)]
    [InlineData("auto", "eventpipe", null, false)]
    [InlineData("auto", "auto", "http://127.0.0.1:4040", false)]
    [InlineData("armed", "eventpipe", null, true)]
    [InlineData("ARMED", "auto", "http://127.0.0.1:4040", true)]
    [InlineData("always", "auto", null, false)]
    public void EventPipeCpu_Setting_DecidesWhetherTheSamplerIsArmed(string eventPipeCpu, string sampler, string? pyroscope, bool armed)
    {
        var options = new TraceProfOptions();
        options.FlightRecorder.EventPipeCpu = eventPipeCpu;
        options.Cpu.Sampler = sampler;
        options.Pyroscope.Url = pyroscope;
        Assert.Equal(armed, FlightRecorderService.ArmsEventPipeCpu(options));
    }

    [Fact]
    public async Task EventPipeCpu_BadValue_FailsStartWithItsName()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TraceProfHost.StartAsync(configureBuilder: builder => builder.Configuration["TraceProf:FlightRecorder:EventPipeCpu"] = "sometimes"));
        Assert.Contains("TraceProf:FlightRecorder:EventPipeCpu must be auto, always or armed; got 'sometimes'", error.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<string> Comments(Encoding.Pprof.Profile profile) => profile.Comment.Select(i => profile.StringTable[(int)i]);

    private static async Task<JsonElement> ArmedStateAsync(HttpClient client)
    {
        using var index = await client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
        using var doc = JsonDocument.Parse(await index.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("flightRecorder").GetProperty("eventPipeCpu").Clone();
    }
}
