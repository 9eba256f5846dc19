namespace TraceProf.Storage;

/// <summary>The metadata row of a stored snapshot.</summary>
public sealed record SnapshotInfo
{
    /// <summary>The snapshot id: 32 lower-case hex digits (a version-7 GUID, so ids sort by creation time).</summary>
    public required string Id { get; init; }

    /// <summary>The W3C trace id (32 lower-case hex) of the request the snapshot is stored under.</summary>
    public required string TraceId { get; init; }

    /// <summary>The span id (16 lower-case hex) of that request, if known.</summary>
    public string? SpanId { get; init; }

    /// <summary>What was captured: <c>cpu</c>, and later <c>allocs</c>, <c>contention</c>, …</summary>
    public required string Kind { get; init; }

    /// <summary>Why it was captured: <c>request</c> for an on-demand capture.</summary>
    public string Trigger { get; init; } = "request";

    /// <summary><c>complete</c>, or a word saying what is missing.</summary>
    public string Status { get; init; } = "complete";

    /// <summary>The service that captured it.</summary>
    public required string ServiceName { get; init; }

    /// <summary>The instance of the service (OpenTelemetry's <c>service.instance.id</c>), if known.</summary>
    public string? ServiceInstanceId { get; init; }

    /// <summary>The machine it ran on.</summary>
    public required string HostName { get; init; }

    /// <summary>When the capture started (UTC).</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>How long the capture ran.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>
    /// Gets the number of events the profile counts, not its rows: the total of the profile's first value column
    /// when that column's unit is <c>count</c> — CPU: sampler events (<c>samples/count</c>, every thread on every
    /// tick); contention: lock waits (<c>contentions/count</c>); allocations: estimated objects allocated
    /// (<c>alloc_objects/count</c>, the sampled events scaled up); thread stacks: threads. A profile whose first
    /// column is not a count gives its number of distinct (stack, labels) rows. Set by the writer from the profile.
    /// </summary>
    public long SampleCount { get; init; }

    /// <summary>Size of the stored pprof in bytes (0 when absent). Filled in by the store.</summary>
    public long ProfileBytes { get; init; }

    /// <summary>The most trace ids <see cref="ContainedTraceIds"/> may list.</summary>
    public const int MaxContainedTraceIds = 1000;

    /// <summary>
    /// The traces the snapshot holds samples of (each 32 lower-case hex), at most <see cref="MaxContainedTraceIds"/>;
    /// a trace id finds the snapshot through these as well as through <see cref="TraceId"/>.
    /// </summary>
    public IReadOnlyList<string> ContainedTraceIds { get; init; } = [];

    /// <summary>Size of the stored nettrace in bytes (0 when absent). Filled in by the store.</summary>
    public long NettraceBytes { get; init; }

    /// <summary>
    /// Why the raw trace was captured but not stored, or null. The store fills it in when the nettrace does not fit
    /// in its byte limit but the profile does: the profile is stored without it, rather than nothing at all.
    /// </summary>
    public string? NettraceOmitted { get; init; }
}
