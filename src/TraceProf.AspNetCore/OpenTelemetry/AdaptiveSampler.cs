using System.Buffers.Binary;
using System.Diagnostics;
using OpenTelemetry.Trace;

namespace TraceProf.AspNetCore.OpenTelemetry;

/// <summary>
/// A parent-based head sampler whose root probability follows the rate of root spans, so that about
/// <see cref="TraceProfAdaptiveSamplingOptions.TargetTracesPerSecond"/> root traces per second are sampled: every
/// second (a timer of the injected <see cref="TimeProvider"/>) the rate of roots seen is smoothed with the previous windows'
/// and the probability becomes target / rate, clamped to [MinProbability, 1]. A window whose local root spans
/// (observed by <see cref="AdaptiveSamplingProcessor"/>) failed or were slow beyond the thresholds multiplies the
/// probability by BoostFactor for BoostSeconds.
/// </summary>
/// <remarks>
/// <para>
/// The decision is a function of the trace id (its last eight bytes, the random part of a W3C id, against
/// probability × 2^63), as in the SDK's <c>TraceIdRatioBasedSampler</c>, so that services sampling at the same
/// probability agree. A probability computed from the previous second lags a sudden burst by up to a second; a
/// per-window budget of twice the (boosted) target bounds what such a burst samples.
/// </para>
/// <para>
/// The error rate and latency come from the spans that reach the processor: the sampled roots (an unbiased sample,
/// since the decision is random in the trace id) or, with error-forced export, every root. The hot path is two
/// interlocked increments and a comparison; the window is rolled by the timer.
/// </para>
/// </remarks>
internal sealed class AdaptiveSampler : Sampler, IDisposable
{
    // Reservoir of root durations per window, for the p95: bounded whatever the rate.
    private const int LatencyReservoir = 512;

    // Weight of the newest window's rate in the smoothed rate.
    private const double Smoothing = 0.5;

    private static readonly SamplingResult Sampled = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult Dropped = new(SamplingDecision.Drop);

    private readonly TraceProfAdaptiveSamplingOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _rollGate = new();
    private readonly Lock _endGate = new();

    private long _windowStart;
    private long _roots;
    private long _sampledInWindow;
    private long _threshold = long.MaxValue;
    private long _budget;
    private double _smoothedRate = double.NaN;
    private long _boostUntil = long.MinValue;

    private long _ends;
    private long _errors;
    private double[] _durations = new double[LatencyReservoir];

    private AdaptiveSamplerStatus _status;
    private System.Diagnostics.Metrics.Meter? _ownMeter;
    private readonly ITimer _timer;

