using System.Diagnostics.Metrics;

namespace TraceProf.Pipeline;

/// <summary>
/// The engine's instruments, all on the <c>TraceProf</c> meter and built from one <see cref="IMeterFactory"/> (the
/// host's, through dependency injection), as aspnetcore's rate-limiting metrics are.
/// </summary>
internal sealed class TraceProfMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "TraceProf";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The host's meter factory; null for a meter of our own (the engine used alone).</param>
    public TraceProfMetrics(IMeterFactory? meterFactory)
    {
        // A factory hands every caller of one name the same meter and disposes it with the host: never dispose it here.
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        SnapshotsDropped = _meter.CreateCounter<long>(
            "traceprof.snapshots.dropped", unit: "{snapshot}", description: "Snapshots captured but not stored because the store kept failing.");
    }

    /// <summary>Gets the counter of snapshots dropped after the store kept failing.</summary>
    public Counter<long> SnapshotsDropped { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
