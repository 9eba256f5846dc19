using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Security;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>The stored snapshots: <c>/snapshots</c> (the list, JSON) and <c>/snapshots/{id}</c> (one, in any format).</summary>
internal sealed class SnapshotEndpoints(EndpointGuard guard, ISnapshotStore store, IOptions<TraceProfOptions> options)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly TraceProfOptions _options = options.Value;

    public RequestDelegate List => guard.Guard(Capabilities.Snapshots, ListSnapshotsAsync);

    public RequestDelegate Get => guard.Guard(Capabilities.Snapshots, GetSnapshotAsync);

    /// <summary>Reads a snapshot's stored pprof back into a profile; null when its file is gone.</summary>
    internal static async Task<Profile?> ReadProfileAsync(ISnapshotStore store, SnapshotInfo snapshot, CancellationToken cancellationToken)
    {
        var stream = await store.OpenArtifactAsync(snapshot.Id, SnapshotArtifact.Pprof, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return null;
        }

        await using (stream.ConfigureAwait(false))
        {
            return PprofDecoder.Decode(stream);
        }
    }

    private async Task ListSnapshotsAsync(HttpContext context)
    {
        var request = context.Request;
        if (!QueryParser.TryGetTraceId(request, out var traceId, out var error) ||
            !QueryParser.TryGetKind(request, CaptureKinds.Names, out var kind, out error) ||
            !QueryParser.TryGetTrigger(request, out var trigger, out error) ||
            !QueryParser.TryGetSince(request, out var since, out error) ||
            !QueryParser.TryGetLimit(request, SnapshotQuery.MaxLimit, out var limit, out error) ||
            !QueryParser.TryGetIncludeTraces(request, out var includeTraces, out error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var rows = await store.ListAsync(new SnapshotQuery { TraceId = traceId, Kind = kind, Trigger = trigger, Since = since, Limit = limit }, context.RequestAborted).ConfigureAwait(false);
        var body = new
        {
            count = rows.Count,
            snapshots = rows.Select(row => new SnapshotRow(
                row.Id,
                row.TraceId,
                row.SpanId,
                row.Kind,
                row.Trigger,
                row.Status,
                row.ServiceName,
                row.HostName,
                row.StartedAt,
                (long)row.Duration.TotalMilliseconds,
                row.SampleCount,
                row.ProfileBytes,
                row.NettraceBytes,
                row.NettraceOmitted,
                // A 30 s capture holds hundreds of traces (657 in one, 29.5 KB of JSON for its row): the list says how
                // many, and ?include=traces (or ?traceId=, which finds every row holding one) says which.
                row.ContainedTraceIds.Count,
                includeTraces ? row.ContainedTraceIds : null,
                $"{_options.PathPrefix}/snapshots/{row.Id}")),
        };
        await TypedResults.Json(body, Json).ExecuteAsync(context).ConfigureAwait(false);
    }

    private async Task GetSnapshotAsync(HttpContext context)
    {
        var id = context.Request.RouteValues["id"] as string ?? "";
        if (!SnapshotIds.IsValid(id))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"A snapshot id is 32 lower-case hex digits; got '{QueryParser.Echo(id)}'.").ConfigureAwait(false);
            return;
        }

        if (!QueryParser.TryGetFormat(context.Request, out var format, out var error) ||
            !QueryParser.TryGetDebug(context.Request, out var debug, out error) ||
            !QueryParser.TryGetTraceId(context.Request, out var onlyTrace, out error) ||
            !QueryParser.TryGetSpanId(context.Request, out var onlySpan, out error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var snapshot = await store.GetAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (snapshot is null)
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"No snapshot with id {id}; list them at {_options.PathPrefix}/snapshots.").ConfigureAwait(false);
            return;
        }

        if (debug > 0)
        {
            if (snapshot.Kind != CaptureKinds.Name(CaptureKind.Threads))
            {
                await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"debug=1|2 applies to threads snapshots; snapshot {id} is a {snapshot.Kind} snapshot.").ConfigureAwait(false);
                return;
            }

            await ProfileResponses.WriteThreadDumpAsync(context, store, snapshot, debug, profile: null, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        Profile? filtered = null;
        if (onlyTrace is not null || onlySpan is not null)
        {
            if (format == ProfileFormat.Nettrace)
            {
                await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"{(onlyTrace is not null ? "traceId" : "spanId")} filters the samples of a profile; it does not apply to format=nettrace, the raw capture.").ConfigureAwait(false);
                return;
            }

            filtered = await ReadProfileAsync(store, snapshot, context.RequestAborted).ConfigureAwait(false);
            if (filtered is null)
            {
                await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"Snapshot {id} has no profile file any more (removed by retention or never stored).").ConfigureAwait(false);
                return;
            }

            // One snapshot holds each sampler event once, so a filter over it needs no de-duplication.
            if (onlyTrace is not null)
            {
                filtered = ProfileOperations.WhereLabel(filtered, SpanLabels.TraceId, onlyTrace);
            }

            if (onlySpan is not null)
            {
                filtered = ProfileOperations.WhereLabel(filtered, SpanLabels.SpanId, onlySpan);
            }
        }

        await ProfileResponses.WriteAsync(context, store, snapshot, format, filtered, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>One row of the list, in the order the JSON has always had; <c>containedTraceIds</c> only with <c>?include=traces</c>.</summary>
    private sealed record SnapshotRow(
        string Id,
        string? TraceId,
        string? SpanId,
        string Kind,
        string Trigger,
        string Status,
        string ServiceName,
        string HostName,
        DateTimeOffset StartedAt,
        long DurationMs,
        long SampleCount,
        long ProfileBytes,
        long NettraceBytes,
        string? NettraceOmitted,
        int ContainedTraceCount,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? ContainedTraceIds,
        string Href);
}
