using System.Globalization;
using System.Runtime.InteropServices;
using TraceProf.Profiles;

namespace TraceProf.Parsing;

/// <summary>
/// Turns an allocation capture into a profile with the columns alloc_objects and alloc_space, the allocated type
/// as the leaf frame and as the <c>object_type</c> label.
/// </summary>
/// <remarks>
/// The .NET 10 <c>AllocationSampled</c> event samples allocations at random byte offsets with a mean distance of
/// 100 KiB (the runtime's randomized allocation sampling design). An object of <c>size</c> bytes is sampled with
/// probability <c>1 - q^size</c>, <c>q = 1 - 1/102400</c>, so each sample stands for <c>size / (1 - q^size)</c>
/// bytes and <c>1 / (1 - q^size)</c> objects: an unbiased estimate. Older runtimes only have
/// <c>GCAllocationTick</c>, one event per ~100 KB, which is attributed wholesale to the object that crossed the
/// threshold: biased, and said so in the profile's comment.
/// </remarks>
internal static class AllocationProfileParser
{
    /// <summary>The mean sampling distance of <c>AllocationSampled</c>, in bytes.</summary>
    public const double SamplingDistance = 102_400;

    private static readonly double LogQ = double.LogP1(-1 / SamplingDistance);

    public static Profile Parse(TraceLogReader reader, ParseOptions options, CancellationToken cancellationToken)
    {
        var builder = reader.NewBuilder(WellKnownSampleTypes.AllocationProfile, 1);
        builder.PeriodType = WellKnownSampleTypes.AllocSpace;
        builder.Period = (long)SamplingDistance;

        var labels = new LabelSet(options);
        var typeFrames = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new List<int>(64);
        long sampled = 0, ticks = 0;
        var values = new long[2];

        void Add(Microsoft.Diagnostics.Tracing.TraceEvent data, string typeName, long objects, long bytes)
        {
            if (((sampled + ticks) & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            reader.ResolveStack(data, builder, stack);
            if (!typeFrames.TryGetValue(typeName, out var typeFrame))
            {
                typeFrame = builder.InternFrame(new ProfileFrame(typeName, "(allocated type)"));
                typeFrames[typeName] = typeFrame;
            }

            stack.Insert(0, typeFrame);
            values[0] = objects;
            values[1] = bytes;
            builder.Add(CollectionsMarshal.AsSpan(stack), values, labels.For(data.ThreadID, data.RawTimestamp(), new ProfileLabel("object_type", typeName)));
        }

        var source = reader.Log.Events.GetSource();
        source.Clr.AllocationSampling += data =>
        {
            sampled++;
            var (objects, bytes) = Weigh(data.ObjectSize);
            Add(data, TypeName(data.TypeName), objects, bytes);
        };
        source.Clr.GCAllocationTick += data =>
        {
            ticks++;
            var size = Math.Max(1, data.ObjectSize);
            Add(data, TypeName(data.TypeName), Math.Max(1, data.AllocationAmount64 / size), data.AllocationAmount64);
        };
        source.Process();

        builder.AddComment(sampled > 0 || ticks == 0
            ? string.Create(CultureInfo.InvariantCulture, $"TraceProf allocation profile: {sampled} AllocationSampled events; each stands for size/(1-q^size) bytes, q = 1 - 1/{SamplingDistance} (unbiased estimate).")
            : string.Create(CultureInfo.InvariantCulture, $"TraceProf allocation profile: {ticks} GCAllocationTick events (this runtime has no AllocationSampled); each ~100 KB is attributed to the object that crossed the threshold, so small types are under-counted."));
        reader.AddUnresolvedComment(builder);
        return builder.Build();
    }

    /// <summary>What one <c>AllocationSampled</c> event of an object of <paramref name="objectSize"/> bytes stands for.</summary>
    public static (long Objects, long Bytes) Weigh(long objectSize)
    {
        var size = Math.Max(1, objectSize);
        var probability = -double.ExpM1(size * LogQ);
        return ((long)Math.Round(1 / probability), (long)Math.Round(size / probability));
    }

    private static string TypeName(string? name) => string.IsNullOrEmpty(name) ? "(unknown type)" : name;
}
