using System.Globalization;
using TraceProf.Attribution;
using TraceProf.Kinds;
using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// The span table of one trace: a row per span seen in any stored snapshot of it, in any service, with what that
/// span cost — CPU and wall from the cpu snapshots, wait from block (or else contention) snapshots, allocated bytes
/// from allocs snapshots — and its hottest frames. Every kind is merged first with each sample once
/// (<see cref="TraceProfiles"/>), so overlapping snapshots do not count a span twice.
/// </summary>
internal static class TraceSpanTable
{
    /// <summary>The most frames a row lists.</summary>
    public const int TopFrames = 5;

    /// <summary>
    /// One frame a span spent CPU in: flat, as <c>go tool pprof -top</c> counts, with each sample charged to its
    /// leaf-most frame of the application's own module (or its leaf when none is on the stack).
    /// </summary>
    /// <param name="Function">The frame's name as the profile names it.</param>
    /// <param name="CpuNanoseconds">Its CPU in the span.</param>
    /// <param name="Share">Its part of the span's CPU, 0 to 1.</param>
    public sealed record Frame(string Function, long CpuNanoseconds, double Share);

    /// <summary>One span.</summary>
    public sealed class Row
    {
        public required string ServiceName { get; init; }

        public required string SpanId { get; init; }

        public string? LocalRootSpanId { get; set; }

        public string? Method { get; set; }

        public string? Route { get; set; }

        /// <summary>Gets or sets the span's start (Unix microseconds): tracked, or its first sample's bucket.</summary>
        public long StartMicroseconds { get; set; }

        /// <summary>Gets or sets the span's end (Unix microseconds).</summary>
        public long EndMicroseconds { get; set; }

        /// <summary>Gets or sets where the duration comes from: <c>span</c> (tracked start and end) or <c>samples</c>.</summary>
        public string DurationSource { get; set; } = "samples";

        public long Samples { get; set; }

        public long CpuNanoseconds { get; set; }

        /// <summary>Gets or sets the wall time, or null when the cpu snapshots have no wall column (the perf_event sampler's: it sees a thread only on a CPU).</summary>
        public long? WallNanoseconds { get; set; }

        /// <summary>Gets or sets the lock/wait delay, or null when no wait snapshot of the trace exists.</summary>
        public long? WaitNanoseconds { get; set; }

        /// <summary>Gets or sets the allocated bytes, or null when no allocs snapshot of the trace exists.</summary>
        public long? AllocatedBytes { get; set; }

        public IReadOnlyList<Frame> Frames { get; set; } = [];

        internal long TrackedStart { get; set; }

        internal long TrackedEnd { get; set; }

        internal long FirstBucket { get; set; } = long.MaxValue;

        internal long LastBucket { get; set; } = long.MinValue;

