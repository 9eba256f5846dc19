using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Security;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// <c>/traces/{traceId}</c>: every stored sample of one trace, merged from the snapshots that hold it, each sample
/// once (<see cref="TraceProfiles"/>); <c>?spanId=</c> keeps one span's. <c>/traces/{traceId}/spans</c>: the span
/// table (<see cref="TraceSpanTable"/>), JSON.
/// </summary>
internal sealed class TraceEndpoints(EndpointGuard guard, ISnapshotStore store, IOptions<TraceProfOptions> options)
{
    /// <summary>The most rows <c>limit</c> asks for.</summary>
    public const int MaxSpans = 1000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public RequestDelegate Get => guard.Guard(Capabilities.Snapshots, GetTraceAsync);

    public RequestDelegate Spans => guard.Guard(Capabilities.Snapshots, GetSpansAsync);

    /// <summary>Reads the route's trace id; answers 400 and returns null when it is malformed.</summary>
    internal static async Task<string?> TraceIdAsync(HttpContext context)
    {
        var traceId = context.Request.RouteValues["traceId"] as string ?? "";
        if (TraceIds.IsValid(traceId))
        {
            return traceId;
        }

        await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"A trace id is 32 lower-case hex digits, not all zero; got '{QueryParser.Echo(traceId)}'.").ConfigureAwait(false);
        return null;
    }

    private async Task GetTraceAsync(HttpContext context)
    {
        if (await TraceIdAsync(context).ConfigureAwait(false) is not { } traceId)
        {
            return;
        }

        if (!QueryParser.TryGetFormat(context.Request, out var format, out var error) ||
            !QueryParser.TryGetKind(context.Request, CaptureKinds.Names, out var kind, out error) ||
            !QueryParser.TryGetSpanId(context.Request, out var spanId, out error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        kind ??= CaptureKinds.Name(CaptureKind.Cpu);
        if (format == ProfileFormat.Nettrace)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "A trace view merges profiles; format must be pprof, speedscope or folded. Fetch raw captures from /snapshots/{id}?format=nettrace.").ConfigureAwait(false);
            return;
        }

        var merged = await TraceProfiles.LoadAsync(store, traceId, kind, spanId, context.RequestAborted).ConfigureAwait(false);
        if (merged is null)
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"No stored {kind} snapshot holds samples of trace {traceId}.").ConfigureAwait(false);
            return;
        }

        await ProfileResponses.WriteMergedAsync(context, merged.Profile, format, traceId, kind, merged.Contributors, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task GetSpansAsync(HttpContext context)
    {
        if (await TraceIdAsync(context).ConfigureAwait(false) is not { } traceId)
        {
            return;
        }

        if (!QueryParser.TryGetLimit(context.Request, MaxSpans, out var limit, out var error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var table = await TraceSpanTable.BuildAsync(store, traceId, limit, context.RequestAborted).ConfigureAwait(false);
        if (table.Snapshots.Count == 0)
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"No stored snapshot holds samples of trace {traceId}.").ConfigureAwait(false);
            return;
        }

        var prefix = options.Value.PathPrefix;
        var body = new
        {
            traceId,
            count = table.Rows.Count,
            totalSpans = table.TotalSpans,
            truncated = table.TotalSpans > table.Rows.Count,
            snapshots = table.Snapshots,
            spans = table.Rows.Select(r => new
            {
                serviceName = r.ServiceName,
                spanId = r.SpanId,
                localRootSpanId = r.LocalRootSpanId,
                method = r.Method,
                route = r.Route,
                start = TraceSpanTable.FormatTime(r.StartMicroseconds),
                durationMs = Milliseconds((r.EndMicroseconds - r.StartMicroseconds) * 1000),
                durationSource = r.DurationSource,
                samples = r.Samples,
                cpuMs = Milliseconds(r.CpuNanoseconds),
                wallMs = r.WallNanoseconds is { } wall ? Milliseconds(wall) : (double?)null,
                waitMs = r.WaitNanoseconds is { } wait ? Milliseconds(wait) : (double?)null,
                allocatedBytes = r.AllocatedBytes,
                topFrames = r.Frames.Select(f => new { function = f.Function, cpuMs = Milliseconds(f.CpuNanoseconds), share = f.Share }),
                profile = $"{prefix}/traces/{traceId}?spanId={r.SpanId}",
            }),
        };
        await TypedResults.Json(body, Json).ExecuteAsync(context).ConfigureAwait(false);
    }

    private static double Milliseconds(long nanoseconds) => Math.Round(nanoseconds / 1e6, 3);
}
