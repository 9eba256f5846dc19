using System.Globalization;
using TraceProf.Attribution;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Allocations;

/// <summary>
/// The allocations kind's builder: one sample per sampled allocation with the columns alloc_objects and
/// alloc_space, the allocated type as the leaf frame and as the <c>object_type</c> label. Fed by the file parser
/// (<see cref="AllocationProfileParser"/>) and by the flight recorder's cut, so both give the same profile.
/// </summary>
/// <remarks>
/// The .NET 10 <c>AllocationSampled</c> event samples allocations at random byte offsets with a mean distance of
/// 100 KiB (the runtime's randomized allocation sampling design). An object of <c>size</c> bytes is sampled with
/// probability <c>1 - q^size</c>, <c>q = 1 - 1/102400</c>, so each sample stands for <c>size / (1 - q^size)</c>
/// bytes and <c>1 / (1 - q^size)</c> objects: an unbiased estimate (<see cref="Weigh"/>).
/// </remarks>
internal sealed class AllocationProfileBuilder
{
    /// <summary>The mean sampling distance of <c>AllocationSampled</c>, in bytes.</summary>
    public const double SamplingDistance = 102_400;

    /// <summary>The default sample type's index (alloc_space).</summary>
    public const int DefaultSampleIndex = 1;

    private static readonly double LogQ = double.LogP1(-1 / SamplingDistance);

    private readonly ProfileBuilder _builder;
    private readonly SampleAttributor _labels;
    private readonly Dictionary<string, (int Frame, ProfileLabel Label)> _types = new(StringComparer.Ordinal);
    private readonly List<int> _stack = new(64);
    private readonly long[] _values = new long[2];

    /// <summary>Creates a builder over a profile builder whose frames the feed interns.</summary>
    /// <param name="builder">A builder made with <see cref="WellKnownSampleTypes.AllocationProfile"/>.</param>
    /// <param name="labels">The attribution stage.</param>
    public AllocationProfileBuilder(ProfileBuilder builder, SampleAttributor labels)
    {
        _builder = builder;
        _labels = labels;
        builder.PeriodType = WellKnownSampleTypes.AllocSpace;
        builder.Period = (long)SamplingDistance;
    }

    /// <summary>The sample types of the kind's profile: alloc_objects/count, alloc_space/bytes (the default).</summary>
    public static IReadOnlyList<SampleType> SampleTypes => WellKnownSampleTypes.AllocationProfile;

    /// <summary>Gets the profile builder (the feed interns frames in it).</summary>
    public ProfileBuilder Profile => _builder;

    /// <summary>Gets the number of allocations added.</summary>
    public long Allocations { get; private set; }

    /// <summary>Adds one allocation.</summary>
    /// <param name="stack">The allocating stack, leaf first, as frame ids of <see cref="Profile"/>.</param>
    /// <param name="threadId">The allocating OS thread.</param>
    /// <param name="timestamp">When (Stopwatch clock).</param>
    /// <param name="typeName">The allocated type, or null when unknown.</param>
    /// <param name="objects">How many objects the event stands for.</param>
    /// <param name="bytes">How many bytes it stands for.</param>
    public void Add(ReadOnlySpan<int> stack, int threadId, long timestamp, string? typeName, long objects, long bytes)
    {
        Allocations++;
        var name = string.IsNullOrEmpty(typeName) ? "(unknown type)" : typeName;
        if (!_types.TryGetValue(name, out var type))
        {
            type = (_builder.InternFrame(new ProfileFrame(name, "(allocated type)")), new ProfileLabel("object_type", name));
            _types[name] = type;
        }

        _stack.Clear();
        _stack.Add(type.Frame);
        foreach (var frame in stack)
        {
            _stack.Add(frame);
        }

        _values[0] = objects;
        _values[1] = bytes;
        _builder.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_stack), _values, _labels.For(threadId, timestamp, type.Label));
    }

    /// <summary>Adds one <c>AllocationSampled</c> event, weighed by <see cref="Weigh"/>.</summary>
    /// <param name="stack">The allocating stack, leaf first.</param>
    /// <param name="threadId">The allocating OS thread.</param>
    /// <param name="timestamp">When (Stopwatch clock).</param>
    /// <param name="typeName">The allocated type.</param>
    /// <param name="objectSize">The sampled object's size in bytes.</param>
    public void AddSampled(ReadOnlySpan<int> stack, int threadId, long timestamp, string? typeName, long objectSize)
    {
        var (objects, bytes) = Weigh(objectSize);
        Add(stack, threadId, timestamp, typeName, objects, bytes);
    }

    /// <summary>Builds the profile (the feed has added its comments to <see cref="Profile"/>).</summary>
    /// <returns>The profile.</returns>
    public Profile Build() => _builder.Build();

    /// <summary>What one <c>AllocationSampled</c> event of an object of <paramref name="objectSize"/> bytes stands for.</summary>
    /// <param name="objectSize">The object's size.</param>
    /// <returns>Objects and bytes.</returns>
    public static (long Objects, long Bytes) Weigh(long objectSize)
    {
        var size = Math.Max(1, objectSize);
        var probability = -double.ExpM1(size * LogQ);
        return ((long)Math.Round(1 / probability), (long)Math.Round(size / probability));
    }

    /// <summary>The comment of a profile fed by <c>AllocationSampled</c> events.</summary>
    /// <param name="sampled">Events read.</param>
    /// <param name="where">Where they came from, e.g. "AllocationSampled events" or "sampled allocations in the span".</param>
    /// <returns>The comment.</returns>
    public static string SampledComment(long sampled, string where) =>
        string.Create(CultureInfo.InvariantCulture, $"{sampled} {where}; each stands for size/(1-q^size) bytes, q = 1 - 1/{SamplingDistance} (unbiased estimate).");
}