        internal Dictionary<string, long> FlatCpu { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>The table.</summary>
    /// <param name="Rows">The rows, by start, at most the limit.</param>
    /// <param name="TotalSpans">How many spans there were before the limit.</param>
    /// <param name="Snapshots">The snapshots whose samples are in it, by kind.</param>
    public sealed record Table(IReadOnlyList<Row> Rows, int TotalSpans, IReadOnlyDictionary<string, IReadOnlyList<string>> Snapshots);

    /// <summary>Builds the table of a trace.</summary>
    /// <param name="store">The store.</param>
    /// <param name="traceId">The trace.</param>
    /// <param name="limit">The most rows.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The table (no rows when the trace has no stored samples).</returns>
    public static async Task<Table> BuildAsync(ISnapshotStore store, string traceId, int limit, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<(string Service, string Span), Row>();
        var snapshots = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);

        var cpu = await TraceProfiles.LoadAsync(store, traceId, CaptureKinds.Name(CaptureKind.Cpu), spanId: null, cancellationToken).ConfigureAwait(false);
        if (cpu is not null)
        {
            snapshots["cpu"] = [.. cpu.Contributors];
            var types = cpu.Profile.SampleTypes;
            int samples = IndexOf(types, WellKnownSampleTypes.Samples), cpuNs = IndexOf(types, WellKnownSampleTypes.Cpu), wallNs = IndexOf(types, WellKnownSampleTypes.Wall);
            foreach (var sample in cpu.Profile.Samples)
            {
                if (RowOf(rows, sample) is not { } row)
                {
                    continue;
                }

                row.Samples += Value(sample, samples);
                var cpuValue = Value(sample, cpuNs);
                row.CpuNanoseconds += cpuValue;
                if (wallNs >= 0)
                {
                    row.WallNanoseconds = (row.WallNanoseconds ?? 0) + Value(sample, wallNs);
                }
                if (cpuValue > 0 && sample.Stack.Count > 0)
                {
                    var name = HotFrame(cpu.Profile, sample);
                    row.FlatCpu[name] = row.FlatCpu.GetValueOrDefault(name) + cpuValue;
                }
            }
        }

        // Block holds contention plus blocking waits; contention alone is the fallback, never added to it.
        foreach (var waitKind in new[] { CaptureKind.Block, CaptureKind.Contention })
        {
            // A stored wait snapshot of the trace makes waits known, 0 for a span that waited for nothing.
            var wait = await TraceProfiles.LoadAsync(store, traceId, CaptureKinds.Name(waitKind), spanId: null, cancellationToken).ConfigureAwait(false);
            if (wait is null)
            {
                continue;
            }

            snapshots[CaptureKinds.Name(waitKind)] = [.. wait.Contributors];
            var delay = IndexOf(wait.Profile.SampleTypes, WellKnownSampleTypes.Delay);
            foreach (var row in rows.Values)
            {
                row.WaitNanoseconds = 0;
            }

            foreach (var sample in wait.Profile.Samples)
            {
                if (RowOf(rows, sample) is { } row)
                {
                    row.WaitNanoseconds = (row.WaitNanoseconds ?? 0) + Value(sample, delay);
                }
            }

            break;
        }

        var allocs = await TraceProfiles.LoadAsync(store, traceId, CaptureKinds.Name(CaptureKind.Allocations), spanId: null, cancellationToken).ConfigureAwait(false);
        if (allocs is not null)
        {
            snapshots[CaptureKinds.Name(CaptureKind.Allocations)] = [.. allocs.Contributors];
            var space = IndexOf(allocs.Profile.SampleTypes, WellKnownSampleTypes.AllocSpace);
            foreach (var row in rows.Values)
            {
                row.AllocatedBytes = 0;
            }

            foreach (var sample in allocs.Profile.Samples)
            {
                if (RowOf(rows, sample) is { } row)
                {
                    row.AllocatedBytes = (row.AllocatedBytes ?? 0) + Value(sample, space);
                }
            }
        }

        foreach (var row in rows.Values)
        {
            Finish(row, snapshots);
        }

        var ordered = rows.Values.OrderBy(r => r.StartMicroseconds).ThenBy(r => r.ServiceName, StringComparer.Ordinal).ThenBy(r => r.SpanId, StringComparer.Ordinal).ToList();
        return new Table([.. ordered.Take(limit)], ordered.Count, snapshots);
    }

    private static void Finish(Row row, Dictionary<string, IReadOnlyList<string>> snapshots)
    {
        // A span first seen in a later kind (only waits, say) got null there; a kind that exists counts it as 0.
        if (snapshots.ContainsKey(CaptureKinds.Name(CaptureKind.Block)) || snapshots.ContainsKey(CaptureKinds.Name(CaptureKind.Contention)))
        {
            row.WaitNanoseconds ??= 0;
        }

        if (snapshots.ContainsKey(CaptureKinds.Name(CaptureKind.Allocations)))
        {
            row.AllocatedBytes ??= 0;
        }

        var sampledStart = row.FirstBucket == long.MaxValue ? 0 : row.FirstBucket * 1000;
        var sampledEnd = row.LastBucket == long.MinValue ? 0 : (row.LastBucket + SampleClock.BucketMilliseconds) * 1000;
        if (row.TrackedStart != 0 && row.TrackedEnd >= row.TrackedStart)
        {
            row.StartMicroseconds = row.TrackedStart;
            row.EndMicroseconds = row.TrackedEnd;
            row.DurationSource = "span";
        }
        else
        {
            row.StartMicroseconds = row.TrackedStart != 0 ? row.TrackedStart : sampledStart;
            row.EndMicroseconds = Math.Max(row.StartMicroseconds, sampledEnd);
            row.DurationSource = "samples";
        }

        row.Frames = [.. row.FlatCpu
            .OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal)
            .Take(TopFrames)
            .Select(f => new Frame(f.Key, f.Value, row.CpuNanoseconds == 0 ? 0 : Math.Round((double)f.Value / row.CpuNanoseconds, 4)))];
    }