    public AdaptiveSampler(TraceProfAdaptiveSamplingOptions options, TimeProvider? time = null, System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = time ?? TimeProvider.System;
        _windowStart = _time.GetTimestamp();
        // No rate is known before the first window ends: sample at most the target in it, not twice the target.
        _budget = (long)Math.Ceiling(options.TargetTracesPerSecond);
        _status = new AdaptiveSamplerStatus(1, double.NaN, 0, double.NaN, double.NaN, false, options.TargetTracesPerSecond, null);
        Description = $"TraceProfAdaptive{{target={options.TargetTracesPerSecond}/s}}";
        // The window is rolled by a timer, not by the spans: reading the clock on every root cost more than the
        // rest of the decision on this machine (docs/benchmarks.md), and a quiet second still ends its window.
        _timer = _time.CreateTimer(static state => ((AdaptiveSampler)state!).Roll(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        _ownMeter = Diagnostics.TraceProfAspNetCoreMetrics.ObserveAdaptiveSampler(meterFactory, () =>
        {
            var s = Status;
            return (s.Probability, s.RootsPerSecond, s.SampledPerSecond, s.ErrorRate, s.P95Milliseconds, s.Boosted);
        });
    }

    /// <summary>Gets the settings.</summary>
    public TraceProfAdaptiveSamplingOptions Options => _options;

    // Both the provider and the container that made it may dispose it.
    public void Dispose()
    {
        _timer.Dispose();
        Interlocked.Exchange(ref _ownMeter, null)?.Dispose();
    }

    /// <summary>Gets the figures of the last completed window.</summary>
    public AdaptiveSamplerStatus Status => Volatile.Read(ref _status);

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        // Parent-based: a parent's decision, local or from traceparent, stands; only roots are decided here.
        var parent = samplingParameters.ParentContext;
        if (parent.TraceId != default)
        {
            return (parent.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? Sampled : Dropped;
        }

        Interlocked.Increment(ref _roots);
        var threshold = Volatile.Read(ref _threshold);
        if (threshold != long.MaxValue && RandomPart(samplingParameters.TraceId) >= threshold)
        {
            return Dropped;
        }

        return Interlocked.Increment(ref _sampledInWindow) <= Volatile.Read(ref _budget) ? Sampled : Dropped;
    }

    /// <summary>Records how a local root span ended (called by <see cref="AdaptiveSamplingProcessor"/>).</summary>
    /// <param name="duration">Its duration.</param>
    /// <param name="failed">Whether it ended in error.</param>
    public void ObserveEnd(TimeSpan duration, bool failed)
    {
        lock (_endGate)
        {
            var n = _ends++;
            if (failed)
            {
                _errors++;
            }

            if (n < LatencyReservoir)
            {
                _durations[n] = duration.TotalMilliseconds;
            }
            else if (Random.Shared.NextInt64(n + 1) is var slot && slot < LatencyReservoir)
            {
                _durations[slot] = duration.TotalMilliseconds;
            }
        }
    }

    // The last eight bytes of the trace id as a non-negative 63-bit number.
    private static long RandomPart(ActivityTraceId traceId)
    {
        Span<byte> bytes = stackalloc byte[16];
        traceId.CopyTo(bytes);
        return BinaryPrimitives.ReadInt64BigEndian(bytes[8..]) & long.MaxValue;
    }

    private void Roll()
    {
        if (!_rollGate.TryEnter())
        {
            return; // the previous tick still rolls
        }

        try
        {
            var now = _time.GetTimestamp();
            var start = Volatile.Read(ref _windowStart);
            if (now <= start)
            {
                return;
            }

            var seconds = (double)(now - start) / _time.TimestampFrequency;
            var roots = Interlocked.Exchange(ref _roots, 0);
            var sampled = Math.Min(Interlocked.Exchange(ref _sampledInWindow, 0), Volatile.Read(ref _budget));
            long ends;
            long errors;
            double[] durations;
            lock (_endGate)
            {
                (ends, errors, durations) = (_ends, _errors, _durations);
                (_ends, _errors, _durations) = (0, 0, new double[LatencyReservoir]);
            }

            var rate = roots / seconds;
            _smoothedRate = double.IsNaN(_smoothedRate) ? rate : (Smoothing * rate) + ((1 - Smoothing) * _smoothedRate);
            var errorRate = ends == 0 ? double.NaN : (double)errors / ends;
            var p95 = Percentile95(durations, (int)Math.Min(ends, LatencyReservoir));
            var slow = _options.LatencyBoostMilliseconds > 0 && p95 > _options.LatencyBoostMilliseconds;
            var failing = errors > 0 && errorRate > _options.ErrorRateBoostThreshold && _options.ErrorRateBoostThreshold < 1;
            if (slow || failing)
            {
                _boostUntil = now + (_options.BoostSeconds * _time.TimestampFrequency);
            }

            var boosted = now < _boostUntil;
            var probability = _smoothedRate <= 0 ? 1 : Math.Clamp(_options.TargetTracesPerSecond / _smoothedRate, _options.MinProbability, 1);
            if (boosted)
            {
                probability = Math.Min(1, probability * _options.BoostFactor);
            }

            Volatile.Write(ref _threshold, probability >= 1 ? long.MaxValue : (long)(probability * long.MaxValue));
            Volatile.Write(ref _budget, Budget(boosted));
            Volatile.Write(ref _windowStart, now);
            Volatile.Write(ref _status, new AdaptiveSamplerStatus(
                probability, rate, sampled / seconds, errorRate, p95, boosted, _options.TargetTracesPerSecond,
                boosted ? _time.GetUtcNow() + TimeSpan.FromSeconds((double)(_boostUntil - now) / _time.TimestampFrequency) : null));
        }
        finally
        {
            _rollGate.Exit();
        }
    }

    private long Budget(bool boosted) =>
        (long)Math.Ceiling(2 * _options.TargetTracesPerSecond * (boosted ? _options.BoostFactor : 1));

    private static double Percentile95(double[] durations, int count)
    {
        if (count == 0)
        {
            return double.NaN;
        }

        Array.Sort(durations, 0, count);
        return durations[Math.Min(count - 1, (int)Math.Ceiling(0.95 * count) - 1)];
    }
}
