namespace TraceProf.Profiles;

/// <summary>Filtering and merging profiles, for per-trace views.</summary>
internal static class ProfileOperations
{
    /// <summary>Keeps only the samples that carry a label with that key and value.</summary>
    /// <param name="profile">The profile.</param>
    /// <param name="key">The label key, for example <c>trace_id</c>.</param>
    /// <param name="value">The value.</param>
    /// <returns>A new profile with the same sample types, period and times.</returns>
    public static Profile WhereLabel(Profile profile, string key, string value)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return Merge([(profile, [])], s => s.Labels.Contains(new ProfileLabel(key, value)), profile.Comments);
    }

    /// <summary>
    /// Merges profiles of the same sample types into one, adding labels to the samples of each part (such as
    /// the snapshot or the service it came from), keeping only samples that pass <paramref name="keep"/>.
    /// </summary>
    /// <param name="parts">The profiles and the labels for their samples.</param>
    /// <param name="keep">Which samples to keep; null keeps all.</param>
    /// <param name="comments">Comments for the result.</param>
    /// <returns>The merged profile; start is the earliest start, duration spans to the latest end.</returns>
    /// <exception cref="ArgumentException">The parts have different sample types, or there is none.</exception>
    public static Profile Merge(IReadOnlyList<(Profile Profile, IReadOnlyList<ProfileLabel> Labels)> parts, Func<ProfileSample, bool>? keep, IEnumerable<string> comments) =>
        Merge(parts, keep is null ? null : (_, _, sample) => keep(sample), comments);

    /// <summary>Merges profiles as above, choosing samples by part, index within the part, and sample.</summary>
    /// <param name="parts">The profiles and the labels for their samples.</param>
    /// <param name="keep">Which samples to keep (part index, sample index, sample); null keeps all.</param>
    /// <param name="comments">Comments for the result.</param>
    /// <returns>The merged profile.</returns>
    internal static Profile Merge(IReadOnlyList<(Profile Profile, IReadOnlyList<ProfileLabel> Labels)> parts, Func<int, int, ProfileSample, bool>? keep, IEnumerable<string> comments)
    {
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentNullException.ThrowIfNull(comments);
        if (parts.Count == 0)
        {
            throw new ArgumentException("Nothing to merge.", nameof(parts));
        }

        var first = parts[0].Profile;
        if (parts.Any(p => !p.Profile.SampleTypes.SequenceEqual(first.SampleTypes)))
        {
            throw new ArgumentException("Profiles with different sample types cannot be merged.", nameof(parts));
        }

        var start = parts.Min(p => p.Profile.StartTime);
        var end = parts.Max(p => p.Profile.StartTime + p.Profile.Duration);
        var builder = new ProfileBuilder(first.SampleTypes, first.DefaultSampleTypeIndex)
        {
            PeriodType = first.PeriodType,
            Period = first.Period,
            StartTime = start,
            Duration = end - start,
            MainModule = first.MainModule,
        };
        foreach (var comment in comments)
        {
            builder.AddComment(comment);
        }

        var stack = new List<int>();
        for (var part = 0; part < parts.Count; part++)
        {
            var (profile, labels) = parts[part];
            // Frames are interned on first use, so a filtered view names only the frames of what it kept.
            var frameIds = new int[profile.Frames.Count];
            Array.Fill(frameIds, -1);
            for (var index = 0; index < profile.Samples.Count; index++)
            {
                var sample = profile.Samples[index];
                if (keep is not null && !keep(part, index, sample))
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

                var values = sample.Values.ToArray();
                var allLabels = labels.Count == 0 ? sample.Labels.ToArray() : [.. sample.Labels, .. labels];
                builder.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(stack), values, allLabels);
            }
        }

        return builder.Build();
    }
}
