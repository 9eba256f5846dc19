namespace TraceProf.Profiles;

/// <summary>One aggregated sample: a call stack, one value per sample type, and labels.</summary>
public sealed class ProfileSample
{
    internal ProfileSample(int[] stack, long[] values, ProfileLabel[] labels)
    {
        Stack = stack;
        Values = values;
        Labels = labels;
    }

    /// <summary>Indexes into <see cref="Profile.Frames"/>, leaf (innermost call) first, as pprof orders them.</summary>
    public IReadOnlyList<int> Stack { get; }

    /// <summary>One value per entry of <see cref="Profile.SampleTypes"/>.</summary>
    public IReadOnlyList<long> Values { get; }

    /// <summary>The labels every event folded into this sample shared.</summary>
    public IReadOnlyList<ProfileLabel> Labels { get; }

    internal long[] MutableValues => (long[])Values;
}
