using System.Globalization;
using TraceProf.Attribution;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Block;

/// <summary>
/// The block kind's builder: one sample per blocking wait (a lock contention or a wait-handle wait) at the
/// waiter's stack when the wait began, with the columns contentions and delay, the span labels of what the thread
/// worked for then, <c>wait_source</c> and <c>threadpool</c>. Fed by the file parser
/// (<see cref="StreamingBlockProfileParser"/>) and by the flight recorder's cut, so both give the same profile.
/// </summary>
internal sealed class BlockProfileBuilder
{
    /// <summary>The default sample type's index (delay, as Go's block profile).</summary>
    public const int DefaultSampleIndex = 1;

    private static readonly ProfileLabel[] SourceLabels =
        [.. Enum.GetValues<BlockWaitSource>().Select(s => new ProfileLabel(BlockWaits.WaitSourceLabel, BlockWaits.Name(s)))];

    private static readonly ProfileLabel InPool = new(BlockWaits.ThreadPoolLabel, "true");
    private static readonly ProfileLabel NotInPool = new(BlockWaits.ThreadPoolLabel, "false");

    private readonly ProfileBuilder _builder;
    private readonly SampleAttributor _labels;
    private readonly long[] _values = new long[2];
    private readonly long[] _bySource = new long[SourceLabels.Length];

    /// <summary>Creates a builder over a profile builder whose frames the feed interns.</summary>
    /// <param name="builder">A builder made with <see cref="SampleTypes"/>.</param>
    /// <param name="labels">The attribution stage.</param>
    public BlockProfileBuilder(ProfileBuilder builder, SampleAttributor labels)
    {
        _builder = builder;
        _labels = labels;
        builder.PeriodType = WellKnownSampleTypes.Contentions;
        builder.Period = 1;
    }

    /// <summary>The sample types of the kind's profile: contentions/count, delay/nanoseconds (the default).</summary>
    public static IReadOnlyList<SampleType> SampleTypes => WellKnownSampleTypes.ContentionProfile;

    /// <summary>Gets the profile builder (the feed interns frames in it).</summary>
    public ProfileBuilder Profile => _builder;

    /// <summary>Gets the number of waits added.</summary>
    public long Waits { get; private set; }

    /// <summary>Adds one wait.</summary>
    /// <param name="stack">The waiting stack when the wait began, leaf first, as frame ids of <see cref="Profile"/>.</param>
    /// <param name="threadId">The waiting OS thread.</param>
    /// <param name="startTimestamp">When the wait began (Stopwatch clock): the span it is charged to.</param>
    /// <param name="delayNanoseconds">How long it waited.</param>
    /// <param name="source">What it waited in.</param>
    /// <param name="threadPool">Whether the thread is a pool worker (by its name, or its stack's start).</param>
    public void AddWait(ReadOnlySpan<int> stack, int threadId, long startTimestamp, long delayNanoseconds, BlockWaitSource source, bool threadPool) =>
        AddWaits(stack, threadId, startTimestamp, 1, delayNanoseconds, source, threadPool);

    /// <summary>Adds waits that a feed has already counted together (same stack, thread, span and source).</summary>
    /// <param name="stack">The waiting stack when the waits began, leaf first, as frame ids of <see cref="Profile"/>.</param>
    /// <param name="threadId">The waiting OS thread.</param>
    /// <param name="startTimestamp">When one of the waits began (Stopwatch clock): all of them were in its span.</param>
    /// <param name="count">How many waits.</param>
    /// <param name="delayNanoseconds">How long they waited together.</param>
    /// <param name="source">What they waited in.</param>
    /// <param name="threadPool">Whether the thread is a pool worker (by its name, or its stack's start).</param>
    public void AddWaits(ReadOnlySpan<int> stack, int threadId, long startTimestamp, long count, long delayNanoseconds, BlockWaitSource source, bool threadPool)
    {
        Waits += count;
        _bySource[(int)source] += count;
        _values[0] = count;
        _values[1] = Math.Max(0, delayNanoseconds);
        _builder.Add(stack, _values, _labels.For(threadId, startTimestamp, SourceLabels[(int)source], threadPool ? InPool : NotInPool));
    }

    /// <summary>The comment of a profile whose feed left out the waits of service threads.</summary>
    /// <param name="left">How many waits it left out.</param>
    /// <returns>The comment.</returns>
    public static string ServiceThreadsComment(long left) =>
        string.Create(CultureInfo.InvariantCulture, $"{left} waits of threads that wait by design (the runtime's timer and thread-pool gate, TraceProf's own session readers) are left out.");

    /// <summary>A comment counting the waits of each source, e.g. for the profile's header.</summary>
    /// <param name="origin">Where the waits came from, e.g. <c>TraceProf block profile</c>.</param>
    /// <returns>The comment.</returns>
    public string CountsComment(string origin) =>
        string.Create(CultureInfo.InvariantCulture, $"{origin}: {Waits} waits (") +
        string.Join(", ", Enum.GetValues<BlockWaitSource>().Select(s => string.Create(CultureInfo.InvariantCulture, $"{BlockWaits.Name(s)} {_bySource[(int)s]}"))) +
        "); a wait-handle wait inside a lock contention is the lock's own and counted once, as lock.";

    /// <summary>Builds the profile (the feed has added its comments to <see cref="Profile"/>).</summary>
    /// <returns>The profile.</returns>
    public Profile Build() => _builder.Build();
}
