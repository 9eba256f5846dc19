using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.AspNetCore.Endpoints;
using TraceProf.AspNetCore.Security;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Ui;

/// <summary>
/// The browser UI under <c>{prefix}/ui/</c>: a server-rendered snapshot browser (no script of its own), a per-trace
/// list, a page per snapshot, the sign-in form that gives a browser a role, and speedscope's embedded files.
/// The pages need the <c>snapshots</c> capability, like <c>/snapshots</c>; speedscope's files need any proven role.
/// </summary>
internal sealed class UiEndpoints
{
    private const int DefaultLimit = 100;
    private const int MaxFilterLength = 32;
    private const string ApiKeyField = "apiKey";
    private const string RoleField = "role";
    private const string ReturnUrlField = "returnUrl";

    private readonly TraceProfGate _gate;
    private readonly UiSessionCookie _sessions;
    private readonly ISnapshotStore _store;
    private readonly IAntiforgery _antiforgery;
    private readonly RoleMap _roles;
    private readonly ApiKeyVerifier _apiKeys;
    private readonly SpeedscopeAssets _speedscope;
    private readonly TraceProfOptions _options;
    private readonly ILogger _logger;

    public UiEndpoints(
        TraceProfGate gate,
        UiSessionCookie sessions,
        ISnapshotStore store,
        IAntiforgery antiforgery,
        RoleMap roles,
        ApiKeyVerifier apiKeys,
        SpeedscopeAssets speedscope,
        IOptions<TraceProfOptions> options,
        ILogger<UiEndpoints> logger)
    {
        _gate = gate;
        _sessions = sessions;
        _store = store;
        _antiforgery = antiforgery;
        _roles = roles;
        _apiKeys = apiKeys;
        _speedscope = speedscope;
        _options = options.Value;
        _logger = logger;
        string[] getAndPost = [HttpMethods.Get, HttpMethods.Head, HttpMethods.Post];
        string[] postOnly = [HttpMethods.Post];
        Routes =
        [
            new("/ui", Capabilities.Snapshots, Page(Capabilities.Snapshots, ListAsync), "browser UI: stored snapshots, filter by trace id, kind, trigger"),
            new("/ui/", Capabilities.Snapshots, Page(Capabilities.Snapshots, ListAsync), "browser UI: stored snapshots"),
            new("/ui/traces/{traceId}", Capabilities.Snapshots, Page(Capabilities.Snapshots, TraceAsync), "browser UI: the snapshots of one trace"),
            new("/ui/snapshots/{id}", Capabilities.Snapshots, Page(Capabilities.Snapshots, SnapshotAsync), "browser UI: one snapshot, its downloads and flame graph"),
            new("/ui/signin", Capabilities.None, SignInAsync, "browser UI: pick a role (sign-in form; POST with a CSRF token)", getAndPost),
            new("/ui/signout", Capabilities.None, SignOutAsync, "browser UI: end the browser session (POST with a CSRF token)", postOnly),
            new("/ui/ui.css", Capabilities.None, StylesheetAsync, "browser UI: stylesheet"),
            new("/ui/speedscope/{file}", Capabilities.None, Page(Capabilities.None, SpeedscopeFileAsync), "browser UI: speedscope's files (MIT licence at LICENSE)"),
        ];
    }

    public IReadOnlyList<TraceProfRoute> Routes { get; }

    private string UiPath => _options.PathPrefix + "/ui";

    private RequestDelegate Page(Capabilities required, Func<HttpContext, UiContext, Task> handler) => async context =>
    {
        context.Response.Headers.CacheControl = "no-store";
        var decision = await _gate.AuthorizeAsync(context, required).ConfigureAwait(false);
        if (!decision.Allowed)
        {
            Log.AccessDenied(_logger, context.Request.Path.Value ?? "", decision.StatusCode);
            await DeniedAsync(context, decision).ConfigureAwait(false);
            return;
        }

        var hasCookie = UiSessionCookie.HasCookie(context);
        (string, string?)? signOutToken = null;
        if (hasCookie && HttpMethods.IsGet(context.Request.Method))
        {
            var tokens = _antiforgery.GetAndStoreTokens(context);
            signOutToken = (tokens.FormFieldName, tokens.RequestToken);
        }

        await handler(context, new UiContext(_options.PathPrefix, decision.Role, decision.Proof, hasCookie, signOutToken)).ConfigureAwait(false);
    };

