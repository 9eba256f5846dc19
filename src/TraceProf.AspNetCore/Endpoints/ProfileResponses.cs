using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using TraceProf.Encoding;
using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>Writes a stored snapshot in any format, with the download and identification headers.</summary>
internal static class ProfileResponses
{
    public const string SnapshotIdHeader = "X-TraceProf-Snapshot-Id";
    public const string TraceIdHeader = "X-TraceProf-Trace-Id";
    public const string SnapshotStatusHeader = "X-TraceProf-Snapshot-Status";

    /// <summary>
    /// Tells the caller that the profile it gets was not kept: <c>dropped</c> when the store kept failing,
    /// <c>not-stored</c> when it is unavailable, with the store's reason (ASCII only, as headers take) when it has one.
    /// </summary>
    public static void MarkNotStored(HttpResponse response, SnapshotStoreHealth storeHealth)
    {
        response.Headers[SnapshotStatusHeader] = storeHealth.IsReady ? "dropped" : "not-stored";
        if (storeHealth.Reason is { } reason)
        {
            response.Headers[SnapshotStatusHeader + "-Reason"] = string.Concat(reason.Select(c => char.IsAscii(c) && !char.IsControl(c) ? c : '?'));
        }
    }

    /// <summary>
    /// Answers with the snapshot; <paramref name="profile"/> saves decoding the stored pprof when the caller has it,
    /// and <paramref name="pprof"/> (the bytes a capture just stored) is streamed as it is instead of encoding again.
    /// </summary>
    public static async Task WriteAsync(
        HttpContext context,
        ISnapshotStore store,
        SnapshotInfo snapshot,
        ProfileFormat format,
        Profile? profile,
        CancellationToken cancellationToken,
        ReadOnlyMemory<byte> pprof = default)
    {
        if (format == ProfileFormat.Pprof && !pprof.IsEmpty)
        {
            SetHeaders(context.Response, snapshot, ProfileFormats.ContentType(format), ProfileFormats.FileExtension(format));
            context.Response.ContentLength = pprof.Length;
            await context.Response.Body.WriteAsync(pprof, cancellationToken).ConfigureAwait(false);
            return;
        }

        // A profile in hand (fresh from a capture, or filtered to one trace) is encoded; otherwise the stored
        // artifact is streamed or decoded.
        Stream? stored = null;
        if (format == ProfileFormat.Nettrace || profile is null)
        {
            var artifact = format == ProfileFormat.Nettrace ? SnapshotArtifact.Nettrace : SnapshotArtifact.Pprof;
            stored = await store.OpenArtifactAsync(snapshot.Id, artifact, cancellationToken).ConfigureAwait(false);
            if (stored is null && artifact == SnapshotArtifact.Nettrace && snapshot.NettraceOmitted is { } omitted)
            {
                await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"Snapshot {snapshot.Id} has no nettrace: {omitted}{(omitted.Contains("MaxTotalBytes", StringComparison.Ordinal) ? " Raise TraceProf:Storage:MaxTotalMegabytes to keep raw traces." : "")}").ConfigureAwait(false);
                return;
            }

            if (stored is null)
            {
                await Problems.WriteAsync(
                    context,
                    StatusCodes.Status404NotFound,
                    $"Snapshot {snapshot.Id} has no {(artifact == SnapshotArtifact.Nettrace ? "nettrace" : "profile")} file any more (removed by retention or never stored).").ConfigureAwait(false);
                return;
            }
        }

        await using (stored)
        {
            var response = context.Response;
            SetHeaders(response, snapshot, ProfileFormats.ContentType(format), ProfileFormats.FileExtension(format));
            if (stored is not null && format is ProfileFormat.Pprof or ProfileFormat.Nettrace)
            {
                response.ContentLength = stored.Length;
                await stored.CopyToAsync(response.Body, cancellationToken).ConfigureAwait(false);
                return;
            }

            profile ??= PprofDecoder.Decode(stored!);
            await SendBufferedAsync(response, buffer => ProfileEncoder.Write(profile, format, buffer, $"{snapshot.ServiceName} {snapshot.Kind} {snapshot.Id}"), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Answers with a thread dump as text (Go's <c>goroutine?debug=1|2</c>).</summary>
    public static async Task WriteThreadDumpAsync(
        HttpContext context,
        ISnapshotStore store,
        SnapshotInfo snapshot,
        int debugLevel,
        Profile? profile,
        CancellationToken cancellationToken)
    {
        if (profile is null)
        {
            var stored = await store.OpenArtifactAsync(snapshot.Id, SnapshotArtifact.Pprof, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"Snapshot {snapshot.Id} has no profile file any more (removed by retention or never stored).").ConfigureAwait(false);
                return;
            }

            await using (stored)
            {
                profile = PprofDecoder.Decode(stored);
            }
        }

        SetHeaders(context.Response, snapshot, "text/plain; charset=utf-8", ".threads.txt");
        await SendBufferedAsync(context.Response, buffer => ThreadDumpEncoder.Write(profile, buffer, debugLevel), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Answers with a tasks profile as text (<c>debug=1</c> grouped chains, <c>debug=2</c> one block per chain).</summary>
    public static Task WriteTasksTextAsync(HttpContext context, SnapshotInfo snapshot, int debugLevel, Profile profile, CancellationToken cancellationToken)
    {
        SetHeaders(context.Response, snapshot, "text/plain; charset=utf-8", ".tasks.txt");
        return SendBufferedAsync(context.Response, buffer => TasksTextEncoder.Write(profile, buffer, debugLevel), cancellationToken);
    }

    /// <summary>Answers with a profile merged from several snapshots of one trace.</summary>
    public static Task WriteMergedAsync(HttpContext context, Profile profile, ProfileFormat format, string traceId, string kind, IEnumerable<string> snapshotIds, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ProfileFormats.ContentType(format);
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers[SnapshotIdHeader] = string.Join(",", snapshotIds);
        response.Headers[TraceIdHeader] = traceId;
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = $"trace-{traceId}-{kind}{ProfileFormats.FileExtension(format)}" }.ToString();
        return SendBufferedAsync(response, buffer => ProfileEncoder.Write(profile, format, buffer, $"trace {traceId} ({kind})"), cancellationToken);
    }

    private static void SetHeaders(HttpResponse response, SnapshotInfo snapshot, string contentType, string extension)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.Headers.XContentTypeOptions = "nosniff";
        if (response.Headers[SnapshotStatusHeader] is not ["dropped"] and not ["not-stored"])
        {
            response.Headers[SnapshotIdHeader] = snapshot.Id;
        }

        response.Headers[TraceIdHeader] = snapshot.TraceId;
        var fileName = $"{snapshot.Kind}-{snapshot.StartedAt.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{snapshot.Id[..12]}{extension}";
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = fileName }.ToString();
    }

    private static async Task SendBufferedAsync(HttpResponse response, Action<Stream> write, CancellationToken cancellationToken)
    {
        // The encoders write synchronously; buffer, then send, so Kestrel never sees synchronous IO.
        using var buffer = new MemoryStream();
        write(buffer);
        response.ContentLength = buffer.Length;
        buffer.Position = 0;
        await buffer.CopyToAsync(response.Body, cancellationToken).ConfigureAwait(false);
    }
}
