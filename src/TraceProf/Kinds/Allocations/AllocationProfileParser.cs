using System.Globalization;
using System.Runtime.InteropServices;
using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Allocations;

/// <summary>
/// Feeds an allocation capture file to <see cref="AllocationProfileBuilder"/>. Older runtimes only have
/// <c>GCAllocationTick</c>, one event per ~100 KB, which is attributed wholesale to the object that crossed the
/// threshold: biased, and said so in the profile's comment.
/// </summary>
internal static class AllocationProfileParser
{
    public static Profile Parse(TraceLogReader reader, SampleAttributor labels, CancellationToken cancellationToken)
    {
        var builder = new AllocationProfileBuilder(reader.NewBuilder(AllocationProfileBuilder.SampleTypes, AllocationProfileBuilder.DefaultSampleIndex), labels);
        var stack = new List<int>(64);
        long sampled = 0, ticks = 0;

        void CheckCancellation()
        {
            if (((sampled + ticks) & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        var source = reader.Log.Events.GetSource();
        source.Clr.AllocationSampling += data =>
        {
            CheckCancellation();
            sampled++;
            reader.ResolveStack(data, builder.Profile, stack);
            builder.AddSampled(CollectionsMarshal.AsSpan(stack), data.ThreadID, data.RawTimestamp(), data.TypeName, data.ObjectSize);
        };
        source.Clr.GCAllocationTick += data =>
        {
            CheckCancellation();
            ticks++;
            reader.ResolveStack(data, builder.Profile, stack);
            var size = Math.Max(1, data.ObjectSize);
            builder.Add(CollectionsMarshal.AsSpan(stack), data.ThreadID, data.RawTimestamp(), data.TypeName, Math.Max(1, data.AllocationAmount64 / size), data.AllocationAmount64);
        };
        source.Process();

        builder.Profile.AddComment(sampled > 0 || ticks == 0
            ? "TraceProf allocation profile: " + AllocationProfileBuilder.SampledComment(sampled, "AllocationSampled events")
            : string.Create(CultureInfo.InvariantCulture, $"TraceProf allocation profile: {ticks} GCAllocationTick events (this runtime has no AllocationSampled); each ~100 KB is attributed to the object that crossed the threshold, so small types are under-counted."));
        reader.AddUnresolvedComment(builder.Profile);
        return builder.Build();
    }
}
