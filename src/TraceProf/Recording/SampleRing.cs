using System.Diagnostics;

namespace TraceProf.Recording;

/// <summary>
/// The recorder's bounded memory: a queue of <see cref="SampleSegment"/>s, each a slice of the window. The newest
/// segment takes the samples; whole segments are dropped once they are older than the window or when the sample
/// bound is reached. One writer (the session's reader thread) and occasional readers (cuts) share it under a lock.
/// </summary>
internal sealed class SampleRing
{
    // A window is kept in about this many segments: dropping one frees a sixth of the memory at a time.
    private const int SegmentsPerWindow = 6;

    private readonly Lock _lock = new();
    private readonly LinkedList<SampleSegment> _segments = [];
    private readonly long _windowTicks;
    private readonly long _segmentTicks;
    private readonly int _maxSamples;
    private readonly int _maxSamplesPerSegment;
    private long _retained;

    // Distinct allocated types and exception types: bounded by the process's types; the cap guards against generated ones.
    private const int MaxTypeNames = 100_000;

    private readonly Dictionary<string, int> _typeNameIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _typeIds;

    public SampleRing(TimeSpan window, int maxSamples)
    {
        _typeIds = _typeNameIds.GetAlternateLookup<ReadOnlySpan<char>>();
        _windowTicks = (long)(window.TotalSeconds * Stopwatch.Frequency);
        _segmentTicks = Math.Max(1, _windowTicks / SegmentsPerWindow);
        _maxSamples = maxSamples;
        _maxSamplesPerSegment = Math.Max(1, maxSamples / SegmentsPerWindow);
    }

    /// <summary>
    /// Gets the allocated types' and thrown exceptions' names, interned once each (bounded by the number of types the process has);
    /// segments refer to them by index. Read and appended under <see cref="Gate"/>.
    /// </summary>
    public List<string> TypeNames { get; } = [];

    /// <summary>
    /// The index of a type name in <see cref="TypeNames"/>, added when new; -1 when the table is full. One table for every
    /// writer (the main session's and the exception session's handlers), so a name is interned once. Call under <see cref="Gate"/>.
    /// </summary>
    public int TypeId(ReadOnlySpan<char> name)
    {
        if (!_typeIds.TryGetValue(name, out var type))
        {
            if (TypeNames.Count >= MaxTypeNames)
            {
                return -1;
            }

            type = TypeNames.Count;
            var text = name.ToString();
            TypeNames.Add(text);
            _typeIds[text] = type;
        }

        return type;
    }

    /// <summary>Gets the lock writers and readers take around segment access.</summary>
    public Lock Gate => _lock;

    /// <summary>
    /// The segment to write an event at <paramref name="time"/> into; starts a new one when the current one is
    /// full or long enough, and drops what has aged out. Call under <see cref="Gate"/>.
    /// </summary>
    public SampleSegment Current(long time, out bool rotated)
    {
        rotated = false;
        var current = _segments.Last?.Value;
        if (current is null || time - current.FirstTimestamp >= _segmentTicks || current.EventCount >= _maxSamplesPerSegment)
        {
            current = new SampleSegment(time);
            _segments.AddLast(current);
            rotated = true;
            Evict(time);
        }

        return current;
    }

    /// <summary>Counts a sample added to the current segment. Call under <see cref="Gate"/>.</summary>
    public void Added() => _retained++;

    /// <summary>The segments overlapping [from, to]. Call under <see cref="Gate"/>.</summary>
    public IEnumerable<SampleSegment> Overlapping(long from, long to)
    {
        foreach (var segment in _segments)
        {
            if (segment.LastTimestamp >= from && segment.FirstTimestamp <= to)
            {
                yield return segment;
            }
        }
    }

    /// <summary>Gets what is held. Takes <see cref="Gate"/>.</summary>
    public (long Samples, long Contentions, long Stacks, int Segments, long Bytes, long From) Measure()
    {
        lock (_lock)
        {
            long samples = 0, contentions = 0, stacks = 0, bytes = 0;
            foreach (var segment in _segments)
            {
                samples += segment.SampleCount;
                contentions += segment.ContentionCount + segment.AllocationCount + segment.WaitCount + segment.ExceptionCount;
                stacks += segment.Stacks.Count;
                bytes += segment.Bytes;
            }

            return (samples, contentions, stacks, _segments.Count, bytes, _segments.First?.Value.FirstTimestamp ?? 0);
        }
    }

    private void Evict(long now)
    {
        // Keep the newest segment always; drop older ones that ended before the window, then while over the bound.
        while (_segments.Count > 1)
        {
            var oldest = _segments.First!.Value;
            var tooOld = now - oldest.LastTimestamp > _windowTicks;
            var tooMany = _retained > _maxSamples - _maxSamplesPerSegment;
            if (!tooOld && !tooMany)
            {
                break;
            }

            _retained -= oldest.EventCount;
            _segments.RemoveFirst();
        }
    }
}
