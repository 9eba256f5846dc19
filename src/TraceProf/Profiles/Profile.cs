namespace TraceProf.Profiles;

/// <summary>
/// The neutral profile model every parser produces and every encoder reads: sample types, interned frames,
/// and aggregated samples. It knows nothing of EventPipe or of any output format.
/// </summary>
public sealed class Profile
{
    internal Profile(
        IReadOnlyList<SampleType> sampleTypes,
        int defaultSampleTypeIndex,
        SampleType periodType,
        long period,
        DateTimeOffset startTime,
        TimeSpan duration,
        IReadOnlyList<ProfileFrame> frames,
        IReadOnlyList<ProfileSample> samples,
        IReadOnlyList<string> comments)
    {
        SampleTypes = sampleTypes;
        DefaultSampleTypeIndex = defaultSampleTypeIndex;
        PeriodType = periodType;
        Period = period;
        StartTime = startTime;
        Duration = duration;
        Frames = frames;
        Samples = samples;
        Comments = comments;
    }

    /// <summary>This profile with one more comment and, if given, another duration (frames and samples shared).</summary>
    /// <param name="comment">The comment to add.</param>
    /// <param name="duration">The duration, or null to keep it.</param>
    /// <returns>The new profile.</returns>
    internal Profile WithComment(string comment, TimeSpan? duration = null) =>
        new(SampleTypes, DefaultSampleTypeIndex, PeriodType, Period, StartTime, duration ?? Duration, Frames, Samples, [.. Comments, comment]);

    /// <summary>The value columns, in the order of <see cref="ProfileSample.Values"/>.</summary>
    public IReadOnlyList<SampleType> SampleTypes { get; }

    /// <summary>Index into <see cref="SampleTypes"/> of the column viewers show first.</summary>
    public int DefaultSampleTypeIndex { get; }

    /// <summary>What <see cref="Period"/> measures (for a CPU profile, <c>cpu/nanoseconds</c>).</summary>
    public SampleType PeriodType { get; }

    /// <summary>The sampling period in units of <see cref="PeriodType"/>; 0 when the profile is not periodic.</summary>
    public long Period { get; }

    /// <summary>When the capture started.</summary>
    public DateTimeOffset StartTime { get; }

    /// <summary>How long the capture ran.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Every distinct frame, referenced by index from <see cref="ProfileSample.Stack"/>.</summary>
    public IReadOnlyList<ProfileFrame> Frames { get; }

    /// <summary>The aggregated samples.</summary>
    public IReadOnlyList<ProfileSample> Samples { get; }

    /// <summary>Free-text notes about how the profile was made (pprof <c>comment</c>).</summary>
    public IReadOnlyList<string> Comments { get; }

    /// <summary>
    /// Gets the module that is "the program" (pprof's mapping 0, the <c>File:</c> of <c>go tool pprof</c>): the one
    /// read from a decoded profile; null for a profile of this process, whose encoders take the entry assembly.
    /// </summary>
    internal string? MainModule { get; init; }

    /// <summary>Sums one value column over all samples.</summary>
    /// <param name="sampleTypeIndex">Index into <see cref="SampleTypes"/>.</param>
    /// <returns>The total.</returns>
    public long Total(int sampleTypeIndex)
    {
        long total = 0;
        foreach (var sample in Samples)
        {
            total += sample.Values[sampleTypeIndex];
        }

        return total;
    }
}
