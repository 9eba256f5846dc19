using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace TraceProf.AspNetCore.Security;

/// <summary>
/// Decides whether a request may use a capability. The role header alone is spoofable, so it is honoured only
/// with proof, checked in this order: the host's authenticated user (roles from a claim), a configured API key,
/// a loopback connection. An API key bound to a role (<see cref="TraceProfOptions.ApiKeys"/>) and the loopback role
/// (<see cref="TraceProfOptions.LoopbackRole"/>) decide the role when no header names one, which is what tools that send
/// no custom header need (<c>go tool pprof http://trace:KEY@host/debug/pprof/profile</c> sends the key as Basic auth).
/// </summary>
internal sealed class TraceProfGate(IOptions<TraceProfOptions> options, RoleMap roles, ApiKeyVerifier apiKeys, UiSessionCookie uiSessions, IHostEnvironment environment)
{
    private const string ApiKeyHeader = "X-Debug-Key";
    private const int MaxEchoedLength = 64;

    // Both schemes are offered after a wrong key: Basic is what go tool pprof and browsers can answer, Bearer what scripts send.
    private static readonly Microsoft.Extensions.Primitives.StringValues KeyChallenges = new(["Basic realm=\"traceprof\", charset=\"UTF-8\"", "Bearer realm=\"traceprof\""]);

    private readonly TraceProfOptions _options = options.Value;
    private readonly string? _loopbackRole = EffectiveLoopbackRole(options.Value.LoopbackRole, environment);

    /// <summary>The role a trusted loopback request without a role header acts as: the setting, else <c>admin</c> in Development only.</summary>
    internal static string? EffectiveLoopbackRole(string? configured, IHostEnvironment environment) =>
        configured switch
        {
            null => environment.IsDevelopment() ? "admin" : null,
            "" => null,
            _ => configured,
        };

    public async ValueTask<GateDecision> AuthorizeAsync(HttpContext context, Capabilities required)
    {
        var roleHeaders = context.Request.Headers[_options.RoleHeaderName];
        if (roleHeaders.Count > 1)
        {
            return GateDecision.Deny(StatusCodes.Status400BadRequest, $"Send one {_options.RoleHeaderName} header, not {roleHeaders.Count}.");
        }

        var requestedRole = roleHeaders.Count == 1 ? roleHeaders[0] : null;

        // 1. The host's own authentication: the user's role claims decide, the header only picks among them.
        var user = await AuthenticatedUserAsync(context).ConfigureAwait(false);
        var claimedRoles = user?.FindAll(_options.RoleClaimType).Select(c => c.Value).ToArray() ?? [];
        if (claimedRoles.Length > 0)
        {
            if (requestedRole is null)
            {
                return Decide(claimedRoles, required, "user");
            }

            return claimedRoles.Contains(requestedRole, StringComparer.Ordinal)
                ? Decide([requestedRole], required, "user")
                : GateDecision.Deny(
                    StatusCodes.Status403Forbidden,
                    $"Your identity does not carry the role '{Echo(requestedRole)}' (claim '{_options.RoleClaimType}'); it carries: {string.Join(", ", claimedRoles)}.");
        }

        // 2. An API key. A wrong key is refused outright rather than falling back to loopback trust.
        var presentedKey = PresentedApiKey(context.Request, out var malformed);
        if (presentedKey is not null && apiKeys.HasKeys)
        {
            if (malformed is not null)
            {
                return Unauthorized(context, malformed, KeyChallenges);
            }

            if (!apiKeys.Verify(presentedKey, out var boundRole))
            {
                return Unauthorized(context, "The API key is not valid.", KeyChallenges);
            }

            if (boundRole is null)
            {
                return DecideHeaderRole(requestedRole, required, "api-key");
            }

            if (requestedRole is null || requestedRole == boundRole)
            {
                return Decide([boundRole], required, "api-key");
            }

            return roles.Narrows(requestedRole, boundRole)
                ? Decide([requestedRole], required, "api-key")
                : NotNarrower(requestedRole, boundRole);
        }

        // --- Browser UI session (Ui/UiSessionCookie) -------------------------------------------------------------
        // A browser cannot send the role header, so the UI's sign-in form seals the role into a Data Protection
        // cookie after checking the same proof (loopback or an API key). It is read only when the request names no
        // role header (and no configured API key decided above), so the header path is unchanged, and only while the
        // proof given at sign-in still holds. A cookie that does not read (tampered, expired) is ignored.
        if (requestedRole is null && uiSessions.TryRead(context, out var session))
        {
            return Decide([session.Role], required, "cookie:" + session.Proof);
        }
        // --- end of browser UI session ------------------------------------------------------------------------------

        // 3. Loopback, for local development: a direct local connection to a local name, nothing forwarded (LoopbackTrust).
        if (LoopbackTrust.Applies(context, _options.TrustLoopback, out var notLoopback))
        {
            return requestedRole is null && _loopbackRole is not null
                ? Decide([_loopbackRole], required, "loopback")
                : DecideHeaderRole(requestedRole, required, "loopback");
        }

        return Unauthorized(
            context,
            $"The {_options.RoleHeaderName} header is trusted only with proof: a signed-in user with a '{_options.RoleClaimType}' claim, " +
            $"an API key (Authorization: Bearer <key>, {ApiKeyHeader}: <key>, or Basic with the key as password){(apiKeys.HasKeys ? "" : " (none is configured)")}, " +
            $"or a direct loopback connection (loopback trust not applied: {notLoopback}).");
    }

