namespace TraceProf.AspNetCore.OpenTelemetry;

/// <summary>The adaptive sampler's figures over its last completed one-second window.</summary>
/// <param name="Probability">The probability a root trace is sampled with now.</param>
/// <param name="RootsPerSecond">Root spans seen per second in the window (NaN before the first window ended).</param>
/// <param name="SampledPerSecond">Root spans sampled per second in the window.</param>
/// <param name="ErrorRate">Share of the local root spans observed ending in error (NaN when none ended).</param>
/// <param name="P95Milliseconds">95th percentile of their durations (NaN when none ended).</param>
/// <param name="Boosted">Whether the probability is boosted now.</param>
/// <param name="TargetTracesPerSecond">The configured target.</param>
/// <param name="BoostedUntil">When the boost ends, or null.</param>
internal sealed record AdaptiveSamplerStatus(
    double Probability,
    double RootsPerSecond,
    double SampledPerSecond,
    double ErrorRate,
    double P95Milliseconds,
    bool Boosted,
    double TargetTracesPerSecond,
    DateTimeOffset? BoostedUntil);
