using System.Globalization;
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
/// This file holds the routes, the gate of the pages, sign-in and the static files; the pages are in UiEndpoints.Pages.cs.
/// </summary>
internal sealed partial class UiEndpoints
{
    private const int DefaultLimit = 100;
    private const int MaxFilterLength = 32;
    private const string ApiKeyField = "apiKey";
    private const string RoleField = "role";
    private const string ReturnUrlField = "returnUrl";
    private const int MaxReturnUrlLength = 2048;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly TraceProfGate _gate;
    private readonly UiSessionCookie _sessions;
    private readonly ISnapshotStore _store;
    private readonly IAntiforgery _antiforgery;
    private readonly RoleMap _roles;
    private readonly ApiKeyVerifier _apiKeys;
    private readonly SpeedscopeAssets _speedscope;
    private readonly TraceProfOptions _options;
    private readonly ILogger _logger;
    private readonly IndexEndpoints _index;

    public UiEndpoints(
        TraceProfGate gate,
        UiSessionCookie sessions,
        ISnapshotStore store,
        IAntiforgery antiforgery,
        RoleMap roles,
        ApiKeyVerifier apiKeys,
        SpeedscopeAssets speedscope,
        IOptions<TraceProfOptions> options,
        ILogger<UiEndpoints> logger,
        IndexEndpoints index)
    {
        _index = index;
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
        NoStore(context.Response);
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

    // The headers DefaultAntiforgery sets itself when a page carries a token: with exactly these already there it has
    // nothing to override, so it logs no "Cache-Control and Pragma headers have been overridden" Warning on every page.
    private static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers.Pragma = "no-cache";
    }

    private Task DeniedAsync(HttpContext context, GateDecision decision)
    {
        var ui = new UiContext(_options.PathPrefix, null, null, false, null);
        var returnUrl = SafeReturnUrl(context.Request.Path.ToUriComponent() + context.Request.QueryString.Value);
        var main = new StringBuilder()
            .Append("<p class=\"error\" role=\"alert\">").Append(UiHtml.Text(decision.Detail)).Append("</p>")
            .Append("<p>A browser cannot send the <code>").Append(UiHtml.Text(_options.RoleHeaderName))
            .Append("</code> header: <a href=\"").Append(UiHtml.Text($"{UiPath}/signin?{ReturnUrlField}={UiHtml.Url(returnUrl)}"))
            .Append("\">sign in</a> to pick a role for this browser.</p>");
        return UiHtml.WriteAsync(context, decision.StatusCode, UiHtml.Page(ui, ReasonTitle(decision.StatusCode), main.ToString()));
    }

    private async Task SignInAsync(HttpContext context)
    {
        NoStore(context.Response);
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
            string? boundRole = null;
            (status, error) = _apiKeys.HasKeys && _apiKeys.Verify(key, out boundRole)
                ? (StatusCodes.Status200OK, null)
                : (StatusCodes.Status401Unauthorized, "The API key is not valid.");
            if (error is null && boundRole is not null && !_roles.Narrows(role, boundRole))
            {
                // A key bound to a role (TraceProf:ApiKeys) signs in as that role or a narrower one, as on the header path.
                (status, error) = (StatusCodes.Status403Forbidden, $"This API key proves the role '{QueryParser.Echo(boundRole)}'; pick it or a role with no capability beyond it.");
            }

            if (error is null)
            {
                session = new UiSession(role, UiSession.ApiKeyProof, Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))));
            }
        }
        else if (LoopbackTrust.Applies(context, _options.TrustLoopback, out var notLoopback))
        {
            (status, error) = (StatusCodes.Status200OK, null);
            session = new UiSession(role, UiSession.LoopbackProof, KeyHash: null);
        }
        else
        {
            (status, error) = (StatusCodes.Status401Unauthorized, $"This connection is not trusted on its own (loopback trust not applied: {notLoopback}): enter an API key to prove the role.");
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
        // The same check as the gate's: a request through a proxy, or naming another Host, is not offered key-less sign-in.
        var loopback = LoopbackTrust.Applies(context, _options.TrustLoopback, out var notLoopback);
        var main = new StringBuilder();
        if (error is not null)
        {
            main.Append("<p class=\"error\" role=\"alert\">").Append(UiHtml.Text(error)).Append("</p>");
        }

        main.Append("<p>Pick the role this browser acts as. The choice is kept in a sealed, HttpOnly, SameSite=Strict cookie for ")
            .Append(UiSessionCookie.Lifetime.TotalHours.ToString(CultureInfo.InvariantCulture)).Append(" hours. ")
            .Append(loopback
                ? "This connection comes from loopback, which this app trusts: no key is needed."
                : $"Prove the role with an API key; only its SHA-256 is configured on the server. (Loopback trust not applied: {UiHtml.Text(notLoopback)}.)")
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
        NoStore(context.Response);
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

    /// <summary>
    /// Only a path of this UI may be returned to after sign-in: never another host, never a protocol-relative URL,
    /// never a dot segment that a browser would resolve out of the UI (<c>/debug/ui/../x</c>, <c>%2e%2e</c>). The
    /// result goes into the <c>Location</c> header, which takes ASCII only: anything else is percent-encoded as
    /// UTF-8 (a path with <c>é</c> used to end in a 500), and a value that is not valid UTF-16 falls back to the UI.
    /// </summary>
    private string SafeReturnUrl(string? value)
    {
        var fallback = UiPath + "/";
        // The pprof index's sign-in hint comes back to the index: that one page outside the UI, exactly.
        if (value == _options.PathPrefix + "/pprof/")
        {
            return value;
        }

        if (string.IsNullOrEmpty(value) || value.Length > MaxReturnUrlLength ||
            !(value == UiPath || value.StartsWith(UiPath + "/", StringComparison.Ordinal) || value.StartsWith(UiPath + "?", StringComparison.Ordinal)) ||
            value.Contains("//", StringComparison.Ordinal) || value.Contains('\\', StringComparison.Ordinal) || value.Any(char.IsControl) ||
            value.StartsWith(UiPath + "/signin", StringComparison.Ordinal) || value.StartsWith(UiPath + "/signout", StringComparison.Ordinal) ||
            HasDotSegment(value))
        {
            return fallback;
        }

        return EscapeForLocation(value) ?? fallback;
    }

    private static bool HasDotSegment(string url)
    {
        var end = url.IndexOfAny(['?', '#']);
        foreach (var segment in (end < 0 ? url : url[..end]).Split('/'))
        {
            // Browsers resolve "%2e" as "." in a path (WHATWG URL), so decode before looking.
            if (Uri.UnescapeDataString(segment) is "." or "..")
            {
                return true;
            }
        }

        return false;
    }

    private static string? EscapeForLocation(string url)
    {
        byte[] bytes;
        try
        {
            bytes = StrictUtf8.GetBytes(url);
        }
        catch (EncoderFallbackException)
        {
            return null; // a lone surrogate: there is no URL for it
        }

        var escaped = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            // Printable ASCII stays (an existing %XX escape too); space, quotes, angle brackets and non-ASCII are escaped.
            if (b is > 0x20 and < 0x7f and not (byte)'"' and not (byte)'<' and not (byte)'>' and not (byte)'`')
            {
                escaped.Append((char)b);
            }
            else
            {
                escaped.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
            }
        }

        return escaped.ToString();
    }

    private static string ReasonTitle(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "Sign-in needed",
        StatusCodes.Status403Forbidden => "Not allowed",
        _ => "Refused",
    };
}
