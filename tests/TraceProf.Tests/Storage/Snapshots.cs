using TraceProf.Storage;

namespace TraceProf.Tests.Storage;

/// <summary>Builds valid snapshot metadata for tests.</summary>
internal static class Snapshots
{
    public const string TraceA = "4bf92f3577b34da6a3ce929d0e0e4736";
    public const string TraceB = "0af7651916cd43dd8448eb211c80319c";

    public static SnapshotInfo New(
        string traceId = TraceA,
        string kind = "cpu",
        DateTimeOffset? startedAt = null,
        string? id = null) => new()
    {
        Id = id ?? SnapshotIds.NewId(TimeProvider.System),
        TraceId = traceId,
        SpanId = "00f067aa0ba902b7",
        Kind = kind,
        ServiceName = "shop",
        HostName = "host-1",
        StartedAt = startedAt ?? new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero),
        Duration = TimeSpan.FromSeconds(5),
        SampleCount = 42,
    };
}
