namespace TraceProf.AspNetCore.Pyroscope;

/// <summary>One interval's profiles, waiting to be pushed.</summary>
/// <param name="Series">One entry per profile type.</param>
/// <param name="StartTime">When the interval began.</param>
/// <param name="Duration">How long it covered.</param>
internal sealed record PyroscopeUpload(IReadOnlyList<PyroscopeSeries> Series, DateTimeOffset StartTime, TimeSpan Duration)
{
    /// <summary>Gets the pprof bytes of every series.</summary>
    public long Bytes => Series.Sum(s => s.Pprof.LongLength);

    /// <summary>Gets the samples of every series.</summary>
    public int Samples => Series.Sum(s => s.Samples);
}