    private Task DeniedAsync(HttpContext context, GateDecision decision)
    {
        var ui = new UiContext(_options.PathPrefix, null, null, false, null);
        var returnUrl = SafeReturnUrl(context.Request.Path.Value + context.Request.QueryString.Value);
        var main = new StringBuilder()
            .Append("<p class=\"error\" role=\"alert\">").Append(UiHtml.Text(decision.Detail)).Append("</p>")
            .Append("<p>A browser cannot send the <code>").Append(UiHtml.Text(_options.RoleHeaderName))
            .Append("</code> header: <a href=\"").Append(UiHtml.Text($"{UiPath}/signin?{ReturnUrlField}={UiHtml.Url(returnUrl)}"))
            .Append("\">sign in</a> to pick a role for this browser.</p>");
        return UiHtml.WriteAsync(context, decision.StatusCode, UiHtml.Page(ui, ReasonTitle(decision.StatusCode), main.ToString()));
    }

    private async Task ListAsync(HttpContext context, UiContext ui)
    {
        var query = context.Request.Query;
        var traceId = Filter(query, "traceId")?.ToLowerInvariant();
        var kind = Filter(query, "kind");
        var trigger = Filter(query, "trigger");
        string? error = null;
        var limit = DefaultLimit;
        if (traceId is not null && !TraceIds.IsValid(traceId))
        {
            error = $"A trace id is 32 hex digits, not all zero (as in a traceparent header or a log line); got '{QueryParser.Echo(traceId)}'.";
        }
        else if (!IsWord(kind) || !IsWord(trigger))
        {
            error = $"kind and trigger are single words of letters, digits, '-' or '_' (at most {MaxFilterLength}).";
        }
        else if (Filter(query, "limit") is { } rawLimit &&
                 (!int.TryParse(rawLimit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > SnapshotQuery.MaxLimit))
        {
            error = $"limit must be an integer from 1 to {SnapshotQuery.MaxLimit}; got '{QueryParser.Echo(rawLimit)}'.";
        }

        var main = new StringBuilder();
        AppendFilterForm(main, traceId, kind, trigger);
        if (error is not null)
        {
            main.Append("<p class=\"error\" role=\"alert\">").Append(UiHtml.Text(error)).Append("</p>");
            await UiHtml.WriteAsync(context, StatusCodes.Status400BadRequest, UiHtml.Page(ui, "Snapshots", main.ToString())).ConfigureAwait(false);
            return;
        }

        // The store filters by trace id and kind; trigger is filtered here, over the newest MaxLimit rows.
        var rows = await _store.ListAsync(
            new SnapshotQuery { TraceId = traceId, Kind = kind, Limit = trigger is null ? limit : SnapshotQuery.MaxLimit },
            context.RequestAborted).ConfigureAwait(false);
        var shown = rows.Where(r => trigger is null || string.Equals(r.Trigger, trigger, StringComparison.Ordinal)).Take(limit).ToList();
        AppendTable(main, shown, traceId is not null || kind is not null || trigger is not null);
        await UiHtml.WriteAsync(context, StatusCodes.Status200OK, UiHtml.Page(ui, "Snapshots", main.ToString())).ConfigureAwait(false);
    }

    private async Task TraceAsync(HttpContext context, UiContext ui)
    {
        var traceId = (context.Request.RouteValues["traceId"] as string ?? "").Trim().ToLowerInvariant();
        if (!TraceIds.IsValid(traceId))
        {
            var detail = $"A trace id is 32 hex digits, not all zero; got '{QueryParser.Echo(traceId)}'.";
            await UiHtml.WriteAsync(context, StatusCodes.Status400BadRequest, UiHtml.Page(ui, "Trace", $"<p class=\"error\" role=\"alert\">{UiHtml.Text(detail)}</p>")).ConfigureAwait(false);
            return;
        }

        var rows = await _store.ListAsync(new SnapshotQuery { TraceId = traceId, Limit = SnapshotQuery.MaxLimit }, context.RequestAborted).ConfigureAwait(false);
        var main = new StringBuilder();
        var services = rows.Select(r => r.ServiceName).Distinct(StringComparer.Ordinal).ToList();
        main.Append("<p>Trace <span class=\"id\">").Append(UiHtml.Text(traceId)).Append("</span>: ")
            .Append(rows.Count.ToString(CultureInfo.InvariantCulture)).Append(rows.Count == 1 ? " snapshot" : " snapshots")
            .Append(services.Count > 0 ? " from " + UiHtml.Text(string.Join(", ", services)) : "").Append(".</p>");
        var kinds = rows.Select(r => r.Kind).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (kinds.Count > 0)
        {
            // One merged flame graph per kind: every service's samples of this trace, one speedscope profile per service.
            main.Append("<p>Whole trace, merged across snapshots and services: ");
            main.AppendJoin(", ", kinds.Select(kind =>
            {
                var profileUrl = $"{_options.PathPrefix}/traces/{traceId}?kind={kind}&format=speedscope";
                var href = $"{UiPath}/speedscope/{SpeedscopeAssets.IndexFile}#profileURL={UiHtml.Url(profileUrl)}&title={UiHtml.Url($"trace {traceId} ({kind})")}";
                return $"<a href=\"{UiHtml.Text(href)}\">{UiHtml.Text(kind)} flame graph</a>";
            }));
            main.Append(".</p>");
        }

        AppendTable(main, rows, filtered: true);
        await UiHtml.WriteAsync(context, StatusCodes.Status200OK, UiHtml.Page(ui, "Trace " + traceId, main.ToString())).ConfigureAwait(false);
    }

    private async Task SnapshotAsync(HttpContext context, UiContext ui)
    {
        var id = context.Request.RouteValues["id"] as string ?? "";
        var snapshot = SnapshotIds.IsValid(id) ? await _store.GetAsync(id, context.RequestAborted).ConfigureAwait(false) : null;
        if (snapshot is null)
        {
            var detail = SnapshotIds.IsValid(id)
                ? $"No snapshot with id {id}; it may have been removed by retention."
                : $"A snapshot id is 32 lower-case hex digits; got '{QueryParser.Echo(id)}'.";
            var status = SnapshotIds.IsValid(id) ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest;
            await UiHtml.WriteAsync(context, status, UiHtml.Page(ui, "Snapshot", $"<p class=\"error\" role=\"alert\">{UiHtml.Text(detail)}</p>")).ConfigureAwait(false);
            return;
        }

        var main = new StringBuilder("<table><tbody>");
        void Row(string name, string htmlValue) => main.Append("<tr><th scope=\"row\">").Append(name).Append("</th><td>").Append(htmlValue).Append("</td></tr>");
        Row("Snapshot id", $"<span class=\"id\">{UiHtml.Text(snapshot.Id)}</span>");
        Row("Trace id", TraceLink(snapshot.TraceId));
        Row("Span id", $"<span class=\"id\">{UiHtml.Text(snapshot.SpanId)}</span>");
        Row("Kind", UiHtml.Text(snapshot.Kind));
        Row("Trigger", UiHtml.Text(snapshot.Trigger));
        Row("Status", UiHtml.Text(snapshot.Status));
        Row("Service", UiHtml.Text(snapshot.ServiceName));
        Row("Host", UiHtml.Text(snapshot.HostName));
        Row("Started (UTC)", Time(snapshot.StartedAt));
        Row("Duration", UiHtml.Text(UiHtml.Duration(snapshot.Duration)));
        Row("Samples", UiHtml.Text(snapshot.SampleCount.ToString("N0", CultureInfo.InvariantCulture)));
        Row("Size", UiHtml.Text($"pprof {UiHtml.Size(snapshot.ProfileBytes)}, nettrace {UiHtml.Size(snapshot.NettraceBytes)}"));
        Row("Open", FlameGraphLink(snapshot));
        Row("Download", Downloads(snapshot));
        main.Append("</tbody></table>");
        await UiHtml.WriteAsync(context, StatusCodes.Status200OK, UiHtml.Page(ui, "Snapshot " + snapshot.Id, main.ToString())).ConfigureAwait(false);
    }

    private async Task SignInAsync(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await SignInFormAsync(context, StatusCodes.Status200OK, error: null, SafeReturnUrl(context.Request.Query[ReturnUrlField].ToString())).ConfigureAwait(false);
            return;
        }

        if (!context.Request.HasFormContentType || !await _antiforgery.IsRequestValidAsync(context).ConfigureAwait(false))
        {
            Log.UiSignInRefused(_logger, StatusCodes.Status400BadRequest);
            await SignInFormAsync(context, StatusCodes.Status400BadRequest, "The form did not carry a valid anti-forgery token (it may have expired, or come from another site). Try again from this page.", UiPath + "/").ConfigureAwait(false);
            return;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var role = form[RoleField].ToString();
        var key = form[ApiKeyField].ToString();
        var returnUrl = SafeReturnUrl(form[ReturnUrlField].ToString());
        UiSession? session = null;
        int status;
        string? error;
        if (!_roles.TryGet(role, out _))
        {
            (status, error) = (StatusCodes.Status403Forbidden, $"The role '{QueryParser.Echo(role)}' is not known; known roles: {string.Join(", ", _roles.Names)}.");
        }
        else if (key.Length > 0)
        {
            // The same rule as the header path: a key that is sent must be right; it never falls back to loopback.
            (status, error) = _apiKeys.HasKeys && _apiKeys.Verify(key)
                ? (StatusCodes.Status200OK, null)
                : (StatusCodes.Status401Unauthorized, "The API key is not valid.");
            if (error is null)
            {
                session = new UiSession(role, UiSession.ApiKeyProof, Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))));
            }
        }
        else if (_options.TrustLoopback && context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address))
        {
            (status, error) = (StatusCodes.Status200OK, null);
            session = new UiSession(role, UiSession.LoopbackProof, KeyHash: null);
        }
        else
        {
            (status, error) = (StatusCodes.Status401Unauthorized, "This connection is not trusted on its own: enter an API key to prove the role.");
        }

        if (session is null)
        {
            Log.UiSignInRefused(_logger, status);
            await SignInFormAsync(context, status, error, returnUrl).ConfigureAwait(false);
            return;
        }

        _sessions.Issue(context, session);
        Log.UiSignedIn(_logger, session.Role, session.Proof);
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = returnUrl;
    }

    private async Task SignInFormAsync(HttpContext context, int status, string? error, string returnUrl)
    {
        var tokens = _antiforgery.GetAndStoreTokens(context);
        var loopback = _options.TrustLoopback && context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);
        var main = new StringBuilder();
        if (error is not null)
        {
            main.Append("<p class=\"error\" role=\"alert\">").Append(UiHtml.Text(error)).Append("</p>");
        }

        main.Append("<p>Pick the role this browser acts as. The choice is kept in a sealed, HttpOnly, SameSite=Strict cookie for ")
            .Append(UiSessionCookie.Lifetime.TotalHours.ToString(CultureInfo.InvariantCulture)).Append(" hours. ")
            .Append(loopback
                ? "This connection comes from loopback, which this app trusts: no key is needed."
                : "Prove the role with an API key; only its SHA-256 is configured on the server.")
            .Append(" A user signed in to the application itself with a <code>").Append(UiHtml.Text(_options.RoleClaimType))
            .Append("</code> claim needs no sign-in here.</p>")
            .Append("<form class=\"signin\" method=\"post\" action=\"").Append(UiHtml.Text(UiPath)).Append("/signin\">")
            .Append(UiHtml.Hidden(tokens.FormFieldName, tokens.RequestToken))
            .Append(UiHtml.Hidden(ReturnUrlField, returnUrl))
            .Append("<label for=\"role\">Role<select id=\"role\" name=\"").Append(RoleField).Append("\" required>");
        foreach (var name in _roles.Names)
        {
            main.Append("<option>").Append(UiHtml.Text(name)).Append("</option>");
        }

        main.Append("</select></label><label for=\"apiKey\">API key").Append(loopback ? " (optional here)" : "")
            .Append("<input id=\"apiKey\" name=\"").Append(ApiKeyField).Append("\" type=\"password\" autocomplete=\"off\"")
            .Append(loopback ? "" : " required").Append("></label><button type=\"submit\">Sign in</button></form>");
        var ui = new UiContext(_options.PathPrefix, null, null, false, null);
        await UiHtml.WriteAsync(context, status, UiHtml.Page(ui, "Sign in", main.ToString())).ConfigureAwait(false);
    }

    private async Task SignOutAsync(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (!context.Request.HasFormContentType || !await _antiforgery.IsRequestValidAsync(context).ConfigureAwait(false))
        {
            var ui = new UiContext(_options.PathPrefix, null, null, false, null);
            await UiHtml.WriteAsync(context, StatusCodes.Status400BadRequest, UiHtml.Page(ui, "Sign out", "<p class=\"error\" role=\"alert\">The request did not carry a valid anti-forgery token; nothing was changed.</p>")).ConfigureAwait(false);
            return;
        }

        _sessions.Clear(context);
        Log.UiSignedOut(_logger);
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = UiPath + "/signin";
    }

    private static Task StylesheetAsync(HttpContext context)
    {
        context.Response.ContentType = "text/css; charset=utf-8";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "public, max-age=3600";
        return context.Response.WriteAsync(UiHtml.Stylesheet, context.RequestAborted);
    }

    private async Task SpeedscopeFileAsync(HttpContext context, UiContext ui)
    {
        var file = context.Request.RouteValues["file"] as string ?? "";
        var bytes = _speedscope.Get(file);
        if (bytes is null)
        {
            var detail = _speedscope.Available
                ? $"speedscope has no file '{QueryParser.Echo(file)}'."
                : "This build of TraceProf was made without the flame-graph viewer (-p:TraceProfEmbedSpeedscope=false); download the profile and open it in any speedscope instead.";
            await UiHtml.WriteAsync(context, StatusCodes.Status404NotFound, UiHtml.Page(ui, "Not found", $"<p class=\"error\" role=\"alert\">{UiHtml.Text(detail)}</p>")).ConfigureAwait(false);
            return;
        }

        var response = context.Response;
        UiHtml.ApplyPageHeaders(response, UiHtml.SpeedscopeContentSecurityPolicy);
        response.ContentType = SpeedscopeAssets.ContentType(file);

        // speedscope's bundles carry a content hash in their names, so they may be cached for good; index.html may not.
        response.Headers.CacheControl = file.Contains('-', StringComparison.Ordinal) && file != SpeedscopeAssets.IndexFile
            ? "private, max-age=31536000, immutable"
            : "no-cache";
        response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private void AppendFilterForm(StringBuilder html, string? traceId, string? kind, string? trigger)
    {
        html.Append("<form class=\"filters\" method=\"get\" action=\"").Append(UiHtml.Text(UiPath)).Append("/\" role=\"search\">")
            .Append("<label for=\"traceId\">Trace id<input id=\"traceId\" name=\"traceId\" value=\"").Append(UiHtml.Text(traceId))
            .Append("\" placeholder=\"32 hex digits from a log or traceparent\" autocomplete=\"off\" spellcheck=\"false\"></label>")
            .Append("<label for=\"kind\">Kind<input id=\"kind\" name=\"kind\" value=\"").Append(UiHtml.Text(kind)).Append("\" placeholder=\"cpu\" size=\"10\"></label>")
            .Append("<label for=\"trigger\">Trigger<input id=\"trigger\" name=\"trigger\" value=\"").Append(UiHtml.Text(trigger)).Append("\" placeholder=\"request\" size=\"10\"></label>")
            .Append("<button type=\"submit\">Filter</button> <a href=\"").Append(UiHtml.Text(UiPath)).Append("/\">Clear</a></form>");
    }

    private void AppendTable(StringBuilder html, IReadOnlyList<SnapshotInfo> rows, bool filtered)
    {
        if (rows.Count == 0)
        {
            html.Append("<p>").Append(filtered ? "No snapshot matches these filters." : "No snapshots yet: take a profile from the ")
                .Append(filtered ? "" : $"<a href=\"{UiHtml.Text(_options.PathPrefix)}/pprof/\">pprof index</a>.").Append("</p>");
            return;
        }

        html.Append("<table><caption class=\"note\">").Append(rows.Count.ToString(CultureInfo.InvariantCulture))
            .Append(rows.Count == 1 ? " snapshot" : " snapshots, newest first").Append(". Times in UTC.</caption><thead><tr><th scope=\"col\">Started</th><th scope=\"col\">Trace id</th>")
            .Append("<th scope=\"col\">Kind</th><th scope=\"col\">Trigger</th><th scope=\"col\">Service</th><th scope=\"col\" class=\"num\">Duration</th>")
            .Append("<th scope=\"col\" class=\"num\">Size</th><th scope=\"col\">Flame graph</th><th scope=\"col\">Download</th></tr></thead><tbody>");
        foreach (var row in rows)
        {
            html.Append("<tr><td><a href=\"").Append(UiHtml.Text($"{UiPath}/snapshots/{row.Id}")).Append("\">").Append(Time(row.StartedAt)).Append("</a></td>")
                .Append("<td>").Append(TraceLink(row.TraceId)).Append("</td>")
                .Append("<td>").Append(UiHtml.Text(row.Kind)).Append("</td>")
                .Append("<td>").Append(UiHtml.Text(row.Trigger)).Append("</td>")
                .Append("<td>").Append(UiHtml.Text(row.ServiceName)).Append("</td>")
                .Append("<td class=\"num\">").Append(UiHtml.Text(UiHtml.Duration(row.Duration))).Append("</td>")
                .Append("<td class=\"num\">").Append(UiHtml.Text(UiHtml.Size(row.ProfileBytes + row.NettraceBytes))).Append("</td>")
                .Append("<td>").Append(FlameGraphLink(row)).Append("</td>")
                .Append("<td>").Append(Downloads(row)).Append("</td></tr>");
        }

        html.Append("</tbody></table>");
    }

    private string TraceLink(string traceId) =>
        $"<a class=\"id\" href=\"{UiHtml.Text($"{UiPath}/traces/{traceId}")}\">{UiHtml.Text(traceId)}</a>";

    private string FlameGraphLink(SnapshotInfo row)
    {
        // speedscope loads #profileURL= with fetch() from the same origin, so the browser's session cookie goes along.
        var profileUrl = $"{_options.PathPrefix}/snapshots/{row.Id}?format=speedscope";
        var title = $"{row.ServiceName} {row.Kind} {row.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC";
        var href = $"{UiPath}/speedscope/{SpeedscopeAssets.IndexFile}#profileURL={UiHtml.Url(profileUrl)}&title={UiHtml.Url(title)}";
        return $"<a href=\"{UiHtml.Text(href)}\" aria-label=\"Flame graph of snapshot {UiHtml.Text(row.Id)}\">open</a>";
    }

    private string Downloads(SnapshotInfo row)
    {
        var formats = row.NettraceBytes > 0 ? new[] { "pprof", "speedscope", "folded", "nettrace" } : ["pprof", "speedscope", "folded"];
        return string.Join(" · ", formats.Select(f =>
            $"<a href=\"{UiHtml.Text($"{_options.PathPrefix}/snapshots/{row.Id}?format={f}")}\" download>{f}</a>"));
    }

    private static string Time(DateTimeOffset time) =>
        $"<time datetime=\"{UiHtml.Text(time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))}\">{UiHtml.Text(time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))}</time>";

    private static string? Filter(IQueryCollection query, string name)
    {
        // A GET form sends empty fields; an empty filter means "any".
        var value = query[name].ToString().Trim();
        return value.Length == 0 ? null : value;
    }

    private static bool IsWord(string? value) =>
        value is null || (value.Length <= MaxFilterLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));

    /// <summary>Only a path of this UI may be returned to after sign-in: never another host, never a protocol-relative URL.</summary>
    private string SafeReturnUrl(string? value)
    {
        var fallback = UiPath + "/";
        if (string.IsNullOrEmpty(value) ||
            !(value == UiPath || value.StartsWith(UiPath + "/", StringComparison.Ordinal) || value.StartsWith(UiPath + "?", StringComparison.Ordinal)) ||
            value.Contains("//", StringComparison.Ordinal) || value.Contains('\\', StringComparison.Ordinal) || value.Any(char.IsControl) ||
            value.StartsWith(UiPath + "/signin", StringComparison.Ordinal) || value.StartsWith(UiPath + "/signout", StringComparison.Ordinal))
        {
            return fallback;
        }

        return value;
    }

    private static string ReasonTitle(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "Sign-in needed",
        StatusCodes.Status403Forbidden => "Not allowed",
        _ => "Refused",
    };
}
