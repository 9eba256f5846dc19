using System.Globalization;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Cpu;

/// <summary>
/// The sampler does not always keep its nominal pace: each tick suspends the runtime, and on a busy machine ticks
/// come further apart (measured here: about 4 ms instead of 1 ms under load). A sample then stands for the real
/// spacing, not the nominal one. The longest-sampled thread was sampled at every tick, so the capture's duration
/// divided by its sample count is the effective interval; cpu and wall are rescaled to it and it becomes the period.
/// </summary>
internal static class EffectiveSamplingInterval
{
    // Below this many ticks on the longest-sampled thread the estimate is too coarse to trust.
    private const long MinimumTicks = 20;

    public static Profile Apply(Profile profile, TimeSpan nominal)
    {
        var ticks = profile.Samples
            .GroupBy(s => s.Labels.FirstOrDefault(l => l.Key == "thread_id").Value ?? "")
            .Select(g => g.Sum(s => s.Values[0]))
            .DefaultIfEmpty(0)
            .Max();
        var nominalNs = (long)nominal.TotalNanoseconds;
        if (ticks < MinimumTicks || profile.Duration <= TimeSpan.Zero)
        {
            return Rebuild(profile, nominalNs, 1.0, string.Create(CultureInfo.InvariantCulture, $"Sampling period: the nominal {nominal.TotalMilliseconds} ms (too few ticks, {ticks}, to measure the effective one)."));
        }

        // Never below the nominal interval: a thread cannot be sampled more often than the sampler ticks.
        var effectiveNs = Math.Max(nominalNs, (long)(profile.Duration.TotalNanoseconds / ticks));
        return Rebuild(
            profile,
            effectiveNs,
            effectiveNs / (double)nominalNs,
            string.Create(CultureInfo.InvariantCulture, $"Sampling period: effective {effectiveNs / 1e6:F2} ms between ticks ({ticks} ticks in {profile.Duration.TotalSeconds:F2} s), nominal {nominal.TotalMilliseconds} ms; cpu and wall are counted at the effective period."));
    }

    private static Profile Rebuild(Profile profile, long periodNs, double factor, string comment)
    {
        var builder = new ProfileBuilder(profile.SampleTypes, profile.DefaultSampleTypeIndex)
        {
            PeriodType = profile.PeriodType,
            Period = periodNs,
            StartTime = profile.StartTime,
            Duration = profile.Duration,
        };
        foreach (var existing in profile.Comments)
        {
            builder.AddComment(existing);
        }

        builder.AddComment(comment);
        var frameIds = profile.Frames.Select(builder.InternFrame).ToArray();
        var stack = new List<int>();
        foreach (var sample in profile.Samples)
        {
            stack.Clear();
            stack.AddRange(sample.Stack.Select(f => frameIds[f]));
            var values = sample.Values.ToArray();

            // Column 0 counts ticks; the time columns follow the period.
            for (var i = 1; i < values.Length; i++)
            {
                values[i] = (long)Math.Round(values[i] * factor);
            }

            builder.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(stack), values, sample.Labels.ToArray());
        }

        return builder.Build();
    }
}
