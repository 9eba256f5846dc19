using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Security;
using TraceProf.AspNetCore.Ui;
using TraceProf.Capture;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>The handlers behind every TraceProf route, and the route table both placements use.</summary>
internal sealed class TraceProfEndpoints
{
    private static readonly string[] SnapshotKinds = ["cpu"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly TraceProfGate _gate;
    private readonly CaptureCoordinator _coordinator;
    private readonly ISnapshotStore _store;
    private readonly TraceProfOptions _options;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;

    public TraceProfEndpoints(
        TraceProfGate gate,
        CaptureCoordinator coordinator,
        ISnapshotStore store,
        IOptions<TraceProfOptions> options,
        IHostApplicationLifetime lifetime,
        ILogger<TraceProfEndpoints> logger,
        UiEndpoints ui)
    {
        _gate = gate;
        _coordinator = coordinator;
        _store = store;
        _options = options.Value;
        _lifetime = lifetime;
        _logger = logger;
        Routes =
        [
            new("/pprof", Capabilities.None, Guard(Capabilities.None, IndexAsync), "this index"),
            new("/pprof/", Capabilities.None, Guard(Capabilities.None, IndexAsync), "this index"),
            new("/profile", Capabilities.Cpu, Guard(Capabilities.Cpu, CpuProfileAsync), "CPU profile: samples of every managed thread for ?seconds=N (default 30)"),
            new("/pprof/profile", Capabilities.Cpu, Guard(Capabilities.Cpu, CpuProfileAsync), "CPU profile (Go pprof path)"),
            new("/snapshots", Capabilities.Snapshots, Guard(Capabilities.Snapshots, ListSnapshotsAsync), "stored snapshots: ?traceId=&kind=&since=&limit="),
            new("/snapshots/{id}", Capabilities.Snapshots, Guard(Capabilities.Snapshots, GetSnapshotAsync), "one stored snapshot: ?format=pprof|speedscope|folded|nettrace"),
            new("/pprof/{name}", Capabilities.None, Guard(Capabilities.None, UnknownProfileAsync), "unknown profile names answer 404"),
            .. ui.Routes, // the browser UI under /ui/ (Ui/UiEndpoints.cs)
        ];
    }

    public IReadOnlyList<TraceProfRoute> Routes { get; }

    /// <summary>Answers a path under the prefix that no route matches.</summary>
    public Task NotFoundAsync(HttpContext context) =>
        Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"No TraceProf endpoint at this path; the index is {_options.PathPrefix}/pprof/.");

    private RequestDelegate Guard(Capabilities required, RequestDelegate handler) => async context =>
    {
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-store";
        var decision = await _gate.AuthorizeAsync(context, required).ConfigureAwait(false);
        if (!decision.Allowed)
        {
            Log.AccessDenied(_logger, context.Request.Path.Value ?? "", decision.StatusCode);
            await Problems.WriteAsync(context, decision.StatusCode, decision.Detail!).ConfigureAwait(false);
            return;
        }

        await handler(context).ConfigureAwait(false);
    };

