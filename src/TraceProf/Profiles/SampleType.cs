namespace TraceProf.Profiles;

/// <summary>What one value column of a profile measures, as pprof names it (for example <c>cpu</c> / <c>nanoseconds</c>).</summary>
/// <param name="Type">The quantity, such as <c>samples</c>, <c>cpu</c>, <c>wall</c> or <c>alloc_space</c>.</param>
/// <param name="Unit">The unit, such as <c>count</c>, <c>nanoseconds</c> or <c>bytes</c>.</param>
public readonly record struct SampleType(string Type, string Unit)
{
    /// <inheritdoc />
    public override string ToString() => $"{Type}/{Unit}";
}
