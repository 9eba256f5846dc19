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

    public TraceProfAspNetCoreMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
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
}
