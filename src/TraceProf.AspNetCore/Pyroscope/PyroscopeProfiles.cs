using TraceProf.Profiles;
using TraceProf.Recording;

namespace TraceProf.AspNetCore.Pyroscope;

/// <summary>
/// Turns a process-wide cut of the flight recorder into the profiles Pyroscope shows, one per profile type and
/// named as Pyroscope's .NET integration names them: <c>process_cpu</c> (cpu/nanoseconds), <c>wall</c>
/// (wall/nanoseconds), <c>lock</c> (contentions/count, delay/nanoseconds), <c>memory</c> (alloc_objects/count,
/// alloc_space/bytes), <c>block</c> (the waits kind, named as Go's block profile), and <c>exception</c> once the
/// recorder records exceptions.
/// </summary>
/// <remarks>
/// Pyroscope makes one profile type per (name, sample type), so the CPU profile's three columns become two series:
/// <c>process_cpu</c> with its <c>cpu</c> column and <c>wall</c> with its <c>wall</c> column (<c>samples</c> would only
/// repeat <c>wall</c> in ticks).
/// </remarks>
internal static class PyroscopeProfiles
{
    /// <summary>The profile type names, in upload order.</summary>
    public const string ProcessCpu = "process_cpu";

    /// <summary>Wall time: every sampler tick, running or waiting.</summary>
    public const string Wall = "wall";

    /// <summary>Lock contention.</summary>
    public const string Lock = "lock";

    /// <summary>Sampled allocations.</summary>
    public const string Memory = "memory";

    /// <summary>Blocking waits (lock contention plus wait handles).</summary>
    public const string Block = "block";

    /// <summary>First-chance exceptions (kind <c>exceptions</c>, recorded by default).</summary>
    public const string Exception = "exception";

    /// <summary>The profiles of a cut, by Pyroscope profile type name; kinds not recorded or empty are left out.</summary>
    /// <param name="slice">A process-wide cut.</param>
    /// <returns>The profiles to upload.</returns>
    public static IReadOnlyList<(string Name, Profile Profile)> FromSlice(FlightRecorderSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        var result = new List<(string, Profile)>();
        if (slice.Cpu is { } cpu)
        {
            Add(result, ProcessCpu, cpu, WellKnownSampleTypes.Cpu);
            Add(result, Wall, cpu, WellKnownSampleTypes.Wall);
        }

        Add(result, Lock, slice.Contention);
        Add(result, Memory, slice.Allocations);
        Add(result, Block, slice.Block);
        Add(result, Exception, slice.Exceptions);
        return result;
    }

    /// <summary>
    /// A profile as uploaded: only <paramref name="columns"/> (all when none are named), labels rewritten by
    /// <see cref="PyroscopeLabels.ForUpload"/>, samples whose labels now agree merged, samples of zero left out.
    /// </summary>
    /// <param name="profile">TraceProf's profile.</param>
    /// <param name="columns">The sample types to keep, or none for all.</param>
    /// <returns>The profile to encode, or null when no sample has a value.</returns>
    public static Profile? ForUpload(Profile profile, params ReadOnlySpan<SampleType> columns)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var indexes = new List<int>();
        if (columns.IsEmpty)
        {
            indexes.AddRange(Enumerable.Range(0, profile.SampleTypes.Count));
        }
        else
        {
            foreach (var column in columns)
            {
                var index = IndexOf(profile.SampleTypes, column);
                if (index >= 0)
                {
                    indexes.Add(index);
                }
            }
        }

        if (indexes.Count == 0)
        {
            return null;
        }

        var defaultIndex = Math.Max(0, indexes.IndexOf(profile.DefaultSampleTypeIndex));
        var builder = new ProfileBuilder([.. indexes.Select(i => profile.SampleTypes[i])], defaultIndex)
        {
            // Pyroscope reads the period type of a single-column CPU or wall profile as its own unit.
            PeriodType = columns.Length == 1 ? columns[0] : profile.PeriodType,
            Period = profile.Period,
            StartTime = profile.StartTime,
            Duration = profile.Duration,
        };
        foreach (var comment in profile.Comments)
        {
            builder.AddComment(comment);
        }

        var frameIds = new int[profile.Frames.Count];
        for (var i = 0; i < frameIds.Length; i++)
        {
            frameIds[i] = -1;
        }

        var values = new long[indexes.Count];
        var labels = new List<ProfileLabel>();
        var stack = new List<int>();
        foreach (var sample in profile.Samples)
        {
            var any = false;
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = sample.Values[indexes[i]];
                any |= values[i] != 0;
            }

            if (!any)
            {
                continue;
            }

            stack.Clear();
            foreach (var frame in sample.Stack)
            {
                if (frameIds[frame] < 0)
                {
                    frameIds[frame] = builder.InternFrame(profile.Frames[frame]);
                }

                stack.Add(frameIds[frame]);
            }

            builder.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(stack), values, PyroscopeLabels.ForUpload(sample.Labels, labels));
        }

        return builder.SampleCount == 0 ? null : builder.Build();
    }

    private static void Add(List<(string, Profile)> result, string name, Profile? profile, params ReadOnlySpan<SampleType> columns)
    {
        if (profile is not null && ForUpload(profile, columns) is { } upload)
        {
            result.Add((name, upload));
        }
    }

    private static int IndexOf(IReadOnlyList<SampleType> types, SampleType type)
    {
        for (var i = 0; i < types.Count; i++)
        {
            if (types[i] == type)
            {
                return i;
            }
        }

        return -1;
    }
}
