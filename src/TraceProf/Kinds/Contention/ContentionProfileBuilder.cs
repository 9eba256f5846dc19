using System.Globalization;
using TraceProf.Attribution;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Contention;

/// <summary>
/// The contention kind's builder: one sample per lock wait at the waiting thread's stack, with the columns
/// contentions and delay. Fed by the file parser (<see cref="ContentionProfileParser"/>, TraceLog events) and by
/// the flight recorder's cut (waits matched live), so both give the same profile.
/// </summary>
internal sealed class ContentionProfileBuilder
{
    private readonly ProfileBuilder _builder;
    private readonly SampleAttributor _labels;
    private readonly long[] _values = new long[2];

    /// <summary>Creates a builder over a profile builder whose frames the feed interns.</summary>
    /// <param name="builder">A builder made with <see cref="WellKnownSampleTypes.ContentionProfile"/>.</param>
    /// <param name="labels">The attribution stage.</param>
    public ContentionProfileBuilder(ProfileBuilder builder, SampleAttributor labels)
    {
        _builder = builder;
        _labels = labels;
        builder.PeriodType = WellKnownSampleTypes.Contentions;
        builder.Period = 1;
    }

    /// <summary>The sample types of the kind's profile: contentions/count, delay/nanoseconds (the default).</summary>
    public static IReadOnlyList<SampleType> SampleTypes => WellKnownSampleTypes.ContentionProfile;

    /// <summary>The default sample type's index.</summary>
    public const int DefaultSampleIndex = 1;

    /// <summary>Gets the profile builder (the feed interns frames in it).</summary>
    public ProfileBuilder Profile => _builder;

    /// <summary>Gets the number of waits added.</summary>
    public long Waits { get; private set; }

    /// <summary>Adds one wait.</summary>
    /// <param name="stack">The waiting stack, leaf first, as frame ids of <see cref="Profile"/>.</param>
    /// <param name="threadId">The waiting OS thread.</param>
    /// <param name="startTimestamp">When the wait began (Stopwatch clock): the span it is charged to.</param>
    /// <param name="delayNanoseconds">How long it waited.</param>
    public void AddWait(ReadOnlySpan<int> stack, int threadId, long startTimestamp, long delayNanoseconds)
    {
        Waits++;
        _values[0] = 1;
        _values[1] = delayNanoseconds;
        _builder.Add(stack, _values, _labels.For(threadId, startTimestamp));
    }

    /// <summary>Builds the profile (the feed has added its comments to <see cref="Profile"/>).</summary>
    /// <returns>The profile.</returns>
    public Profile Build() => _builder.Build();

    /// <summary>The comment of a profile fed by the flight recorder.</summary>
    /// <param name="waits">Waits in the cut.</param>
    /// <returns>The comment.</returns>
    public static string RecorderComment(long waits) =>
        string.Create(CultureInfo.InvariantCulture, $"TraceProf flight recorder contention profile: {waits} waits that started in the span.");
}