    /// <summary>
    /// The frame a sample's CPU is charged to in the table: the leaf-most frame of the application's own module (pprof's
    /// mapping 0, <c>File:</c> in <c>go tool pprof</c>), so a span reads as "which of my code" rather than as the
    /// runtime helpers its code called; the leaf when no frame of the application is on the stack.
    /// </summary>
    private static string HotFrame(Profile profile, ProfileSample sample)
    {
        if (profile.MainModule is { Length: > 0 } main)
        {
            foreach (var id in sample.Stack)
            {
                var frame = profile.Frames[id];
                if (string.Equals(frame.ModuleName, main, StringComparison.Ordinal))
                {
                    return frame.FunctionName;
                }
            }
        }

        return profile.Frames[sample.Stack[0]].FunctionName;
    }

    private static Row? RowOf(Dictionary<(string, string), Row> rows, ProfileSample sample)
    {
        string? service = null, span = null, root = null, method = null, route = null, start = null, end = null, bucket = null;
        foreach (var label in sample.Labels)
        {
            switch (label.Key)
            {
                case "service.name": service = label.Value; break;
                case SpanLabels.SpanId: span = label.Value; break;
                case SpanLabels.LocalRootSpanId: root = label.Value; break;
                case SpanLabels.HttpMethod: method = label.Value; break;
                case SpanLabels.HttpRoute: route = label.Value; break;
                case SpanLabels.SpanStart: start = label.Value; break;
                case SpanLabels.SpanEnd: end = label.Value; break;
                case SpanLabels.TimeBucket: bucket = label.Value; break;
            }
        }

        if (service is null || span is null)
        {
            return null;
        }

        if (!rows.TryGetValue((service, span), out var row))
        {
            row = new Row { ServiceName = service, SpanId = span };
            rows[(service, span)] = row;
        }

        row.LocalRootSpanId ??= root;
        row.Method ??= method;
        row.Route ??= route;
        if (SampleClock.TryParse(start, out var startUs) && (row.TrackedStart == 0 || startUs < row.TrackedStart))
        {
            row.TrackedStart = startUs;
        }

        if (SampleClock.TryParse(end, out var endUs) && endUs > row.TrackedEnd)
        {
            row.TrackedEnd = endUs;
        }

        if (SampleClock.TryParse(bucket, out var bucketMs))
        {
            row.FirstBucket = Math.Min(row.FirstBucket, bucketMs);
            row.LastBucket = Math.Max(row.LastBucket, bucketMs);
        }

        return row;
    }

    private static int IndexOf(IReadOnlyList<SampleType> types, SampleType type)
    {
        for (var i = 0; i < types.Count; i++)
        {
            if (types[i] == type)
            {
                return i;
            }
        }

        return -1;
    }

    private static long Value(ProfileSample sample, int index) => index < 0 ? 0 : sample.Values[index];

    /// <summary>A Unix-microseconds time as an ISO 8601 UTC string.</summary>
    /// <param name="unixMicroseconds">The time.</param>
    /// <returns>For example <c>2026-12-02T13:48:39.123456Z</c>.</returns>
    public static string FormatTime(long unixMicroseconds) =>
        DateTimeOffset.UnixEpoch.AddTicks(unixMicroseconds * 10).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
