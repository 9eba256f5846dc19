using System.Globalization;

namespace TraceProf.Storage;

/// <summary>The argument checks every <see cref="ISnapshotStore"/> implementation makes, in one place.</summary>
internal static class SnapshotValidation
{
    /// <summary>The local store's checks: a folder, then the limits.</summary>
    public static void ValidatePathAndLimits(SnapshotStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            throw new ArgumentException(
                "SnapshotStoreOptions.Path is required: the folder that holds snapshots.db and blobs.", nameof(options));
        }

        ValidateLimits(options);
    }

    public static void ValidateLimits(SnapshotStoreOptions options)
    {
        if (options.MaxCount is < 1 or > SnapshotStoreOptions.MaxCountLimit)
        {
            throw new ArgumentException(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"SnapshotStoreOptions.MaxCount must be from 1 to {SnapshotStoreOptions.MaxCountLimit}; got {options.MaxCount}."),
                nameof(options));
        }

        if (options.MaxAge < SnapshotStoreOptions.MinAge || options.MaxAge > SnapshotStoreOptions.MaxAgeLimit)
        {
            throw new ArgumentException(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"SnapshotStoreOptions.MaxAge must be from {SnapshotStoreOptions.MinAge} to {SnapshotStoreOptions.MaxAgeLimit}; got {options.MaxAge}."),
                nameof(options));
        }

        if (options.MaxTotalBytes < SnapshotStoreOptions.MinTotalBytes)
        {
            throw new ArgumentException(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"SnapshotStoreOptions.MaxTotalBytes must be at least {SnapshotStoreOptions.MinTotalBytes} (1 MiB); got {options.MaxTotalBytes}."),
                nameof(options));
        }
    }

    public static void ValidateQuery(SnapshotQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > SnapshotQuery.MaxLimit)
        {
            throw new ArgumentException(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"Limit must be from 1 to {SnapshotQuery.MaxLimit}; got {query.Limit}."),
                nameof(query));
        }

        if (query.TraceId is not null && !TraceIds.IsValid(query.TraceId))
        {
            throw new ArgumentException(
                $"A trace id must be 32 lower-case hex digits, not all zeros; got {HexId.Describe(query.TraceId)}.",
                nameof(query));
        }

        if (query.Trigger is { } trigger && (trigger.Length is 0 or > SnapshotQuery.MaxTriggerLength || trigger.Any(char.IsControl)))
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"A trigger prefix is 1 to {SnapshotQuery.MaxTriggerLength} characters without control characters; got {trigger.Length} characters."),
                nameof(query));
        }
    }

    public static void ValidateInfo(SnapshotInfo info)
    {
        SnapshotIds.ThrowIfInvalid(info.Id, nameof(info));
        if (!TraceIds.IsValid(info.TraceId))
        {
            throw new ArgumentException(
                $"SnapshotInfo.TraceId must be 32 lower-case hex digits, not all zeros; got {HexId.Describe(info.TraceId)}.",
                nameof(info));
        }

        if (info.SpanId is not null && !TraceIds.IsValidSpanId(info.SpanId))
        {
            throw new ArgumentException(
                $"SnapshotInfo.SpanId must be null or 16 lower-case hex digits, not all zeros; got {HexId.Describe(info.SpanId)}.",
                nameof(info));
        }

        if (string.IsNullOrEmpty(info.Kind) || info.Trigger is null || info.Status is null ||
            info.ServiceName is null || info.HostName is null)
        {
            throw new ArgumentException(
                "SnapshotInfo.Kind must be non-empty, and Trigger, Status, ServiceName and HostName non-null.",
                nameof(info));
        }

        if (info.Duration < TimeSpan.Zero || info.SampleCount < 0)
        {
            throw new ArgumentException("SnapshotInfo.Duration and SampleCount must not be negative.", nameof(info));
        }

        if (info.ContainedTraceIds.Count > SnapshotInfo.MaxContainedTraceIds || !info.ContainedTraceIds.All(TraceIds.IsValid))
        {
            throw new ArgumentException(
                $"SnapshotInfo.ContainedTraceIds must hold at most {SnapshotInfo.MaxContainedTraceIds} trace ids of 32 lower-case hex digits.",
                nameof(info));
        }
    }

    public static void ValidateArtifacts(IReadOnlyDictionary<SnapshotArtifact, string> artifacts)
    {
        if (artifacts.Count == 0)
        {
            throw new ArgumentException("A snapshot needs at least one artifact file.", nameof(artifacts));
        }

        foreach ((SnapshotArtifact artifact, string path) in artifacts)
        {
            if (!Enum.IsDefined(artifact))
            {
                throw new ArgumentException($"Unknown artifact '{artifact}'.", nameof(artifacts));
            }

            if (string.IsNullOrEmpty(path))
            {
                throw new ArgumentException($"The path of the {artifact} artifact is empty.", nameof(artifacts));
            }
        }
    }
}
