using System.Diagnostics.Metrics;

namespace TraceProf.AspNetCore.Diagnostics;

/// <summary>
/// Every instrument of the ASP.NET Core package, built from the host's <see cref="IMeterFactory"/> (as ASP.NET
/// Core's RateLimitingMetrics does), so each host has its own meter and tests can collect one host's measurements.
/// The meter keeps the engine's name, <c>TraceProf</c>, so one listener sees both.
/// </summary>
internal sealed class TraceProfAspNetCoreMetrics
{
    public const string MeterName = "TraceProf";

    private readonly Counter<long> _snapshotsDropped;
    private readonly Histogram<double> _snapshotDelay;
    private readonly Counter<long> _pyroscopeUploads;
    private readonly Counter<long> _pyroscopeBytes;
    private readonly Counter<long> _pyroscopeDropped;
    private readonly Meter _meter;

    public TraceProfAspNetCoreMetrics(IMeterFactory meterFactory)
    {
        var meter = _meter = meterFactory.Create(MeterName);
        _snapshotsDropped = meter.CreateCounter<long>(
            "traceprof.flight_recorder.snapshots.dropped", unit: "{snapshot}",
            description: "Triggered snapshots not saved, by reason: rate_limited, duplicate_trace, queue_full, recorder_off.");
        _snapshotDelay = meter.CreateHistogram<double>(
            "traceprof.flight_recorder.snapshot.delay", unit: "ms", description: "Time from a triggering request's end until its snapshot is stored.");
        _pyroscopeUploads = meter.CreateCounter<long>(
            "traceprof.pyroscope.uploads", unit: "{upload}", description: "Uploads of the flight recorder's window that Pyroscope accepted.");
        _pyroscopeBytes = meter.CreateCounter<long>(
            "traceprof.pyroscope.uploaded", unit: "By", description: "Bytes of gzipped pprof that Pyroscope accepted.");
        _pyroscopeDropped = meter.CreateCounter<long>(
            "traceprof.pyroscope.uploads.dropped", unit: "{upload}", description: "Uploads to Pyroscope given up, by reason: queue_full, failed (after retries), rejected (4xx).");
    }

    /// <summary>
    /// The exception storm guard's instruments, once the recorder runs: pauses so far (a counter) and whether exception
    /// recording is paused now (a gauge, 1 or 0).
    /// </summary>
    /// <param name="status">Reads the guard: pauses so far, paused now.</param>
    public void ObserveExceptionStorm(Func<(long Pauses, bool Paused)> status)
    {
        _meter.CreateObservableCounter("traceprof.flight_recorder.exception_storm.pauses", () => status().Pauses, unit: "{pause}",
            description: "Times the flight recorder stopped recording exceptions because their rate passed ExceptionStormPerSecond.");
        _meter.CreateObservableGauge("traceprof.flight_recorder.exception_storm.paused", () => status().Paused ? 1 : 0, unit: "1",
            description: "1 while exception recording is paused by a storm, else 0.");
    }

    /// <summary>A triggered snapshot was not saved; <paramref name="reason"/> is one of the counter's reasons.</summary>
    public void SnapshotDropped(string reason) => _snapshotsDropped.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>A triggered snapshot was stored <paramref name="delay"/> after its request ended.</summary>
    public void SnapshotStored(TimeSpan delay) => _snapshotDelay.Record(delay.TotalMilliseconds);

    /// <summary>Pyroscope accepted an upload of <paramref name="bytes"/> bytes of pprof.</summary>
    public void PyroscopeUploaded(long bytes)
    {
        _pyroscopeUploads.Add(1);
        _pyroscopeBytes.Add(bytes);
    }

    /// <summary>An upload to Pyroscope was given up; <paramref name="reason"/> is one of the counter's reasons.</summary>
    public void PyroscopeUploadDropped(string reason) => _pyroscopeDropped.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>
    /// The adaptive trace sampler's gauges (meter <c>TraceProf</c>): its probability and the rates of its last
    /// one-second window. Static because the sampler lives in the tracer provider's services, which need not hold an
    /// <see cref="IMeterFactory"/> (a provider built with <c>Sdk.CreateTracerProviderBuilder()</c>).
    /// </summary>
    /// <param name="meterFactory">The host's meter factory, or null for a meter of the sampler's own.</param>
    /// <param name="status">Reads the sampler's last window: probability, roots/s, sampled/s, error rate, p95 ms, boosted.</param>
    /// <returns>The meter when the sampler owns it (dispose it with the sampler), else null.</returns>
    public static Meter? ObserveAdaptiveSampler(IMeterFactory? meterFactory, Func<(double Probability, double RootsPerSecond, double SampledPerSecond, double ErrorRate, double P95Milliseconds, bool Boosted)> status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var owned = meterFactory is null ? new Meter(MeterName) : null;
        var meter = owned ?? meterFactory!.Create(MeterName);
        static IEnumerable<Measurement<double>> Known(double value) => double.IsNaN(value) ? [] : [new Measurement<double>(value)];
        meter.CreateObservableGauge("traceprof.sampler.probability", () => status().Probability, unit: "1",
            description: "The probability the adaptive sampler samples a root trace with now.");
        meter.CreateObservableGauge("traceprof.sampler.roots", () => Known(status().RootsPerSecond), unit: "{trace}/s",
            description: "Root spans the adaptive sampler saw per second in its last window.");
        meter.CreateObservableGauge("traceprof.sampler.sampled", () => Known(status().SampledPerSecond), unit: "{trace}/s",
            description: "Root spans the adaptive sampler sampled per second in its last window.");
        meter.CreateObservableGauge("traceprof.sampler.error_rate", () => Known(status().ErrorRate), unit: "1",
            description: "Share of the local root spans observed in the last window that ended in error.");
        meter.CreateObservableGauge("traceprof.sampler.latency.p95", () => Known(status().P95Milliseconds), unit: "ms",
            description: "95th percentile duration of the local root spans observed in the last window.");
        meter.CreateObservableGauge("traceprof.sampler.boosted", () => status().Boosted ? 1 : 0, unit: "1",
            description: "1 while the adaptive sampler's probability is boosted after errors or slow requests.");
        return owned;
    }
}
