using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TraceProf.AspNetCore.Tests.Endpoints;
using TraceProf.AspNetCore.Tests.Infrastructure;
using PprofProfile = TraceProf.Encoding.Pprof.Profile;

namespace TraceProf.AspNetCore.Tests.Triggers;

/// <summary>The flight recorder's exceptions kind (issue 19): on by default, cut with a failed request's slice.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class FlightRecorderExceptionsTests
{
    private const int Thrown = 40;

    [Fact]
    public async Task FailedRequestThatThrewAndCaught_ItsSnapshotSetHasAnExceptionsProfileWithThemUnderItsTrace()
    {
        // The default kinds: exceptions are recorded without being asked for.
        await using var host = await TraceProfHost.StartAsync(options => options.FlightRecorder.Enabled = true, configureApp: app =>
            app.MapGet("/retrying", () =>
            {
                var caught = RecorderExceptionWorkload.RetryUntilItGivesUp(Thrown);
                return Results.Json(new { caught }, statusCode: StatusCodes.Status502BadGateway);
            }));
        Assert.Contains("exceptions", new TraceProfFlightRecorderOptions().Kinds, StringComparison.Ordinal);
        await FlightRecorderServiceTests.WaitUntilRecordingAsync(host.Client);

        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using (var response = await host.Client.SendAsync(Requests.Get("/retrying", traceparent: $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01")))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        var row = await FlightRecorderServiceTests.WaitForSnapshotAsync(host.Client, traceId, "exceptions");
        Assert.Equal("status:502", row.GetProperty("trigger").GetString());
        await FlightRecorderServiceTests.WaitForSnapshotAsync(host.Client, traceId, "cpu");

        using var download = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{row.GetProperty("id").GetString()}", "admin"));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var profile = CpuProfileEndpointTests.Decode(await download.Content.ReadAsByteArrayAsync());

        var type = typeof(RecorderFlakyDependencyException).Name;
        var ours = Samples(profile).Where(s => s.Labels.GetValueOrDefault("trace_id") == traceId).ToList();
        Assert.NotEmpty(ours);
        var ofType = ours.Where(s => s.Frames[0].Contains(type, StringComparison.Ordinal)).ToList();
        Assert.Equal(Thrown, ofType.Sum(s => s.Count));
        Assert.All(ofType, s => Assert.Equal("trace", s.Labels["scope"]));
        Assert.All(ofType, s => Assert.Contains(s.Frames, f => f.Contains(nameof(RecorderExceptionWorkload.CallTheFlakyDependency), StringComparison.Ordinal)));
        Assert.Contains(profile.Comment.Select(i => profile.StringTable[(int)i]), c => c.Contains("flight recorder exceptions profile: every one", StringComparison.Ordinal));

        using var index = await host.Client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
        using var doc = JsonDocument.Parse(await index.Content.ReadAsStringAsync());
        Assert.True(doc.RootElement.GetProperty("flightRecorder").GetProperty("exceptionsThrown").GetInt64() >= Thrown);
    }

    [Fact]
    public async Task ExceptionStorm_PausesRecording_HostKeepsServing_IndexShowsIt_ThenAFailedRequestAfterItHasItsExceptionsAgain()
    {
        using var storm = new CancellationTokenSource();
        await using var host = await TraceProfHost.StartAsync(
            options =>
            {
                options.FlightRecorder.Enabled = true;
                options.FlightRecorder.ExceptionStormPerSecond = 1000;
                options.FlightRecorder.ExceptionStormCooldownSeconds = 1;
            },
            configureApp: app =>
            {
                app.MapGet("/retrying", () =>
                {
                    var caught = RecorderExceptionWorkload.RetryUntilItGivesUp(Thrown);
                    return Results.Json(new { caught }, statusCode: StatusCodes.Status502BadGateway);
                });
                app.MapGet("/healthy", () => "ok");
            });
        await FlightRecorderServiceTests.WaitUntilRecordingAsync(host.Client);

        // A storm far over the bound on two threads; the host answers meanwhile.
        var throwers = Enumerable.Range(0, 2).Select(_ => Task.Run(() => RecorderExceptionWorkload.StormUntil(storm.Token))).ToList();
        try
        {
            await WaitForStormStateAsync(host.Client, "paused: storm");
            using var healthy = await host.Client.SendAsync(Requests.Get("/healthy"));
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
            var status = await StormStatusAsync(host.Client);
            Assert.True(status.GetProperty("pauses").GetInt32() >= 1);
            Assert.Equal(1000, status.GetProperty("boundPerSecond").GetInt32());
            Assert.NotEqual(JsonValueKind.Null, status.GetProperty("pausedSince").ValueKind);
        }
        finally
        {
            await storm.CancelAsync();
            await Task.WhenAll(throwers);
        }

        await WaitForStormStateAsync(host.Client, "recording");
        Assert.True((await StormStatusAsync(host.Client)).GetProperty("resumes").GetInt32() >= 1);

        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using (var response = await host.Client.SendAsync(Requests.Get("/retrying", traceparent: $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01")))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        }

        var row = await FlightRecorderServiceTests.WaitForSnapshotAsync(host.Client, traceId, "exceptions");
        using var download = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{row.GetProperty("id").GetString()}", "admin"));
        var profile = CpuProfileEndpointTests.Decode(await download.Content.ReadAsByteArrayAsync());
        var ofType = Samples(profile).Where(s => s.Labels.GetValueOrDefault("trace_id") == traceId && s.Frames[0].Contains(nameof(RecorderFlakyDependencyException), StringComparison.Ordinal)).ToList();
        Assert.Equal(Thrown, ofType.Sum(s => s.Count));
    }

    private static async Task<JsonElement> StormStatusAsync(HttpClient client)
    {
        using var index = await client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
        using var doc = JsonDocument.Parse(await index.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("flightRecorder").GetProperty("exceptionStorm").Clone();
    }

    private static async Task WaitForStormStateAsync(HttpClient client, string state)
    {
        var started = Stopwatch.GetTimestamp();
        while ((await StormStatusAsync(client)).GetProperty("state").GetString() != state)
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(60), $"the exception storm guard did not reach '{state}'");
            await Task.Delay(100);
        }
    }

    internal static IEnumerable<(string[] Frames, Dictionary<string, string> Labels, long Count)> Samples(PprofProfile profile)
    {
        string S(long i) => profile.StringTable[(int)i];
        var names = profile.Function.ToDictionary(f => f.Id, f => S(f.Name));
        var locations = profile.Location.ToDictionary(l => l.Id, l => names[l.Line[0].FunctionId]);
        return profile.Sample.Select(s => (
            s.LocationId.Select(id => locations[id]).ToArray(),
            s.Label.Where(l => l.Str != 0).GroupBy(l => S(l.Key)).ToDictionary(g => g.Key, g => S(g.First().Str)),
            s.Value[0]));
    }
}

/// <summary>Thrown and caught by <see cref="RecorderExceptionWorkload"/>; no other code has it.</summary>
internal sealed class RecorderFlakyDependencyException(string message) : Exception(message)
{
    public RecorderFlakyDependencyException()
        : this("flaky")
    {
    }

    public RecorderFlakyDependencyException(string message, Exception inner)
        : this(message + inner.Message)
    {
    }
}

internal static class RecorderExceptionWorkload
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int RetryUntilItGivesUp(int attempts)
    {
        var caught = 0;
        for (var i = 0; i < attempts; i++)
        {
            try
            {
                CallTheFlakyDependency(i);
            }
            catch (RecorderFlakyDependencyException)
            {
                caught++;
            }
        }

        return caught;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void StormUntil(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                throw new InvalidOperationException("storm");
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void CallTheFlakyDependency(int attempt) => throw new RecorderFlakyDependencyException("attempt " + attempt);
}
