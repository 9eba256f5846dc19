using System.Threading.RateLimiting;

namespace TraceProf.AspNetCore.Triggers;

/// <summary>
/// At most N triggered snapshots per minute (a token bucket refilled evenly, so a burst gets N and then one every
/// 60/N seconds) and one per trace id. Time comes from <see cref="TimeProvider"/>, so the bucket refills lazily
/// when asked rather than on a timer.
/// </summary>
internal sealed class SnapshotRateLimiter : IDisposable
{
    // Trace ids already saved; enough to cover far more than a minute of the limit, bounded either way.
    private const int RememberedTraces = 4096;

    private readonly TokenBucketRateLimiter _bucket;
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private readonly Lock _lock = new();
    private readonly HashSet<string> _traces = new(StringComparer.Ordinal);
    private readonly Queue<string> _traceOrder = new();
    private DateTimeOffset _lastRefill;

    public SnapshotRateLimiter(int perMinute, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perMinute, 1);
        _time = time;
        _period = TimeSpan.FromMinutes(1) / perMinute;
        _lastRefill = time.GetUtcNow();
        _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = _period,
            AutoReplenishment = false,
            QueueLimit = 0,
        });
    }

    /// <summary>Takes a token for <paramref name="traceId"/>.</summary>
    /// <returns>Null when admitted, else why not: <c>duplicate_trace</c> or <c>rate_limited</c>.</returns>
    public string? TryAdmit(string traceId)
    {
        lock (_lock)
        {
            if (_traces.Contains(traceId))
            {
                return "duplicate_trace";
            }

            Refill();
            using var lease = _bucket.AttemptAcquire();
            if (!lease.IsAcquired)
            {
                return "rate_limited";
            }

            _traces.Add(traceId);
            _traceOrder.Enqueue(traceId);
            if (_traceOrder.Count > RememberedTraces)
            {
                _traces.Remove(_traceOrder.Dequeue());
            }

            return null;
        }
    }

    public void Dispose() => _bucket.Dispose();

    private void Refill()
    {
        var now = _time.GetUtcNow();
        var periods = (long)((now - _lastRefill) / _period);
        if (periods <= 0)
        {
            return;
        }

        _lastRefill += _period * periods;
        for (var i = 0; i < Math.Min(periods, 600); i++)
        {
            if (!_bucket.TryReplenish())
            {
                break;
            }
        }
    }
}
