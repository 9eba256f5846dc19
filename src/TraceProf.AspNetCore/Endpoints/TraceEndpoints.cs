using Microsoft.AspNetCore.Http;
using TraceProf.AspNetCore.Security;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary><c>/traces/{traceId}</c>: every stored sample of one trace, merged from the snapshots that hold it.</summary>
internal sealed class TraceEndpoints(EndpointGuard guard, ISnapshotStore store)
{
    // A trace view reads at most this many snapshots; a trace is seldom in more.
    private const int MaxSnapshotsPerTrace = 50;

    public RequestDelegate Get => guard.Guard(Capabilities.Snapshots, GetTraceAsync);

    private async Task GetTraceAsync(HttpContext context)
    {
        var traceId = context.Request.RouteValues["traceId"] as string ?? "";
        if (!TraceIds.IsValid(traceId))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"A trace id is 32 lower-case hex digits, not all zero; got '{QueryParser.Echo(traceId)}'.").ConfigureAwait(false);
            return;
        }

        if (!QueryParser.TryGetFormat(context.Request, out var format, out var error) ||
            !QueryParser.TryGetKind(context.Request, CaptureKinds.Names, out var kind, out error))
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

        var rows = await store.ListAsync(new SnapshotQuery { TraceId = traceId, Kind = kind, Limit = MaxSnapshotsPerTrace }, context.RequestAborted).ConfigureAwait(false);
        var parts = new List<(Profile, IReadOnlyList<ProfileLabel>)>();
        var used = new List<string>();
        foreach (var row in rows)
        {
            if (await SnapshotEndpoints.ReadProfileAsync(store, row, context.RequestAborted).ConfigureAwait(false) is { } profile)
            {
                parts.Add((profile, [new ProfileLabel("snapshot_id", row.Id), new ProfileLabel("service.name", row.ServiceName)]));
                used.Add(row.Id);
            }
        }

        if (parts.Count == 0)
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"No stored {kind} snapshot holds samples of trace {traceId}.").ConfigureAwait(false);
            return;
        }

        var merged = ProfileOperations.Merge(
            parts,
            s => s.Labels.Contains(new ProfileLabel(SpanLabels.TraceId, traceId)),
            [$"TraceProf trace view: samples of trace {traceId} from {parts.Count} {kind} snapshot(s): {string.Join(", ", used)}."]);
        await ProfileResponses.WriteMergedAsync(context, merged, format, traceId, kind, used, context.RequestAborted).ConfigureAwait(false);
    }
}
