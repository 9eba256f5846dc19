using System.Globalization;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Heap;

/// <summary>The difference of two heap profiles, as <c>go tool pprof -base</c> shows it, but stored as one profile.</summary>
internal static class HeapProfileDiff
{
    /// <summary>
    /// Returns <paramref name="current"/> minus <paramref name="baseline"/>, sample by sample, matched by the
    /// frames of their stacks and their labels: positive values grew, negative shrank, unchanged samples are left out.
    /// </summary>
    /// <param name="baseline">The earlier snapshot.</param>
    /// <param name="current">The later snapshot.</param>
    /// <returns>The difference, with the sample types, default and times of <paramref name="current"/>.</returns>
    /// <exception cref="ArgumentException">The profiles have different sample types.</exception>
    public static Profile Subtract(Profile baseline, Profile current)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(current);
        if (!baseline.SampleTypes.SequenceEqual(current.SampleTypes))
        {
            throw new ArgumentException(
                $"A heap diff needs profiles of the same sample types; the base has {string.Join(", ", baseline.SampleTypes)}, the snapshot {string.Join(", ", current.SampleTypes)}.",
                nameof(baseline));
        }

        // ProfileBuilder folds samples with the same frames and labels; the base goes in negated.
        var sum = new ProfileBuilder(current.SampleTypes, current.DefaultSampleTypeIndex);
        Add(sum, current, 1);
        Add(sum, baseline, -1);
        var folded = sum.Build();

        var comments = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"heap diff: this snapshot ({current.StartTime:O}) minus the base ({baseline.StartTime:O}); positive values grew, negative shrank"),
        };
        comments.AddRange(current.Comments);
        comments.AddRange(baseline.Comments.Where(c => c.StartsWith("INCOMPLETE", StringComparison.Ordinal)).Select(c => "base: " + c));
        var result = new ProfileBuilder(current.SampleTypes, current.DefaultSampleTypeIndex)
        {
            StartTime = current.StartTime,
            Duration = current.Duration,
            PeriodType = current.PeriodType,
            Period = current.Period,
        };
        foreach (var comment in comments)
        {
            result.AddComment(comment);
        }

        Add(result, folded, 1, skipZero: true);
        return result.Build();
    }

    private static void Add(ProfileBuilder builder, Profile profile, long sign, bool skipZero = false)
    {
        var frameIds = profile.Frames.Select(builder.InternFrame).ToArray();
        foreach (var sample in profile.Samples)
        {
            if (skipZero && sample.Values.All(static v => v == 0))
            {
                continue;
            }

            var stack = new int[sample.Stack.Count];
            for (var i = 0; i < stack.Length; i++)
            {
                stack[i] = frameIds[sample.Stack[i]];
            }

            var values = new long[sample.Values.Count];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = sign * sample.Values[i];
            }

            builder.Add(stack, values, [.. sample.Labels]);
        }
    }
}
