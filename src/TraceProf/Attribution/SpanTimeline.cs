using TraceProf.Profiles;

namespace TraceProf.Attribution;

/// <summary>
/// A frozen, per-thread timeline of "what was this thread working for": (OS thread, timestamp) → labels.
/// Samples join it on the same clock EventPipe uses (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).
/// </summary>
internal sealed class SpanTimeline
{
    private readonly Dictionary<int, (long[] Times, ProfileLabel[]?[] Labels)> _threads;

    /// <summary>Creates a timeline.</summary>
    /// <param name="threads">Per OS thread id: entries in time order (timestamp, labels or null for "nothing").</param>
    /// <param name="overflowedThreads">How many threads lost early entries to the per-thread bound.</param>
    public SpanTimeline(IReadOnlyDictionary<int, IReadOnlyList<(long Timestamp, ProfileLabel[]? Labels)>> threads, int overflowedThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(threads);
        _threads = threads.ToDictionary(
            t => t.Key,
            t => (t.Value.Select(e => e.Timestamp).ToArray(), t.Value.Select(e => e.Labels).ToArray()));
        OverflowedThreads = overflowedThreads;
    }

    /// <summary>An empty timeline: no sample is attributed.</summary>
    public static SpanTimeline Empty { get; } = new(new Dictionary<int, IReadOnlyList<(long, ProfileLabel[]?)>>());

    /// <summary>Gets how many threads lost early entries to the per-thread bound.</summary>
    public int OverflowedThreads { get; }

    /// <summary>Gets the number of entries.</summary>
    public int EntryCount => _threads.Values.Sum(t => t.Times.Length);

    /// <summary>The labels of what the thread was working for at that moment, or null.</summary>
    /// <param name="osThreadId">The OS thread id of the sample.</param>
    /// <param name="timestamp">The sample's timestamp on the Stopwatch clock.</param>
    /// <returns>The labels, or null.</returns>
    public ProfileLabel[]? LabelsAt(int osThreadId, long timestamp)
    {
        if (!_threads.TryGetValue(osThreadId, out var thread))
        {
            return null;
        }

        // The latest entry at or before the sample.
        var index = Array.BinarySearch(thread.Times, timestamp);
        if (index < 0)
        {
            index = ~index - 1;
        }
        else
        {
            while (index + 1 < thread.Times.Length && thread.Times[index + 1] == timestamp)
            {
                index++;
            }
        }

        return index >= 0 ? thread.Labels[index] : null;
    }
}
