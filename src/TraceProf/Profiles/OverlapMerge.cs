using System.Globalization;

namespace TraceProf.Profiles;

/// <summary>One profile to merge: its labels for the result, its name in comments, and the overlap group it belongs to.</summary>
/// <param name="Profile">The profile.</param>
/// <param name="Labels">Labels added to each of its samples (such as <c>snapshot_id</c>, <c>service.name</c>).</param>
/// <param name="Source">How comments name it (a snapshot id).</param>
/// <param name="OverlapGroup">
/// What the sampler it came from was (service and host): two parts of one group may hold the same events; parts of
/// different groups never do.
/// </param>
internal sealed record MergePart(Profile Profile, IReadOnlyList<ProfileLabel> Labels, string Source, string OverlapGroup);

/// <summary>What a part gave a merge that counts each sample once.</summary>
/// <param name="Source">The part's <see cref="MergePart.Source"/>.</param>
/// <param name="Kept">Events (the first value column) of the part in the result.</param>
/// <param name="Overlapped">Events left out because another part of its group held the same (thread, time bucket).</param>
/// <param name="Unbucketed">Events kept without a time bucket (a profile stored before buckets): not de-duplicated.</param>
internal sealed record MergeContribution(string Source, long Kept, long Overlapped, long Unbucketed);

/// <summary>
/// Merges profiles that may hold the same events — an on-demand capture and a flight-recorder cut of the same
/// request — keeping one copy: for every (overlap group, <c>thread_id</c>, <c>time_bucket</c>) the part with the
/// most events there wins and the others' samples of that bucket are left out (docs/design-notes.md, "Each sample
/// once").
/// </summary>
/// <remarks>
/// Both snapshots of one process see the same sampler events (EventPipe's sampler writes each tick to every session),
/// so a part that covered a whole bucket holds all of its events, and one that covered part of it holds fewer: the
/// largest count is the complete one. A bucket two parts both cut short is the only error left: at most one
/// bucket's events per thread at such an edge.
/// </remarks>
internal static class OverlapMerge
{
    /// <summary>Merges the parts, each event once.</summary>
    /// <param name="parts">The parts, in order of preference when two hold a bucket equally.</param>
    /// <param name="keep">Which samples to consider at all (a trace's, a span's); null for all.</param>
    /// <param name="comments">The result's comments, from what each part gave.</param>
    /// <param name="contributions">What each part gave, in the order of <paramref name="parts"/>.</param>
    /// <returns>The merged profile.</returns>
    public static Profile Merge(
        IReadOnlyList<MergePart> parts,
        Func<ProfileSample, bool>? keep,
        Func<IReadOnlyList<MergeContribution>, IEnumerable<string>> comments,
        out IReadOnlyList<MergeContribution> contributions)
    {
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentNullException.ThrowIfNull(comments);

        // Two perf_event samplers (an on-demand capture's and the recorder's) sample a thread independently, each at its
        // own phase, 100 Hz of CPU: their samples of one stretch of time are different events that rarely share a 10 ms
        // bucket. Their parts are compared per 100 ms window of buckets instead, so one copy of that stretch is kept.
        var windows = new bool[parts.Count];
        for (var p = 0; p < parts.Count; p++)
        {
            windows[p] = IsPerfCpu(parts[p].Profile);
        }

        // Pass 1: events per (group, thread, bucket) per part.
        var counts = new Dictionary<(string Group, string Thread, string Bucket), long[]>();
        for (var p = 0; p < parts.Count; p++)
        {
            foreach (var sample in parts[p].Profile.Samples)
            {
                if ((keep is null || keep(sample)) && KeyOf(parts[p].OverlapGroup, sample, windows[p]) is { } key)
                {
                    if (!counts.TryGetValue(key, out var perPart))
                    {
                        perPart = new long[parts.Count];
                        counts[key] = perPart;
                    }

                    perPart[p] += sample.Values[0];
                }
            }
        }

        var winners = new Dictionary<(string, string, string), int>(counts.Count);
        foreach (var (key, perPart) in counts)
        {
            var best = 0;
            for (var p = 1; p < perPart.Length; p++)
            {
                if (perPart[p] > perPart[best])
                {
                    best = p;
                }
            }

            winners[key] = best;
        }

        var kept = new long[parts.Count];
        var overlapped = new long[parts.Count];
        var unbucketed = new long[parts.Count];
        bool Keep(int part, ProfileSample sample)
        {
            if (keep is not null && !keep(sample))
            {
                return false;
            }

            var events = sample.Values[0];
            if (KeyOf(parts[part].OverlapGroup, sample, windows[part]) is not { } key)
            {
                unbucketed[part] += events;
                kept[part] += events;
                return true;
            }

            if (winners[key] != part)
            {
                overlapped[part] += events;
                return false;
            }

            kept[part] += events;
            return true;
        }

        // Pass 2 runs the filter to count, then builds from the same decisions.
        var decisions = new bool[parts.Count][];
        for (var p = 0; p < parts.Count; p++)
        {
            var samples = parts[p].Profile.Samples;
            decisions[p] = new bool[samples.Count];
            for (var i = 0; i < samples.Count; i++)
            {
                decisions[p][i] = Keep(p, samples[i]);
            }
        }

        var result = new MergeContribution[parts.Count];
        for (var p = 0; p < parts.Count; p++)
        {
            result[p] = new MergeContribution(parts[p].Source, kept[p], overlapped[p], unbucketed[p]);
        }

        contributions = result;
        return ProfileOperations.Merge(
            [.. parts.Select(p => (p.Profile, p.Labels))],
            (part, index, _) => decisions[part][index],
            comments(result));
    }

