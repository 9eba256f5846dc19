namespace TraceProf.Storage;

/// <summary>A filter for <see cref="ISnapshotStore.ListAsync"/>. Results are newest first.</summary>
public sealed record SnapshotQuery
{
    /// <summary>The largest <see cref="Limit"/> accepted.</summary>
    public const int MaxLimit = 1000;

    /// <summary>Only snapshots stored under this trace id (32 lower-case hex), if set.</summary>
    public string? TraceId { get; init; }

    /// <summary>Only snapshots of this kind, if set.</summary>
    public string? Kind { get; init; }

    /// <summary>
    /// Only snapshots whose trigger starts with this (for example <c>status:5</c>, <c>slow:</c>,
    /// <c>heap-growth:</c>), if set; compared exactly, case-sensitive, at most <see cref="MaxTriggerLength"/> characters.
    /// </summary>
    public string? Trigger { get; init; }

    /// <summary>The longest <see cref="Trigger"/> prefix accepted.</summary>
    public const int MaxTriggerLength = 128;

    /// <summary>Only snapshots started at or after this time, if set.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>At most this many rows, from 1 to <see cref="MaxLimit"/>. Default value: 100.</summary>
    public int Limit { get; init; } = 100;
}
