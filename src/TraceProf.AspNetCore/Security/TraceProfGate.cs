using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace TraceProf.AspNetCore.Security;

/// <summary>
/// Decides whether a request may use a capability. The role header alone is spoofable, so it is honoured only
/// with proof, checked in this order: the host's authenticated user (roles from a claim), a configured API key,
/// a loopback connection.
/// </summary>
internal sealed class TraceProfGate(IOptions<TraceProfOptions> options, RoleMap roles, ApiKeyVerifier apiKeys, UiSessionCookie uiSessions)
{
    private const string ApiKeyHeader = "X-Debug-Key";
    private const int MaxEchoedLength = 64;
    private readonly TraceProfOptions _options = options.Value;

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
        var presentedKey = PresentedApiKey(context.Request);
        if (presentedKey is not null && apiKeys.HasKeys)
        {
            if (!apiKeys.Verify(presentedKey))
            {
                return Unauthorized(context, "The API key is not valid.");
            }

            return DecideHeaderRole(requestedRole, required, "api-key");
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
            return DecideHeaderRole(requestedRole, required, "loopback");
        }

        return Unauthorized(
            context,
            $"The {_options.RoleHeaderName} header is trusted only with proof: a signed-in user with a '{_options.RoleClaimType}' claim, " +
            $"an API key (Authorization: Bearer <key> or {ApiKeyHeader}: <key>){(apiKeys.HasKeys ? "" : " (none is configured)")}, " +
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

    private static string? PresentedApiKey(HttpRequest request)
    {
        var key = request.Headers[ApiKeyHeader].ToString();
        if (key.Length > 0)
        {
            return key;
        }

        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }

    private static GateDecision Unauthorized(HttpContext context, string detail)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"traceprof\"";
        return GateDecision.Deny(StatusCodes.Status401Unauthorized, detail);
    }

    private static string Echo(string value) =>
        value.Length <= MaxEchoedLength ? value : string.Concat(value.AsSpan(0, MaxEchoedLength), "…");

    private GateDecision DecideHeaderRole(string? requestedRole, Capabilities required, string proof)
    {
        if (string.IsNullOrEmpty(requestedRole))
        {
            return GateDecision.Deny(
                StatusCodes.Status403Forbidden,
                $"Send the {_options.RoleHeaderName} header naming your role; {AllowedRoles(required)}.");
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