    private async Task CpuProfileAsync(HttpContext context)
    {
        if (!QueryParser.TryGetSeconds(context.Request, _options, out var seconds, out var error) ||
            !QueryParser.TryGetFormat(context.Request, out var format, out error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var duration = TimeSpan.FromSeconds(seconds);
        if (!_coordinator.TryAcquire(CaptureKind.Cpu, duration, out var lease, out var retryAfter))
        {
            var retrySeconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = retrySeconds.ToString(CultureInfo.InvariantCulture);
            await Problems.WriteAsync(
                context,
                StatusCodes.Status429TooManyRequests,
                $"A CPU capture is already running; one runs at a time. Retry in about {retrySeconds} s.").ConfigureAwait(false);
            return;
        }

        using (lease)
        {
            var (traceId, spanId) = RequestTrace(context);
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _lifetime.ApplicationStopping);
            CaptureOutcome outcome;
            try
            {
                outcome = await _coordinator.CaptureAsync(new CaptureRequest(CaptureKind.Cpu, duration, traceId, spanId), cancellation.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                Log.CaptureCancelled(_logger, traceId);
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The capture was cancelled: the client went away or the application is stopping.").ConfigureAwait(false);
                return;
            }
            catch (CaptureUnavailableException ex)
            {
                Log.CaptureUnavailable(_logger, ex);
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ex.Message).ConfigureAwait(false);
                return;
            }

            await ProfileResponses.WriteAsync(context, _store, outcome.Snapshot, format, outcome.Profile, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private async Task ListSnapshotsAsync(HttpContext context)
    {
        var request = context.Request;
        if (!QueryParser.TryGetTraceId(request, out var traceId, out var error) ||
            !QueryParser.TryGetKind(request, SnapshotKinds, out var kind, out error) ||
            !QueryParser.TryGetSince(request, out var since, out error) ||
            !QueryParser.TryGetLimit(request, SnapshotQuery.MaxLimit, out var limit, out error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var rows = await _store.ListAsync(new SnapshotQuery { TraceId = traceId, Kind = kind, Since = since, Limit = limit }, context.RequestAborted).ConfigureAwait(false);
        var body = new
        {
            count = rows.Count,
            snapshots = rows.Select(row => new
            {
                id = row.Id,
                traceId = row.TraceId,
                spanId = row.SpanId,
                kind = row.Kind,
                trigger = row.Trigger,
                status = row.Status,
                serviceName = row.ServiceName,
                hostName = row.HostName,
                startedAt = row.StartedAt,
                durationMs = (long)row.Duration.TotalMilliseconds,
                sampleCount = row.SampleCount,
                profileBytes = row.ProfileBytes,
                nettraceBytes = row.NettraceBytes,
                href = $"{_options.PathPrefix}/snapshots/{row.Id}",
            }),
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

        if (!QueryParser.TryGetFormat(context.Request, out var format, out var error))
        {
            await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, error!).ConfigureAwait(false);
            return;
        }

        var snapshot = await _store.GetAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (snapshot is null)
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"No snapshot with id {id}; list them at {_options.PathPrefix}/snapshots.").ConfigureAwait(false);
            return;
        }

        await ProfileResponses.WriteAsync(context, _store, snapshot, format, profile: null, context.RequestAborted).ConfigureAwait(false);
    }

    private Task UnknownProfileAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["name"] as string ?? "";
        return Problems.WriteAsync(
            context,
            StatusCodes.Status404NotFound,
            $"Unknown profile '{QueryParser.Echo(name)}'; available: profile. See {_options.PathPrefix}/pprof/.");
    }

    private async Task IndexAsync(HttpContext context)
    {
        var profiles = new[]
        {
            new IndexEntry("profile", $"{_options.PathPrefix}/pprof/profile?seconds={_options.DefaultCaptureSeconds}", "cpu",
                $"CPU profile: every managed thread sampled for ?seconds=N (1–{_options.MaxCaptureSeconds}); ?format=pprof|speedscope|folded|nettrace."),
            new IndexEntry("snapshots", $"{_options.PathPrefix}/snapshots", "snapshots",
                "Stored snapshots, newest first; filter with ?traceId=<32 hex>&kind=&since=&limit=."),
        };

        var accept = context.Request.Headers.Accept.ToString();
        if (accept.Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            var html = new StringBuilder();
            html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>TraceProf</title></head><body>");
            html.Append("<h1>TraceProf profiles</h1><table><thead><tr><th>Profile</th><th>Capability</th><th>Description</th></tr></thead><tbody>");
            foreach (var entry in profiles)
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><td><a href=\"{HtmlEncoder.Default.Encode(entry.Href)}\">{HtmlEncoder.Default.Encode(entry.Name)}</a></td><td>{HtmlEncoder.Default.Encode(entry.Capability)}</td><td>{HtmlEncoder.Default.Encode(entry.Description)}</td></tr>");
            }

            html.Append("</tbody></table><p>Send the role in the <code>").Append(HtmlEncoder.Default.Encode(_options.RoleHeaderName)).Append("</code> header.</p></body></html>");
            context.Response.Headers.ContentSecurityPolicy = "default-src 'none'";
            await TypedResults.Content(html.ToString(), "text/html; charset=utf-8").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        await TypedResults.Json(new { profiles }, Json).ExecuteAsync(context).ConfigureAwait(false);
    }

    private static (ActivityTraceId TraceId, ActivitySpanId SpanId) RequestTrace(HttpContext context)
    {
        // ASP.NET Core starts an Activity only when someone listens (OpenTelemetry does); without one, honour the
        // caller's traceparent ourselves so the caller still chooses the trace the snapshot is stored under.
        if (Activity.Current is { } activity && activity.IdFormat == ActivityIdFormat.W3C)
        {
            return (activity.TraceId, activity.SpanId);
        }

        var traceparent = context.Request.Headers.TraceParent.ToString();
        if (traceparent.Length > 0 && ActivityContext.TryParse(traceparent, null, out var parent))
        {
            return (parent.TraceId, ActivitySpanId.CreateRandom());
        }

        return (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
    }

    private sealed record IndexEntry(string Name, string Href, string Capability, string Description);
}
