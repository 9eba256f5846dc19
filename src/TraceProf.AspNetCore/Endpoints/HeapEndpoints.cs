using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.AspNetCore.Security;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Kinds.Heap;
using TraceProf.Pipeline;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// <c>/pprof/heap</c>: a heap snapshot of the process (Go's heap profile: <c>inuse_space</c> by default,
/// <c>inuse_objects</c>), stored as kind <c>heap</c>; <c>?base=&lt;id&gt;</c> answers the difference to an earlier one.
/// </summary>
internal sealed class HeapEndpoints(
    EndpointGuard guard,
    CaptureCoordinator coordinator,
    ISnapshotStore store,
    IOptions<TraceProfOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<TraceProfEndpoints> logger,
    SnapshotStoreHealth storeHealth)
{
    /// <summary>The response headers that carry the snapshot's figures.</summary>
    public const string PauseHeader = "X-TraceProf-Heap-Pause-Ms";
    public const string ObjectsHeader = "X-TraceProf-Heap-Objects";
    public const string BytesHeader = "X-TraceProf-Heap-Bytes";
    public const string CompleteHeader = "X-TraceProf-Heap-Complete";
    public const string BaseHeader = "X-TraceProf-Base-Snapshot-Id";

    // Parsing and storing follow the walk; a retry hint for a second caller.
    private static readonly TimeSpan ExpectedDuration = TimeSpan.FromSeconds(10);
    private const string HeapBusy = "A heap snapshot is already running; one runs at a time in the process.";

    private readonly TraceProfOptions _options = options.Value;

    /// <summary>The handler, behind the gate with the <c>heap</c> capability.</summary>
    public RequestDelegate Heap => guard.Guard(Capabilities.Heap, HeapAsync);

    private async Task HeapAsync(HttpContext context)
    {
        var request = context.Request;
        if (!QueryParser.TryGetFormat(request, ProfileFormat.Pprof, out var format, out var error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        if (format == ProfileFormat.Nettrace)
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "A heap snapshot is decoded while the runtime walks the heap and keeps no raw trace; format must be pprof, speedscope or folded.").ConfigureAwait(false);
            return;
        }

        if (request.Query.ContainsKey("seconds"))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "A heap snapshot is one moment, not a span of seconds; to see what grew, take one now and pass base=<snapshot id of an earlier heap snapshot>.").ConfigureAwait(false);
            return;
        }

        if (request.Query.TryGetValue("gc", out var gc) && gc.ToString() is not ("0" or "1"))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"gc must be 0 or 1 (a snapshot always follows a full blocking GC); got '{QueryParser.Echo(gc.ToString())}'.").ConfigureAwait(false);
            return;
        }

        if (request.Query.TryGetValue("debug", out var debug) && debug.ToString() != "0")
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"The heap profile has no text form; debug must be 0 or absent (use format=folded for text); got '{QueryParser.Echo(debug.ToString())}'.").ConfigureAwait(false);
            return;
        }

        // The base is checked before anything is paused: a wrong id must not cost the process a full GC.
        // Decoded only after the snapshot: a decoded base held during the walk would be in the heap it measures.
        var hasBase = false;
        string? baseId = null;
        if (request.Query.TryGetValue("base", out var baseValue))
        {
            baseId = baseValue.ToString();
            if (!SnapshotIds.IsValid(baseId))
            {
                await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"base must be a snapshot id (32 lower-case hex digits) of an earlier heap snapshot; got '{QueryParser.Echo(baseId)}'.").ConfigureAwait(false);
                return;
            }

            var row = await store.GetAsync(baseId, context.RequestAborted).ConfigureAwait(false);
            if (row is null)
            {
                await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"No snapshot with id {baseId} (base); it may have been removed by retention.").ConfigureAwait(false);
                return;
            }

            if (row.Kind != CaptureKinds.Name(CaptureKind.Heap))
            {
                await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, $"base {baseId} is a {row.Kind} snapshot; a heap difference needs a heap snapshot as its base.").ConfigureAwait(false);
                return;
            }

            await using var artifact = await store.OpenArtifactAsync(baseId, SnapshotArtifact.Pprof, context.RequestAborted).ConfigureAwait(false);
            if (artifact is null)
            {
                await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"Heap snapshot {baseId} (base) has no profile file any more (removed by retention).").ConfigureAwait(false);
                return;
            }

            hasBase = true;
        }

        if (!coordinator.TryAcquire(CaptureKind.Heap, ExpectedDuration, out var lease, out var retryAfter))
        {
            await TooManyAsync(context, retryAfter).ConfigureAwait(false);
            return;
        }

        using (lease)
        {
            var (traceId, spanId) = CaptureEndpoints.RequestTrace(context);
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
            CaptureOutcome outcome;
            HeapSnapshotStats stats;
            try
            {
                (outcome, stats) = await coordinator.CaptureHeapAsync(
                    traceId,
                    spanId,
                    _options.Heap.ToSnapshotOptions(),
                    cancellation.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (HeapWalkProblems.Handles(ex, cancellation.Token))
            {
                await HeapWalkProblems.WriteAsync(context, ex, "heap snapshot", HeapBusy, ExpectedDuration, _options.Heap.TimeoutSeconds, logger, traceId).ConfigureAwait(false);
                return;
            }

            var headers = context.Response.Headers;
            headers[PauseHeader] = ((long)stats.GcPause.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
            headers[ObjectsHeader] = stats.Objects.ToString(CultureInfo.InvariantCulture);
            headers[BytesHeader] = stats.ObjectBytes.ToString(CultureInfo.InvariantCulture);
            headers[CompleteHeader] = stats.Complete ? "true" : "false";
            if (!outcome.Stored)
            {
                ProfileResponses.MarkNotStored(context.Response, storeHealth);
            }

            if (hasBase)
            {
                await using var artifact = await store.OpenArtifactAsync(baseId!, SnapshotArtifact.Pprof, context.RequestAborted).ConfigureAwait(false);
                if (artifact is null)
                {
                    await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"Heap snapshot {baseId} (base) was removed by retention while this one was taken; the new snapshot is {outcome.Snapshot.Id}.").ConfigureAwait(false);
                    return;
                }

                headers[BaseHeader] = baseId;
                var difference = HeapProfileDiff.Subtract(PprofDecoder.Decode(artifact), outcome.Profile);
                await ProfileResponses.WriteAsync(context, store, outcome.Snapshot, format, difference, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            await ProfileResponses.WriteAsync(context, store, outcome.Snapshot, format, outcome.Profile, context.RequestAborted, outcome.Pprof).ConfigureAwait(false);
        }
    }

    private static Task TooManyAsync(HttpContext context, TimeSpan retryAfter) => Problems.TooManyAsync(context, retryAfter, HeapBusy);
}