    /// <summary>A comment naming which parts contributed and what each overlapped.</summary>
    /// <param name="contributions">What each part gave.</param>
    /// <returns>One line.</returns>
    public static string Describe(IReadOnlyList<MergeContribution> contributions)
    {
        ArgumentNullException.ThrowIfNull(contributions);
        var parts = contributions.Select(c =>
        {
            var text = string.Create(CultureInfo.InvariantCulture, $"{c.Source} ({c.Kept} kept");
            if (c.Overlapped > 0)
            {
                text += string.Create(CultureInfo.InvariantCulture, $", {c.Overlapped} already in another snapshot");
            }

            if (c.Unbucketed > 0)
            {
                text += string.Create(CultureInfo.InvariantCulture, $", {c.Unbucketed} without time buckets, not de-duplicated");
            }

            return text + ")";
        });
        var contributed = contributions.Count(c => c.Kept > 0);
        return string.Create(CultureInfo.InvariantCulture, $"Each sample once: {contributed} of {contributions.Count} snapshot(s) contributed: {string.Join("; ", parts)}.");
    }

    /// <summary>The width of the windows perf_event CPU parts are compared in (ten buckets, ten samples of a busy thread).</summary>
    internal const int PerfWindowMilliseconds = 100;

    // A perf_event CPU profile has samples and cpu only; EventPipe's has a wall column too (Kinds/Cpu/CpuSampleAggregator).
    private static bool IsPerfCpu(Profile profile) =>
        profile.SampleTypes.Count == 2
        && profile.SampleTypes[0] == WellKnownSampleTypes.Samples
        && profile.SampleTypes[1] == WellKnownSampleTypes.Cpu;

    private static (string, string, string)? KeyOf(string group, ProfileSample sample, bool window)
    {
        string? thread = null;
        string? bucket = null;
        foreach (var label in sample.Labels)
        {
            switch (label.Key)
            {
                case "thread_id":
                    thread = label.Value;
                    break;
                case "time_bucket":
                    bucket = label.Value;
                    break;
            }
        }

        if (thread is null || bucket is null)
        {
            return null;
        }

        if (window && long.TryParse(bucket, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            bucket = string.Create(CultureInfo.InvariantCulture, $"perf:{ms - (ms % PerfWindowMilliseconds)}");
        }

        return (group, thread, bucket);
    }
}
