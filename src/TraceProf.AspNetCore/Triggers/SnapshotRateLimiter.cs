namespace TraceProf.AspNetCore.Triggers;

/// <summary>
/// At most N triggered snapshots per minute (a token bucket refilled evenly, so a burst gets N and then one every
/// 60/N seconds) and one per trace id. Time comes from <see cref="TimeProvider"/>, so the bucket refills lazily
/// when asked rather than on a timer.
/// </summary>
/// <remarks>
/// Not <c>System.Threading.RateLimiting.TokenBucketRateLimiter</c>: it measures elapsed time with its own
/// Stopwatch even when replenished by hand, so it cannot follow an injected clock (tests, and hosts that fake time).
/// </remarks>
internal sealed class SnapshotRateLimiter
{
    // Trace ids already saved; enough to cover far more than a minute of the limit, bounded either way.
    private const int RememberedTraces = 4096;

    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private readonly int _limit;
    private double _tokens;
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
        _limit = perMinute;
        _tokens = perMinute;
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
            if (_tokens < 1)
            {
                return "rate_limited";
            }

            _tokens--;

            _traces.Add(traceId);
            _traceOrder.Enqueue(traceId);
            if (_traceOrder.Count > RememberedTraces)
            {
                _traces.Remove(_traceOrder.Dequeue());
            }

            return null;
        }
    }

    private void Refill()
    {
        var now = _time.GetUtcNow();
        if (now > _lastRefill)
        {
            _tokens = Math.Min(_limit, _tokens + ((now - _lastRefill) / _period));
        }

        _lastRefill = now;
    }
}