    private static async ValueTask<System.Security.Claims.ClaimsPrincipal?> AuthenticatedUserAsync(HttpContext context)
    {
        if (context.User.Identity?.IsAuthenticated == true)
        {
            return context.User;
        }

        // Placed by the startup filter, TraceProf runs before the host's authentication middleware; ask the
        // default scheme directly so a signed-in user is recognised either way.
        var schemes = context.RequestServices.GetService<IAuthenticationSchemeProvider>();
        if (schemes is null || await schemes.GetDefaultAuthenticateSchemeAsync().ConfigureAwait(false) is null)
        {
            return null;
        }

        var result = await context.AuthenticateAsync().ConfigureAwait(false);
        return result.Succeeded ? result.Principal : null;
    }

    /// <summary>
    /// The key a request presents: <c>X-Debug-Key</c>, <c>Authorization: Bearer</c>, or the password of
    /// <c>Authorization: Basic base64(user:key)</c> (the user is ignored: Go's HTTP client sends a URL's user info this
    /// way, and a user name is required there). Basic credentials that do not decode are a presented key that is wrong,
    /// with <paramref name="malformed"/> saying why.
    /// </summary>
    internal static string? PresentedApiKey(HttpRequest request, out string? malformed)
    {
        malformed = null;
        var key = request.Headers[ApiKeyHeader].ToString();
        if (key.Length > 0)
        {
            return key;
        }

        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var encoded = authorization["Basic ".Length..].Trim();
        Span<byte> decoded = stackalloc byte[Math.Min(encoded.Length, 1024)];
        string credentials;
        try
        {
            credentials = Convert.TryFromBase64String(encoded, decoded, out var written)
                ? new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(decoded[..written])
                : "";
        }
        catch (ArgumentException)
        {
            credentials = "";
        }

        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || colon == credentials.Length - 1)
        {
            malformed = "The Authorization: Basic credentials are not base64 of UTF-8 'user:key' with a key after the colon (the user name is ignored; the key is the password).";
            return "";
        }

        return credentials[(colon + 1)..];
    }

    private static GateDecision Unauthorized(HttpContext context, string detail, Microsoft.Extensions.Primitives.StringValues? challenges = null)
    {
        context.Response.Headers.WWWAuthenticate = challenges ?? "Bearer realm=\"traceprof\"";
        return GateDecision.Deny(StatusCodes.Status401Unauthorized, detail);
    }

    private GateDecision NotNarrower(string requestedRole, string boundRole)
    {
        if (!roles.TryGet(requestedRole, out _))
        {
            return GateDecision.Deny(
                StatusCodes.Status403Forbidden,
                $"The role '{Echo(requestedRole)}' is not known; known roles: {string.Join(", ", roles.Names)}.");
        }

        roles.TryGet(boundRole, out var bound);
        return GateDecision.Deny(
            StatusCodes.Status403Forbidden,
            $"The API key proves the role '{Echo(boundRole)}' ({CapabilityNames.Describe(bound)}); the {_options.RoleHeaderName} header may only narrow it " +
            $"to a role with no capability beyond those, and '{Echo(requestedRole)}' has more. Send no {_options.RoleHeaderName} header to act as '{Echo(boundRole)}'.");
    }

    private static string Echo(string value) =>
        value.Length <= MaxEchoedLength ? value : string.Concat(value.AsSpan(0, MaxEchoedLength), "…");

    private GateDecision DecideHeaderRole(string? requestedRole, Capabilities required, string proof)
    {
        if (string.IsNullOrEmpty(requestedRole))
        {
            return GateDecision.Deny(
                StatusCodes.Status403Forbidden,
                $"Send the {_options.RoleHeaderName} header naming your role; {AllowedRoles(required)}." +
                (proof == "loopback" ? " (TraceProf:LoopbackRole names the role a loopback request without the header acts as; it is admin only in Development.)" : ""));
        }

        return Decide([requestedRole], required, proof);
    }

    private GateDecision Decide(string[] candidateRoles, Capabilities required, string proof)
    {
        foreach (var role in candidateRoles)
        {
            if (roles.TryGet(role, out var capabilities) && (capabilities & required) == required)
            {
                return GateDecision.Allow(role, proof);
            }
        }

        if (candidateRoles.Length == 1 && !roles.TryGet(candidateRoles[0], out _))
        {
            return GateDecision.Deny(
                StatusCodes.Status403Forbidden,
                $"The role '{Echo(candidateRoles[0])}' is not known; known roles: {string.Join(", ", roles.Names)}.");
        }

        return GateDecision.Deny(
            StatusCodes.Status403Forbidden,
            $"The role '{Echo(string.Join(", ", candidateRoles))}' lacks the '{CapabilityNames.Describe(required)}' capability; {AllowedRoles(required)}.");
    }

    private string AllowedRoles(Capabilities required)
    {
        var allowed = roles.RolesWith(required).ToArray();
        return allowed.Length == 0
            ? "no configured role has that capability"
            : $"roles that may: {string.Join(", ", allowed)}";
    }
}
