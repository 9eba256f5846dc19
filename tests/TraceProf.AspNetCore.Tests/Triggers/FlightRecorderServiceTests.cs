using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry.Trace;
using TraceProf.AspNetCore.Endpoints;
using TraceProf.AspNetCore.Tests.Endpoints;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.AspNetCore.Triggers;
using TraceProf.Recording;
using PprofProfile = TraceProf.Encoding.Pprof.Profile;

// Over 400 lines on purpose: every scenario of the recorder service through a real host (one per trigger, the
// rate limit, the OpenTelemetry tag, bad settings) shares the waiting and decoding helpers at the end.
namespace TraceProf.AspNetCore.Tests.Triggers;

[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class FlightRecorderServiceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static void Recording(TraceProfOptions options) => options.FlightRecorder.Enabled = true;

    [Fact]
    public async Task FlightRecorder_Running_OnDemandCaptureStillWorksAndSeesTheSameMethods()
    {
        await using var host = await TraceProfHost.StartAsync(Recording, configureApp: MapWorkload);
        await WaitUntilRecordingAsync(host.Client);

        using var hot = new HotLoop();
        using var capture = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=2", "admin"));
        Assert.Equal(HttpStatusCode.OK, capture.StatusCode);
        var profile = CpuProfileEndpointTests.Decode(await capture.Content.ReadAsByteArrayAsync());
        Assert.Contains(Samples(profile), s => s.Frames.Any(f => f.Contains(HotLoop.MethodName, StringComparison.Ordinal)));

        var failed = await SendAsync(host.Client, "/fail?ms=100");
        var row = await WaitForSnapshotAsync(host.Client, failed.TraceId, "cpu");
        Assert.Equal("status:503", row.GetProperty("trigger").GetString());
    }

    [SkippableFact]
    public async Task FlightRecorder_SampleAppFailingOrder_SavesStatusSnapshotWithHotMethodUnderItsTrace()
    {
        var assembly = ShopDemoProcess.FindAssembly();
        Skip.If(assembly is null, "samples/ShopDemo is not built; build the solution (dotnet test Diagnostics.sln does).");
        var folder = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using var shop = await ShopDemoProcess.StartAsync(assembly!, $"--TraceProf:Storage:Path={folder}");
            await WaitUntilRecordingAsync(shop.Client);

            // Quotes first, as a running shop has had: the pricing loop's first runs are tier-0 code with on-stack
            // replacement, whose frames can hold a stale return address nearer the frame pointer than the real one, so
            // a native leaf's restored caller may be wrong in a process's first requests (docs/frames.md, "cannot see").
            for (var i = 0; i < 40; i++)
            {
                using var quote = await shop.Client.GetAsync(new Uri("/orders/quote?items=2", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, quote.StatusCode);
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            using var order = await shop.Client.PostAsync(new Uri("/orders?items=50", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.InternalServerError, order.StatusCode);
            var traceId = order.Headers.GetValues("traceparent").Single().Split('-')[1];

            var row = await WaitForSnapshotAsync(shop.Client, traceId, "cpu");
            Assert.Equal("status:500", row.GetProperty("trigger").GetString());
            Assert.Equal("shop", row.GetProperty("serviceName").GetString());

            var profile = await DownloadAsync(shop.Client, row.GetProperty("id").GetString()!);
            var ofTrace = Samples(profile).Where(s => s.Labels.GetValueOrDefault("trace_id") == traceId).ToList();
            Assert.NotEmpty(ofTrace);
            Assert.All(ofTrace, s => Assert.Equal("trace", s.Labels["scope"]));
            Assert.Contains(ofTrace, s => s.Frames.Any(f => f.Contains("PricingEngine.ComputeVolumeDiscountFactor", StringComparison.Ordinal)));
            Assert.Contains(ofTrace, s => s.Labels.GetValueOrDefault("http.route") == "/orders");

            // The log names both ids at Warning, and the start-up warned about the default sampling rate.
            var id = row.GetProperty("id").GetString()!;
            // The other process writes its log through the console logger's queue and a pipe: it may come after the row.
            await WaitAsync(() => shop.Output.Any(line => line.Contains($"trace {traceId} has flight-recorder snapshot {id}", StringComparison.Ordinal)), "the snapshot's log line");
            // The default sampler is auto: perf where perf_event works here (the start-up says so, and the hot method
            // above, whose time is in libm, is there thanks to the native leaf's restored caller); else EventPipe's,
            // whose default rate the start-up warns about.
            if (TraceProf.Capture.PerfEventCpuSampler.Probe().Available)
            {
                Assert.Contains(shop.Output, line => line.Contains("TraceProf CPU sampler: perf.", StringComparison.Ordinal));
            }
            else
            {
                Assert.Contains(shop.Output, line => line.Contains("DOTNET_EventPipeThreadSamplingRate=A", StringComparison.Ordinal));
            }
        }
        finally
        {
            TraceProfHost.DeleteStorage(folder);
        }
    }

    [SkippableFact]
    public async Task FlightRecorder_DiagnosticsDisabled_AppRunsOnWithoutIt_AndSaysWhy()
    {
        var assembly = ShopDemoProcess.FindAssembly();
        Skip.If(assembly is null, "samples/ShopDemo is not built; build the solution (dotnet test Diagnostics.sln does).");
        var folder = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using var shop = await ShopDemoProcess.StartAsync(assembly!, new Dictionary<string, string> { ["DOTNET_EnableDiagnostics"] = "0" }, $"--TraceProf:Storage:Path={folder}");
            await WaitAsync(() => shop.Output.Any(l => l.Contains("The flight recorder could not start", StringComparison.Ordinal)), "the recorder's warning");

            using var order = await shop.Client.PostAsync(new Uri("/orders?items=50", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.InternalServerError, order.StatusCode);
            using var quote = await shop.Client.GetAsync(new Uri("/orders/quote?items=3", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, quote.StatusCode);
            using var index = await shop.Client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
            using var doc = JsonDocument.Parse(await index.Content.ReadAsStringAsync());
            Assert.False(doc.RootElement.GetProperty("flightRecorder").GetProperty("running").GetBoolean());
        }
        finally
        {
            TraceProfHost.DeleteStorage(folder);
        }
    }

    [SkippableFact]
    public async Task FlightRecorder_RecommendedSamplingRate_NoStartWarning_AndTheFailureIsStillSaved()
    {
        var assembly = ShopDemoProcess.FindAssembly();
        Skip.If(assembly is null, "samples/ShopDemo is not built; build the solution (dotnet test Diagnostics.sln does).");
        var folder = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using var shop = await ShopDemoProcess.StartAsync(assembly!, new Dictionary<string, string> { ["DOTNET_EventPipeThreadSamplingRate"] = "A" }, $"--TraceProf:Storage:Path={folder}");
            await WaitUntilRecordingAsync(shop.Client);
            using var order = await shop.Client.PostAsync(new Uri("/orders?items=50", UriKind.Relative), null);
            var traceId = order.Headers.GetValues("traceparent").Single().Split('-')[1];
            var row = await WaitForSnapshotAsync(shop.Client, traceId, "cpu");
            Assert.Equal("status:500", row.GetProperty("trigger").GetString());
            Assert.DoesNotContain(shop.Output, line => line.Contains("samples at the runtime's default 1 ms", StringComparison.Ordinal));
        }
        finally
        {
            TraceProfHost.DeleteStorage(folder);
        }
    }

    [Fact]
    public async Task FlightRecorder_SlowRequestOverThreshold_SavesSlowSnapshot_FastAndExemptRoutesSaveNothing()
    {
        await using var host = await TraceProfHost.StartAsync(
            options =>
            {
                options.FlightRecorder.Enabled = true;
                options.FlightRecorder.SlowRequestMilliseconds = 300;
                options.FlightRecorder.SlowRoutes["/exempt"] = 0;
            },
            configureApp: MapWorkload);
        await WaitUntilRecordingAsync(host.Client);

        var fast = await SendAsync(host.Client, "/hello");
        var exempt = await SendAsync(host.Client, "/exempt?ms=600");
        var slow = await SendAsync(host.Client, "/slow?ms=600");
        Assert.All([fast, exempt, slow], r => Assert.Equal(HttpStatusCode.OK, r.Status));

        var row = await WaitForSnapshotAsync(host.Client, slow.TraceId, "cpu");
        var trigger = row.GetProperty("trigger").GetString()!;
        Assert.StartsWith("slow:", trigger, StringComparison.Ordinal);
        Assert.InRange(int.Parse(trigger["slow:".Length..], System.Globalization.CultureInfo.InvariantCulture), 600, 60_000);
        var profile = await DownloadAsync(host.Client, row.GetProperty("id").GetString()!);
        Assert.Contains(Samples(profile), s => s.Labels.GetValueOrDefault("trace_id") == slow.TraceId && s.Frames.Any(f => f.Contains(nameof(FlightRecorderWorkload.ComputeDistinctiveChecksum), StringComparison.Ordinal)));

        // Snapshots are saved in order, so the earlier requests have had their turn.
        Assert.Equal(0, await CountAsync(host.Client, fast.TraceId));
        Assert.Equal(0, await CountAsync(host.Client, exempt.TraceId));
    }

    [Fact]
    public async Task FlightRecorder_FailedRequestThatWaitedAndAllocated_AlsoSavesContentionAndAllocationSnapshots()
    {
        await using var host = await TraceProfHost.StartAsync(options => (options.FlightRecorder.Enabled, options.FlightRecorder.Kinds) = (true, "cpu,contention,allocations"), configureApp: MapWorkload);
        await WaitUntilRecordingAsync(host.Client);

        var failed = await SendAsync(host.Client, "/locked-and-allocating");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.Status);

        var cpu = await WaitForSnapshotAsync(host.Client, failed.TraceId, "cpu");
        var waits = await WaitForSnapshotAsync(host.Client, failed.TraceId, "contention");
        var allocs = await WaitForSnapshotAsync(host.Client, failed.TraceId, "allocs");
        Assert.All([cpu, waits, allocs], row => Assert.Equal("status:503", row.GetProperty("trigger").GetString()));

        var contention = await DownloadAsync(host.Client, waits.GetProperty("id").GetString()!);
        Assert.Contains(Samples(contention), s => s.Labels.GetValueOrDefault("trace_id") == failed.TraceId && s.Labels["scope"] == "trace" && s.Frames.Any(f => f.Contains(nameof(FlightRecorderWorkload.WaitForTheBusyLock), StringComparison.Ordinal)));
        Assert.Contains(contention.Sample, s => s.Value[1] > 10_000_000); // waited well over 10 ms

        var allocations = await DownloadAsync(host.Client, allocs.GetProperty("id").GetString()!);
        var ours = Samples(allocations).Where(s => s.Labels.GetValueOrDefault("object_type", "").EndsWith(nameof(DistinctiveAllocation), StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(ours);
        Assert.All(ours, s => Assert.Equal(failed.TraceId, s.Labels.GetValueOrDefault("trace_id")));
        Assert.Contains(ours, s => s.Frames.Any(f => f.Contains(nameof(FlightRecorderWorkload.AllocateDistinctively), StringComparison.Ordinal)));
    }

    [Fact]
    public async Task FlightRecorder_UnhandledException_SavesExceptionSnapshot()
    {
        await using var host = await TraceProfHost.StartAsync(Recording, configureApp: MapWorkload);
        await WaitUntilRecordingAsync(host.Client);

        var thrown = await SendAsync(host.Client, "/throw");
        Assert.Equal(HttpStatusCode.InternalServerError, thrown.Status);

        var row = await WaitForSnapshotAsync(host.Client, thrown.TraceId, "cpu");
        Assert.Equal("exception:System.InvalidOperationException", row.GetProperty("trigger").GetString());
    }

    [Fact]
    public async Task FlightRecorder_BurstOf100Failures_SavesExactlyTheRateLimit_CountsTheRest_AndStaysBounded()
    {
        const int MaxSamples = 10_000;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        long droppedMetric = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "TraceProf" && instrument.Name == "traceprof.flight_recorder.snapshots.dropped")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "reason" && (string?)tag.Value == "rate_limited")
                {
                    Interlocked.Add(ref droppedMetric, value);
                }
            }
        });
        listener.Start();

        var log = new CollectingLoggerProvider();
        await using var host = await TraceProfHost.StartAsync(
            // EventPipe's sampler: its events fill the bound quickly (the perf_event sampler's 100 Hz of CPU would take minutes).
            options => (options.FlightRecorder.Enabled, options.FlightRecorder.MaxSamples, options.Cpu.Sampler) = (true, MaxSamples, "eventpipe"),
            configureBuilder: builder =>
            {
                builder.Services.AddSingleton<TimeProvider>(time);
                builder.Logging.AddProvider(log);
            },
            configureApp: MapWorkload);
        await WaitUntilRecordingAsync(host.Client);

        var traces = new List<string>();
        for (var i = 0; i < 100; i++)
        {
            var failed = await SendAsync(host.Client, "/fail?ms=1");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.Status);
            traces.Add(failed.TraceId);
        }

        var triggers = host.Services.GetRequiredService<RequestTriggers>();
        var service = host.Services.GetRequiredService<FlightRecorderService>();
        Assert.Equal(TraceProfFlightRecorderOptions.DefaultMaxSnapshotsPerMinute, triggers.Counts.Admitted);
        Assert.Equal(100 - TraceProfFlightRecorderOptions.DefaultMaxSnapshotsPerMinute, triggers.Counts.RateLimited);
        Assert.True(Interlocked.Read(ref droppedMetric) >= 90, $"the dropped counter saw {droppedMetric}");
        await WaitAsync(() => service.Saved == TraceProfFlightRecorderOptions.DefaultMaxSnapshotsPerMinute, "the admitted snapshots to be stored");

        using var list = await host.Client.SendAsync(Requests.Get("/debug/snapshots?kind=cpu&limit=1000", "admin"));
        using var rows = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        var saved = rows.RootElement.GetProperty("snapshots").EnumerateArray().Where(r => r.GetProperty("trigger").GetString() == "status:503").Select(r => r.GetProperty("traceId").GetString()!).ToList();
        Assert.Equal(traces.Take(TraceProfFlightRecorderOptions.DefaultMaxSnapshotsPerMinute).Order(), saved.Order());

        // A minute later (of the injected clock) the bucket has refilled, and the minute's drops are reported.
        Assert.DoesNotContain(log.Entries, e => e.EventName == "FlightRecorderSnapshotsDropped");
        time.Advance(TimeSpan.FromMinutes(1));
        await WaitAsync(() => log.Entries.Any(e => e.EventName == "FlightRecorderSnapshotsDropped" && e.Message.Contains("did not save 90 triggered snapshots", StringComparison.Ordinal)), "the drop report");
        var later = await SendAsync(host.Client, "/fail?ms=1");
        await WaitForSnapshotAsync(host.Client, later.TraceId, "cpu");

        // Memory: the ring keeps at most MaxSamples however many events went through it.
        var recorder = (await service.Started)!;
        await WaitAsync(() => recorder.GetStatistics().EventsRead > 3 * MaxSamples, "the recorder to read several times its bound");
        var stats = recorder.GetStatistics();
        Assert.InRange(stats.RetainedSamples + stats.RetainedContentions, 1, MaxSamples);
        Assert.InRange(stats.Segments, 1, 7);
    }

    [Fact]
    public async Task FlightRecorder_FailedRequest_ItsOpenTelemetrySpanCarriesTheSnapshotId()
    {
        var exported = new List<Activity>();
        await using var host = await TraceProfHost.StartAsync(
            Recording,
            configureBuilder: builder => builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddInMemoryExporter(exported)),
            configureApp: MapWorkload);
        await WaitUntilRecordingAsync(host.Client);

        var failed = await SendAsync(host.Client, "/fail?ms=50");
        var row = await WaitForSnapshotAsync(host.Client, failed.TraceId, "cpu");
        var snapshotId = row.GetProperty("id").GetString();

        host.Services.GetRequiredService<TracerProvider>().ForceFlush();
        Activity? span = null;
        await WaitAsync(
            () =>
            {
                lock (exported)
                {
                    span = exported.FirstOrDefault(a => a.TraceId.ToHexString() == failed.TraceId);
                }

                return span is not null;
            },
            "the request's span to be exported");
        Assert.Equal(snapshotId, span!.GetTagItem(RequestTriggers.SnapshotIdTag));
        Assert.Equal(span.SpanId.ToHexString(), span.GetTagItem(RequestTriggers.PyroscopeProfileIdTag));
        Assert.Contains(span.Events, e => e.Name == "traceprof.snapshot" && e.Tags.Any(t => t.Key == "traceprof.trigger" && (string?)t.Value == "status:503"));
    }

    [Fact]
    public async Task FlightRecorder_HostStoppedWhileTheRecorderStarts_ThisProcessCarriesOn()
    {
        // Stopping cancels the start-up rundown under its reader thread; an exception escaping a thread would end
        // the test process, so getting past the loop is the assertion.
        for (var i = 0; i < 5; i++)
        {
            var host = await TraceProfHost.StartAsync(Recording);
            await Task.Delay(i * 40);
            await host.DisposeAsync();
        }

        await using var last = await TraceProfHost.StartAsync(Recording, configureApp: MapWorkload);
        await WaitUntilRecordingAsync(last.Client);
        var failed = await SendAsync(last.Client, "/fail?ms=1");
        await WaitForSnapshotAsync(last.Client, failed.TraceId, "cpu");
    }

    [Fact]
    public async Task FlightRecorder_Disabled_StartsNoSessionAndSavesNothing()
    {
        await using var host = await TraceProfHost.StartAsync(options => options.FlightRecorder.Enabled = false, configureApp: MapWorkload);
        Assert.Null(await host.Services.GetRequiredService<FlightRecorderService>().Started.WaitAsync(Patience));

        var failed = await SendAsync(host.Client, "/fail?ms=1");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.Status);
        using var index = await host.Client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
        using var doc = JsonDocument.Parse(await index.Content.ReadAsStringAsync());
        Assert.False(doc.RootElement.GetProperty("flightRecorder").GetProperty("running").GetBoolean());
        Assert.Equal(0, await CountAsync(host.Client, failed.TraceId));
    }

    [Theory]
    [InlineData("TraceProf:FlightRecorder:Kinds", "cpu,threads", "Kinds must list one or more of cpu, contention, allocations")]
    [InlineData("TraceProf:FlightRecorder:MinStatusCode", "200", "MinStatusCode must be 0 (off) or from 400 to 599")]
    [InlineData("TraceProf:FlightRecorder:WindowSeconds", "0", "WindowSeconds")]
    [InlineData("TraceProf:FlightRecorder:ExceptionStormPerSecond", "500", "ExceptionStormPerSecond must be 0 (never pause) or from 1000 to 10000000")]
    [InlineData("TraceProf:FlightRecorder:ExceptionStormCooldownSeconds", "0", "ExceptionStormCooldownSeconds")]
    [InlineData("TraceProf:FlightRecorder:MaxSnapshotsPerMinute", "0", "MaxSnapshotsPerMinute")]
    public async Task FlightRecorder_BadSetting_FailsStartWithItsName(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TraceProfHost.StartAsync(configureBuilder: builder => builder.Configuration[key] = value));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    internal static void MapWorkload(WebApplication app)
    {
        app.MapGet("/fail", (int? ms) =>
        {
            FlightRecorderWorkload.ComputeDistinctiveChecksum(TimeSpan.FromMilliseconds(ms ?? 100));
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        });
        app.MapGet("/slow", (int? ms) => FlightRecorderWorkload.ComputeDistinctiveChecksum(TimeSpan.FromMilliseconds(ms ?? 600)));
        app.MapGet("/exempt", (int? ms) => FlightRecorderWorkload.ComputeDistinctiveChecksum(TimeSpan.FromMilliseconds(ms ?? 600)));
        app.MapGet("/throw", string () => throw new InvalidOperationException("The demo endpoint always throws."));
        app.MapGet("/locked-and-allocating", () =>
        {
            FlightRecorderWorkload.WaitForTheBusyLock();
            FlightRecorderWorkload.AllocateDistinctively(30 * 1024 * 1024);
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        });
    }

    internal static async Task WaitUntilRecordingAsync(HttpClient client)
    {
        await WaitAsync(
            async () =>
            {
                using var index = await client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
                using var doc = JsonDocument.Parse(await index.Content.ReadAsStringAsync());
                return doc.RootElement.GetProperty("flightRecorder").GetProperty("running").GetBoolean();
            },
            "the flight recorder to run");
    }

    internal static async Task<JsonElement> WaitForSnapshotAsync(HttpClient client, string traceId, string kind)
    {
        JsonElement found = default;
        await WaitAsync(
            async () =>
            {
                using var response = await client.SendAsync(Requests.Get($"/debug/snapshots?traceId={traceId}&kind={kind}", "admin"));
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var rows = doc.RootElement.GetProperty("snapshots");
                if (rows.GetArrayLength() == 0)
                {
                    return false;
                }

                found = rows[0].Clone();
                return true;
            },
            $"a {kind} snapshot of trace {traceId}");
        return found;
    }

    private static async Task<int> CountAsync(HttpClient client, string traceId)
    {
        using var response = await client.SendAsync(Requests.Get($"/debug/snapshots?traceId={traceId}", "admin"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("count").GetInt32();
    }

    internal static async Task<(HttpStatusCode Status, string TraceId)> SendAsync(HttpClient client, string path)
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var response = await client.SendAsync(Requests.Get(path, traceparent: $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01"));
        return (response.StatusCode, traceId);
    }

    internal static async Task<PprofProfile> DownloadAsync(HttpClient client, string id)
    {
        using var response = await client.SendAsync(Requests.Get($"/debug/snapshots/{id}", "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return CpuProfileEndpointTests.Decode(await response.Content.ReadAsByteArrayAsync());
    }

    internal static IEnumerable<(string[] Frames, Dictionary<string, string> Labels)> Samples(PprofProfile profile)
    {
        string S(long i) => profile.StringTable[(int)i];
        var names = profile.Function.ToDictionary(f => f.Id, f => S(f.Name));
        var locations = profile.Location.ToDictionary(l => l.Id, l => names[l.Line[0].FunctionId]);
        return profile.Sample.Select(s => (
            s.LocationId.Select(id => locations[id]).ToArray(),
            s.Label.Where(l => l.Str != 0).GroupBy(l => S(l.Key)).ToDictionary(g => g.Key, g => S(g.First().Str))));
    }

    private static Task WaitAsync(Func<bool> condition, string what) => WaitAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < Patience, $"Timed out after {Patience.TotalSeconds} s waiting for {what}.");
            await Task.Delay(50);
        }
    }
}
