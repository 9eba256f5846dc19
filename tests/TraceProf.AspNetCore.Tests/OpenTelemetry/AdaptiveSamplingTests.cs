using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry;
using OpenTelemetry.Trace;
using TraceProf.AspNetCore.OpenTelemetry;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.OpenTelemetry;

/// <summary>
/// The adaptive sampler in a real tracer provider with the in-memory exporter; time is driven by a
/// <see cref="FakeTimeProvider"/>, one simulated second per window, so nothing here depends on the machine's speed.
/// </summary>
[Collection("OpenTelemetry")]
public sealed class AdaptiveSamplingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const double Target = 20;

    [Fact]
    public void AdaptiveSampling_TenTimesTheTarget_ExportsAboutTheTarget()
    {
        using var traced = new Traced(o => o.TargetTracesPerSecond = Target);

        var perSecond = Enumerable.Range(0, 10).Select(_ => traced.Second(roots: 200)).ToList();

        var total = perSecond.Sum();
        output.WriteLine($"exported roots per second: {string.Join(", ", perSecond)}; total {total} for a target of {Target * 10}");
        Assert.InRange(total, Target * 10 * 0.7, Target * 10 * 1.3);
        Assert.InRange(traced.Sampler.Status.Probability, 0.05, 0.2); // 20 of 200
        Assert.InRange(traced.Sampler.Status.RootsPerSecond, 199, 201);
    }

    [Fact]
    public void AdaptiveSampling_UnderTheTarget_SamplesEverything()
    {
        using var traced = new Traced(o => o.TargetTracesPerSecond = Target);

        var perSecond = Enumerable.Range(0, 10).Select(_ => traced.Second(roots: 15)).ToList();

        Assert.All(perSecond, n => Assert.Equal(15, n));
        Assert.Equal(1, traced.Sampler.Status.Probability);
    }

    [Fact]
    public void AdaptiveSampling_BurstOfErrors_RaisesTheRateWithinTwoWindows()
    {
        using var traced = new Traced(o => (o.TargetTracesPerSecond, o.BoostFactor, o.BoostSeconds) = (Target, 10, 5));
        for (var i = 0; i < 5; i++)
        {
            traced.Second(roots: 200);
        }

        var before = traced.Second(roots: 200);
        traced.Second(roots: 200, failing: _ => true); // the burst
        var after = new[] { traced.Second(roots: 200), traced.Second(roots: 200) };

        output.WriteLine($"before the burst {before}/s, the two windows after it {string.Join(", ", after)}/s");
        Assert.InRange(before, 5, 40);
        Assert.True(after.Max() >= 5 * before, $"after the burst {string.Join(", ", after)} roots per second were sampled, before it {before}");
        Assert.True(traced.Sampler.Status.Boosted);

        // The boost ends BoostSeconds after the window that caused it.
        var later = Enumerable.Range(0, 8).Select(_ => traced.Second(roots: 200)).ToList();
        Assert.InRange(later[^1], 5, 40);
        Assert.False(traced.Sampler.Status.Boosted);
    }

    [Fact]
    public void AdaptiveSampling_SlowWindow_RaisesTheRate()
    {
        using var traced = new Traced(o => (o.TargetTracesPerSecond, o.LatencyBoostMilliseconds, o.ErrorRateBoostThreshold) = (Target, 250, 1));
        for (var i = 0; i < 4; i++)
        {
            traced.Second(roots: 200);
        }

        var before = traced.Second(roots: 200);
        traced.Second(roots: 200, duration: TimeSpan.FromMilliseconds(400));
        var slow = traced.Sampler.Status; // the slow second's window
        var after = traced.Second(roots: 200);

        Assert.True(after >= 5 * before, $"after the slow second {after} roots were sampled, before it {before}");
        Assert.InRange(slow.P95Milliseconds, 399, 401);
        Assert.True(slow.Boosted);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AdaptiveSampling_WithErrorForcedExport_FailedRequestsAreStillExported_InEitherOrder(bool adaptiveFirst)
    {
        using var traced = new Traced(o => (o.TargetTracesPerSecond, o.ErrorRateBoostThreshold) = (Target, 1), errorForcing: adaptiveFirst ? ErrorForcing.After : ErrorForcing.Before);
        var failed = 0;
        for (var i = 0; i < 10; i++)
        {
            traced.Second(roots: 200, failing: n => n % 10 == 0);
            failed += 20;
        }

        var roots = traced.ExportedRoots();
        Assert.Equal(failed, roots.Count(a => a.Status == ActivityStatusCode.Error));
        Assert.InRange(roots.Count(a => a.Status != ActivityStatusCode.Error), Target * 10 * 0.7 * 0.9, Target * 10 * 1.3);
    }

    [Fact]
    public void AdaptiveSampling_ChildrenFollowTheirParent_AndAreNotCountedAsRoots()
    {
        using var traced = new Traced(o => o.TargetTracesPerSecond = 1);
        traced.Second(roots: 100);
        Assert.Equal(100, traced.Sampler.Status.RootsPerSecond); // reading the status ends the window

        var sampledParent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        var droppedParent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);
        for (var i = 0; i < 50; i++)
        {
            using (traced.Source.StartActivity("remote-sampled", ActivityKind.Server, sampledParent))
            {
            }

            using (traced.Source.StartActivity("remote-dropped", ActivityKind.Server, droppedParent))
            {
            }
        }

        traced.Second(roots: 0);

        Assert.Equal(50, traced.Exported.Count(a => a.DisplayName == "remote-sampled"));
        Assert.DoesNotContain(traced.Exported, a => a.DisplayName == "remote-dropped");
        Assert.Equal(0, traced.Sampler.Status.RootsPerSecond); // children of remote parents are not roots
    }

    [Fact]
    public void AdaptiveSampling_ProbabilityAndRates_AreGaugesOfTheTraceProfMeter()
    {
        using var traced = new Traced(o => o.TargetTracesPerSecond = Target);
        traced.Second(roots: 200);
        traced.Second(roots: 200);
        _ = traced.Sampler.Status; // ends the second window, as a scrape would
        traced.Second(roots: 0);
        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "TraceProf" && instrument.Name.StartsWith("traceprof.sampler.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.Start();

        listener.RecordObservableInstruments();

        Assert.InRange(seen["traceprof.sampler.probability"], 0.05, 0.2);
        Assert.Equal(0, seen["traceprof.sampler.roots"]); // the last second had none
        Assert.Equal(0, seen["traceprof.sampler.boosted"]);
    }

    [Theory]
    [InlineData(0.0, "TargetTracesPerSecond")]
    [InlineData(-1.0, "MinProbability")]
    [InlineData(0.5, "BoostFactor")]
    public void AdaptiveSampling_BadSetting_ThrowsNamingIt(double value, string name)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Sdk.CreateTracerProviderBuilder().AddTraceProfAdaptiveSampling(o =>
        {
            switch (name)
            {
                case "TargetTracesPerSecond": o.TargetTracesPerSecond = value; break;
                case "MinProbability": o.MinProbability = value; break;
                default: o.BoostFactor = value; break;
            }
        }));
        Assert.Contains(name + " must be", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdaptiveSampling_InAnApp_AppearsInTheJsonIndex()
    {
        await using var host = await TraceProfHost.StartAsync(configureBuilder: builder => builder.Services.AddOpenTelemetry().WithTracing(t => t
            .AddAspNetCoreInstrumentation()
            .AddTraceProfAdaptiveSampling(o => o.TargetTracesPerSecond = 20)));
        await using var plain = await TraceProfHost.StartAsync();

        using var index = await host.Client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
        using var doc = JsonDocument.Parse(await index.Content.ReadAsStringAsync());
        var sampler = doc.RootElement.GetProperty("tracing").GetProperty("adaptiveSampler");
        Assert.Equal(20, sampler.GetProperty("targetTracesPerSecond").GetDouble());
        Assert.Equal(1, sampler.GetProperty("probability").GetDouble()); // a few requests: under the target
        Assert.False(sampler.GetProperty("boosted").GetBoolean());
        Assert.Equal(10, sampler.GetProperty("boostFactor").GetDouble());

        using var plainIndex = await plain.Client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
        Assert.Equal(HttpStatusCode.OK, plainIndex.StatusCode);
        using var plainDoc = JsonDocument.Parse(await plainIndex.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Null, plainDoc.RootElement.GetProperty("tracing").GetProperty("adaptiveSampler").ValueKind);
    }

    private enum ErrorForcing
    {
        None,
        Before,
        After,
    }

    /// <summary>A tracer provider on its own source with the adaptive sampler, an in-memory exporter and fake time.</summary>
    private sealed class Traced : IDisposable
    {
        private readonly TracerProvider _provider;
        private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

        public Traced(Action<TraceProfAdaptiveSamplingOptions> configure, ErrorForcing errorForcing = ErrorForcing.None)
        {
            Source = new ActivitySource("AdaptiveSamplingTests." + Guid.NewGuid().ToString("N"));
            var builder = Sdk.CreateTracerProviderBuilder()
                .AddSource(Source.Name)
                .ConfigureServices(services => services.AddSingleton<TimeProvider>(_time));
            if (errorForcing == ErrorForcing.Before)
            {
                builder.AddTraceProfErrorForcedExport();
            }

            builder.AddTraceProfAdaptiveSampling(configure);
            if (errorForcing == ErrorForcing.After)
            {
                builder.AddTraceProfErrorForcedExport();
            }

            AdaptiveSampler? sampler = null;
            ((IDeferredTracerProviderBuilder)builder).Configure((services, _) => sampler = services.GetRequiredService<AdaptiveSampler>());
            _provider = builder.AddInMemoryExporter(Exported).Build()!;
            Sampler = sampler!;
        }

        public ActivitySource Source { get; }

        public List<Activity> Exported { get; } = [];

        public AdaptiveSampler Sampler { get; }

        /// <summary>Starts and ends <paramref name="roots"/> root spans, then lets a second pass; returns how many of them were exported.</summary>
        public int Second(int roots, Func<int, bool>? failing = null, TimeSpan? duration = null)
        {
            var before = ExportedRoots().Count;
            for (var i = 0; i < roots; i++)
            {
                using var activity = Source.StartActivity("root", ActivityKind.Server);
                if (activity is null)
                {
                    continue;
                }

                if (failing?.Invoke(i) == true)
                {
                    activity.SetStatus(ActivityStatusCode.Error);
                }

                if (duration is { } d)
                {
                    activity.SetEndTime(activity.StartTimeUtc + d);
                }
            }

            _time.Advance(TimeSpan.FromSeconds(1));
            return ExportedRoots().Count - before;
        }

        public List<Activity> ExportedRoots() => Exported.Where(a => a.ParentSpanId == default).ToList();

        public void Dispose()
        {
            _provider.Dispose();
            Source.Dispose();
        }
    }
}
