namespace TraceProf.AspNetCore;

/// <summary>
/// Settings of the adaptive head sampler added by
/// <c>AddTraceProfAdaptiveSampling</c>: about <see cref="TargetTracesPerSecond"/> root traces are sampled whatever
/// the request rate, more for <see cref="BoostSeconds"/> after a window with many errors or slow requests.
/// </summary>
public sealed class TraceProfAdaptiveSamplingOptions
{
    /// <summary>The default of <see cref="TargetTracesPerSecond"/>.</summary>
    public const double DefaultTargetTracesPerSecond = 10;

    /// <summary>The default of <see cref="MinProbability"/>.</summary>
    public const double DefaultMinProbability = 0.001;

    /// <summary>The default of <see cref="ErrorRateBoostThreshold"/>.</summary>
    public const double DefaultErrorRateBoostThreshold = 0.05;

    /// <summary>The default of <see cref="BoostFactor"/>.</summary>
    public const double DefaultBoostFactor = 10;

    /// <summary>The default of <see cref="BoostSeconds"/>.</summary>
    public const int DefaultBoostSeconds = 30;

    /// <summary>
    /// Gets or sets how many root traces per second should be sampled. The probability is recomputed every second
    /// from the observed rate of root spans (smoothed over the last windows). Default value: 10. Range: 0.01 to 100000.
    /// </summary>
    public double TargetTracesPerSecond { get; set; } = DefaultTargetTracesPerSecond;

    /// <summary>
    /// Gets or sets the lowest probability, whatever the rate: a flood still leaves some traces. Default value: 0.001.
    /// Range: 0 to 1.
    /// </summary>
    public double MinProbability { get; set; } = DefaultMinProbability;

    /// <summary>
    /// Gets or sets the share of local root spans ending in error (error status, 5xx, or an exception event) in the
    /// last second above which the probability is boosted. Default value: 0.05 (5 %). Range: 0 to 1; 1 turns it off.
    /// </summary>
    public double ErrorRateBoostThreshold { get; set; } = DefaultErrorRateBoostThreshold;

    /// <summary>
    /// Gets or sets the 95th percentile of local root span durations in the last second above which the probability is
    /// boosted, in milliseconds. Default value: 0 (off). Range: 0 to 3600000.
    /// </summary>
    public double LatencyBoostMilliseconds { get; set; }

    /// <summary>Gets or sets how much a boost multiplies the probability (capped at 1). Default value: 10. Range: 1 to 10000.</summary>
    public double BoostFactor { get; set; } = DefaultBoostFactor;

    /// <summary>Gets or sets how long a boost lasts after the window that caused it, in seconds. Default value: 30. Range: 1 to 3600.</summary>
    public int BoostSeconds { get; set; } = DefaultBoostSeconds;

    /// <summary>Throws when a setting is out of its range, naming it.</summary>
    internal void Validate()
    {
        static void Check(bool ok, string name, object value, string range)
        {
            if (!ok)
            {
                throw new ArgumentOutOfRangeException(name, value, $"TraceProfAdaptiveSamplingOptions.{name} must be {range}; got {value}.");
            }
        }

        Check(TargetTracesPerSecond is >= 0.01 and <= 100_000, nameof(TargetTracesPerSecond), TargetTracesPerSecond, "from 0.01 to 100000");
        Check(MinProbability is >= 0 and <= 1, nameof(MinProbability), MinProbability, "from 0 to 1");
        Check(ErrorRateBoostThreshold is >= 0 and <= 1, nameof(ErrorRateBoostThreshold), ErrorRateBoostThreshold, "from 0 to 1");
        Check(LatencyBoostMilliseconds is >= 0 and <= 3_600_000, nameof(LatencyBoostMilliseconds), LatencyBoostMilliseconds, "from 0 (off) to 3600000");
        Check(BoostFactor is >= 1 and <= 10_000, nameof(BoostFactor), BoostFactor, "from 1 to 10000");
        Check(BoostSeconds is >= 1 and <= 3600, nameof(BoostSeconds), BoostSeconds, "from 1 to 3600");
    }
}
