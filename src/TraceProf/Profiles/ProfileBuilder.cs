using System.Runtime.InteropServices;

namespace TraceProf.Profiles;

/// <summary>
/// Builds a <see cref="Profile"/>: interns frames, and folds events with the same stack and the same labels
/// into one sample by adding their values, so memory follows the variety of stacks, not the number of events.
/// </summary>
public sealed class ProfileBuilder
{
    private readonly SampleType[] _sampleTypes;
    private readonly List<ProfileFrame> _frames = [];
    private readonly Dictionary<ProfileFrame, int> _frameIds = [];
    private readonly List<ProfileSample> _samples = [];
    private readonly Dictionary<SampleKey, int> _sampleIds = [];
    private readonly List<string> _comments = [];

    /// <summary>Creates a builder for a profile with the given value columns.</summary>
    /// <param name="sampleTypes">The value columns; at least one.</param>
    /// <param name="defaultSampleTypeIndex">Which column viewers show first.</param>
    public ProfileBuilder(IReadOnlyList<SampleType> sampleTypes, int defaultSampleTypeIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(sampleTypes);
        if (sampleTypes.Count == 0)
        {
            throw new ArgumentException("A profile needs at least one sample type.", nameof(sampleTypes));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(defaultSampleTypeIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(defaultSampleTypeIndex, sampleTypes.Count);
        _sampleTypes = [.. sampleTypes];
        DefaultSampleTypeIndex = defaultSampleTypeIndex;
    }

    /// <summary>Gets or sets which column viewers show first.</summary>
    public int DefaultSampleTypeIndex { get; set; }

    /// <summary>Gets or sets what <see cref="Period"/> measures.</summary>
    public SampleType PeriodType { get; set; }

    /// <summary>Gets or sets the sampling period.</summary>
    public long Period { get; set; }

    /// <summary>Gets or sets when the capture started.</summary>
    public DateTimeOffset StartTime { get; set; }

    /// <summary>Gets or sets how long the capture ran.</summary>
    public TimeSpan Duration { get; set; }

    /// <summary>Gets or sets the module that is the program (<see cref="Profile.MainModule"/>); null for this process's.</summary>
    internal string? MainModule { get; set; }

    /// <summary>Gets the number of distinct samples so far.</summary>
    public int SampleCount => _samples.Count;

    /// <summary>Adds a note that ends up in the profile's comments.</summary>
    /// <param name="comment">The note.</param>
    public void AddComment(string comment) => _comments.Add(comment);

    /// <summary>Returns the id of a frame, adding it on first sight.</summary>
    /// <param name="frame">The frame.</param>
    /// <returns>Its index in <see cref="Profile.Frames"/>.</returns>
    public int InternFrame(ProfileFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(_frameIds, frame, out var exists);
        if (!exists)
        {
            id = _frames.Count;
            _frames.Add(frame);
        }

        return id;
    }

    /// <summary>Adds an event: its values are added to the sample with the same stack and labels.</summary>
    /// <param name="stack">Frame ids from <see cref="InternFrame"/>, leaf first.</param>
    /// <param name="values">One value per sample type.</param>
    /// <param name="labels">The event's labels; order does not matter.</param>
    public void Add(ReadOnlySpan<int> stack, ReadOnlySpan<long> values, ReadOnlySpan<ProfileLabel> labels)
    {
        if (values.Length != _sampleTypes.Length)
        {
            throw new ArgumentException($"Expected {_sampleTypes.Length} values, got {values.Length}.", nameof(values));
        }

        foreach (var frameId in stack)
        {
            if ((uint)frameId >= (uint)_frames.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(stack), frameId, "Unknown frame id.");
            }
        }

        var sortedLabels = labels.ToArray();
        Array.Sort(sortedLabels, static (a, b) =>
        {
            var byKey = string.CompareOrdinal(a.Key, b.Key);
            return byKey != 0 ? byKey : string.CompareOrdinal(a.Value, b.Value);
        });
        var key = new SampleKey(stack.ToArray(), sortedLabels);
        ref var sampleId = ref CollectionsMarshal.GetValueRefOrAddDefault(_sampleIds, key, out var exists);
        if (!exists)
        {
            sampleId = _samples.Count;
            _samples.Add(new ProfileSample(key.Stack, values.ToArray(), sortedLabels));
            return;
        }

        var sum = _samples[sampleId].MutableValues;
        for (var i = 0; i < sum.Length; i++)
        {
            sum[i] += values[i];
        }
    }

    /// <summary>Adds an event given as frames rather than frame ids.</summary>
    /// <param name="stack">Frames, leaf first.</param>
    /// <param name="values">One value per sample type.</param>
    /// <param name="labels">The event's labels.</param>
    public void Add(IReadOnlyList<ProfileFrame> stack, ReadOnlySpan<long> values, ReadOnlySpan<ProfileLabel> labels)
    {
        ArgumentNullException.ThrowIfNull(stack);
        var ids = new int[stack.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = InternFrame(stack[i]);
        }

        Add(ids, values, labels);
    }

    /// <summary>Creates the immutable profile. The builder should not be used afterwards.</summary>
    /// <returns>The profile.</returns>
    public Profile Build() => new(
        _sampleTypes,
        DefaultSampleTypeIndex,
        PeriodType,
        Period,
        StartTime,
        Duration,
        _frames.ToArray(),
        _samples.ToArray(),
        _comments.ToArray())
    {
        MainModule = MainModule,
    };

    private readonly struct SampleKey(int[] stack, ProfileLabel[] labels) : IEquatable<SampleKey>
    {
        public int[] Stack { get; } = stack;

        public ProfileLabel[] Labels { get; } = labels;

        public bool Equals(SampleKey other) =>
            Stack.AsSpan().SequenceEqual(other.Stack) && Labels.AsSpan().SequenceEqual(other.Labels);

        public override bool Equals(object? obj) => obj is SampleKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = default(HashCode);
            foreach (var frame in Stack)
            {
                hash.Add(frame);
            }

            foreach (var label in Labels)
            {
                hash.Add(label);
            }

            return hash.ToHashCode();
        }
    }
}
