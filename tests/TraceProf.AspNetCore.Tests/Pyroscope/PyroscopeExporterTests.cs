using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using TraceProf.AspNetCore.Pyroscope;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.AspNetCore.Tests.Triggers;
using TraceProf.Profiles;

namespace TraceProf.AspNetCore.Tests.Pyroscope;

/// <summary>
/// The Pyroscope push end to end: a real host with the flight recorder pushes to <see cref="PyroscopeReceiver"/>
/// (a Kestrel stand-in; no Pyroscope server can be installed here), which decodes each upload with our pprof decoder.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class PyroscopeExporterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Push_RecordedWindow_ArrivesPerKindWithServiceLabelsLocalRootSpanAndTimeRange()
    {
        await using var receiver = await PyroscopeReceiver.StartAsync();
        var started = DateTimeOffset.UtcNow;
        var exported = new List<Activity>();
        await using var host = await TraceProfHost.StartAsync(
            options =>
            {
                options.FlightRecorder.Enabled = true;
                options.FlightRecorder.Kinds = "cpu,contention,allocations";

                // EventPipe's sampler: the test checks the wall series too, which perf_event (the default) does not give.
                options.Cpu.Sampler = "eventpipe";
                options.Pyroscope.Url = receiver.Url;
                options.Pyroscope.UploadIntervalSeconds = 5;
                options.Pyroscope.BasicAuthUser = "1234";
                options.Pyroscope.BasicAuthPassword = "glc_token";
                options.Pyroscope.TenantId = "team-a";
                options.Pyroscope.Labels["env"] = "test";
            },
            configureBuilder: builder => builder.Services.AddOpenTelemetry().WithTracing(t => t.AddAspNetCoreInstrumentation().AddInMemoryExporter(exported)),
            configureApp: MapWork);
        await FlightRecorderServiceTests.WaitUntilRecordingAsync(host.Client);

        using var response = await host.Client.GetAsync(new Uri("/pyroscope-work", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var spans = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = spans.RootElement.GetProperty("root").GetString()!;
        var inner = spans.RootElement.GetProperty("inner").GetString()!;
        Assert.NotEqual(root, inner);

        // The request's span says which span_id its samples carry: Grafana's traces-to-profiles link reads it.
        await WaitAsync(() =>
        {
            host.Services.GetRequiredService<TracerProvider>().ForceFlush();
            lock (exported)
            {
                return exported.Any(a => a.SpanId.ToHexString() == root);
            }
        });
        lock (exported)
        {
            Assert.Equal(root, exported.Single(a => a.SpanId.ToHexString() == root).GetTagItem("pyroscope.profile.id"));
        }

        // Wait until the request's CPU, lock and allocation samples have all been pushed.
        bool HasWork(ReceivedSeries s, string method) => s.Profile.Samples.Any(x => SpanOf(x) == root && x.Stack.Any(f => s.Profile.Frames[f].FunctionName.Contains(method, StringComparison.Ordinal)));
        await WaitAsync(() =>
        {
            var all = receiver.Pushes.SelectMany(p => p.Series).ToList();
            return all.Any(s => s.Name == "process_cpu" && HasWork(s, nameof(FlightRecorderWorkload.ComputeDistinctiveChecksum)))
                && all.Any(s => s.Name == "lock" && HasWork(s, nameof(FlightRecorderWorkload.WaitForTheBusyLock)))
                && all.Any(s => s.Name == "memory" && HasWork(s, nameof(FlightRecorderWorkload.AllocateDistinctively)));
        });

        var pushes = receiver.Pushes.ToList();
        Assert.All(pushes, p =>
        {
            Assert.Equal("application/json", p.ContentType);
            Assert.Equal("Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("1234:glc_token")), p.Authorization);
            Assert.Equal("team-a", p.TenantId);
            Assert.Equal("1", p.ConnectVersion);
        });

        var series = pushes.SelectMany(p => p.Series).ToList();
        Assert.Subset(new HashSet<string> { "process_cpu", "wall", "lock", "memory", "block" }, series.Select(s => s.Name).ToHashSet());
        var service = host.Services.GetRequiredService<PyroscopeExporter>().ServiceName;
        Assert.Equal("TraceProf.AspNetCore.Tests", service);
        Assert.All(series, s =>
        {
            Assert.Equal(service, s.Labels["service_name"]);
            Assert.Equal("test", s.Labels["env"]);
            Assert.Equal("false", s.Labels["__delta__"]);
            Assert.True(Guid.TryParse(s.Id, out _));

            // No per-request or per-thread label becomes a series; the span is the local root, never the inner span.
            Assert.All(s.Profile.Samples, x =>
            {
                Assert.DoesNotContain(x.Labels, l => l.Key is "trace_id" or "thread_id" or "local_root_span_id" or "scope" || l.Key.Contains('.', StringComparison.Ordinal));
                Assert.NotEqual(inner, SpanOf(x));
            });
        });

        // Columns per type, as Pyroscope's profile type ids name them, with real values.
        var cpu = series.First(s => s.Name == "process_cpu" && HasWork(s, nameof(FlightRecorderWorkload.ComputeDistinctiveChecksum))).Profile;
        Assert.Equal([new SampleType("cpu", "nanoseconds")], cpu.SampleTypes);
        var requestCpu = cpu.Samples.Where(x => SpanOf(x) == root).Sum(x => x.Values[0]);
        Assert.True(requestCpu > 50_000_000, $"the request burned 1.5 s of CPU; the upload gave its span {requestCpu} ns");
        Assert.Contains(cpu.Samples, x => SpanOf(x) == root && x.Labels.Contains(new ProfileLabel("http_route", "/pyroscope-work")));
        Assert.Equal([new SampleType("wall", "nanoseconds")], series.First(s => s.Name == "wall").Profile.SampleTypes);
        Assert.Equal([new SampleType("contentions", "count"), new SampleType("delay", "nanoseconds")], series.First(s => s.Name == "lock").Profile.SampleTypes);
        Assert.Equal([new SampleType("alloc_objects", "count"), new SampleType("alloc_space", "bytes")], series.First(s => s.Name == "memory").Profile.SampleTypes);

        // Each upload covers the time since the previous one: inside the test's time, in order, without overlap.
        var ranges = series.Where(s => s.Name == "wall").Select(s => (Start: s.Profile.StartTime, End: s.Profile.StartTime + s.Profile.Duration)).ToList();
        var now = DateTimeOffset.UtcNow;
        Assert.All(ranges, r =>
        {
            Assert.InRange(r.Start, started.AddSeconds(-1), now);
            Assert.InRange(r.End, r.Start, now.AddSeconds(1));
        });
        for (var i = 1; i < ranges.Count; i++)
        {
            Assert.True(ranges[i].Start >= ranges[i - 1].End.AddMilliseconds(-100), $"upload {i} starts at {ranges[i].Start:O}, before upload {i - 1} ended at {ranges[i - 1].End:O}");
        }
    }

    [Fact]
    public async Task Push_ServerFailsOrRefuses_RetriesWithBackoffThenDropsAndCountsIt()
    {
        await using var receiver = await PyroscopeReceiver.StartAsync();
        receiver.Status = StatusCodes.Status503ServiceUnavailable;
        await using var host = await TraceProfHost.StartAsync(options => (options.FlightRecorder.Enabled, options.Pyroscope.Url, options.Pyroscope.UploadIntervalSeconds) = (true, receiver.Url, 30));
        var exporter = host.Services.GetRequiredService<PyroscopeExporter>();
        using var client = new PyroscopeClient(new TraceProfPyroscopeOptions { Url = receiver.Url });
        var dropped = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "traceprof.pyroscope.uploads.dropped")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            lock (dropped)
            {
                dropped.Add((string)tags.ToArray().Single(t => t.Key == "reason").Value!);
            }
        });
        listener.Start();
        var upload = new PyroscopeUpload([new PyroscopeSeries("process_cpu", [new("__name__", "process_cpu"), new("service_name", "x")], TraceProf.Encoding.PprofEncoder.Encode(OneSample()), 1)], DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1));

        var failed = await exporter.SendAsync(client, upload, CancellationToken.None);

        Assert.Equal("failed", failed.Result);
        Assert.Contains("HTTP 503", failed.Detail, StringComparison.Ordinal);
        Assert.Equal(PyroscopeExporter.MaxAttempts, receiver.Pushes.Count);

        receiver.Status = StatusCodes.Status400BadRequest;
        var rejected = await exporter.SendAsync(client, upload, CancellationToken.None);

        Assert.Equal("rejected", rejected.Result);
        Assert.Equal(PyroscopeExporter.MaxAttempts + 1, receiver.Pushes.Count); // a 4xx is not retried
        Assert.Equal((0, 1, 1), exporter.Dropped);
        lock (dropped)
        {
            Assert.Equal(["failed", "rejected"], dropped);
        }

        // The host never noticed.
        using var hello = await host.Client.GetAsync(new Uri("/hello", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, hello.StatusCode);
    }

    [Fact]
    public async Task Push_NothingListening_TimesOutAsAFailureWithoutThrowing()
    {
        using var unused = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        unused.Start();
        var port = ((IPEndPoint)unused.LocalEndpoint).Port;
        unused.Stop();
        using var client = new PyroscopeClient(new TraceProfPyroscopeOptions { Url = $"http://127.0.0.1:{port}", TimeoutSeconds = 2 });

        var outcome = await client.PushAsync([new PyroscopeSeries("wall", [new("__name__", "wall")], [], 0)], CancellationToken.None);

        Assert.True(outcome.IsRetryable, outcome.Detail);
    }

    [Theory]
    [InlineData("TraceProf:Pyroscope:Url", "ftp://pyroscope:4040", "TraceProf:Pyroscope:Url must be an absolute http or https URL")]
    [InlineData("TraceProf:Pyroscope:Url", "pyroscope:4040/x?y=1", "TraceProf:Pyroscope:Url must be an absolute http or https URL")]
    [InlineData("TraceProf:Pyroscope:UploadIntervalSeconds", "1", "UploadIntervalSeconds")]
    [InlineData("TraceProf:Pyroscope:Labels:http.route", "x", "TraceProf:Pyroscope:Labels names must match")]
    [InlineData("TraceProf:Pyroscope:BasicAuthUser", "1234", "BasicAuthUser and BasicAuthPassword must be set together")]
    public async Task Pyroscope_BadSetting_FailsStartWithItsName(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TraceProfHost.StartAsync(
                options => options.FlightRecorder.Enabled = true,
                configureBuilder: builder =>
                {
                    builder.Configuration["TraceProf:Pyroscope:Url"] ??= "http://127.0.0.1:4040";
                    builder.Configuration[key] = value;
                }));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pyroscope_UrlWithRecorderOff_FailsStartSayingWhy()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TraceProfHost.StartAsync(options => options.Pyroscope.Url = "http://127.0.0.1:4040"));
        Assert.Contains("the flight recorder is off", error.Message, StringComparison.Ordinal);
    }

    private static string? SpanOf(ProfileSample sample) => sample.Labels.FirstOrDefault(l => l.Key == "span_id").Value;

    private static Profile OneSample()
    {
        var builder = new ProfileBuilder([new SampleType("cpu", "nanoseconds")]);
        builder.Add([builder.InternFrame(new ProfileFrame("M", "m"))], [1], []);
        return builder.Build();
    }

    private static void MapWork(WebApplication app) =>
        app.MapGet("/pyroscope-work", () =>
        {
            var root = Activity.Current!;
            using var inner = new Activity("inner").Start();
            FlightRecorderWorkload.ComputeDistinctiveChecksum(TimeSpan.FromMilliseconds(1500));
            FlightRecorderWorkload.WaitForTheBusyLock();
            FlightRecorderWorkload.AllocateDistinctively(30 * 1024 * 1024);
            return Results.Json(new { root = root.SpanId.ToHexString(), inner = inner.SpanId.ToHexString() });
        });

    private static async Task WaitAsync(Func<bool> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < Patience, $"Timed out after {Patience.TotalSeconds} s waiting for the request's samples to be pushed.");
            await Task.Delay(100);
        }
    }
}
