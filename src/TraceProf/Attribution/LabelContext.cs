using TraceProf.Profiles;

namespace TraceProf.Attribution;

/// <summary>An immutable set of app labels, as <see cref="TraceProfLabels"/> builds it; inner scopes replace keys.</summary>
internal sealed class LabelContext
{
    private LabelContext(ProfileLabel[] labels, int dropped)
    {
        Labels = labels;
        Dropped = dropped;
    }

    public ProfileLabel[] Labels { get; }

    /// <summary>How many labels were refused for the cardinality limit on the way here.</summary>
    public int Dropped { get; }

    public static LabelContext With(LabelContext? parent, string key, string value)
    {
        var labels = parent?.Labels ?? [];
        var existing = Array.FindIndex(labels, l => l.Key == key);
        if (existing >= 0)
        {
            var replaced = (ProfileLabel[])labels.Clone();
            replaced[existing] = new ProfileLabel(key, value);
            return new LabelContext(replaced, parent!.Dropped);
        }

        if (labels.Length >= TraceProfLabels.MaxLabels)
        {
            return new LabelContext(labels, (parent?.Dropped ?? 0) + 1);
        }

        return new LabelContext([.. labels, new ProfileLabel(key, value)], parent?.Dropped ?? 0);
    }
}
