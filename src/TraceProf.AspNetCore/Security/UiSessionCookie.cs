using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace TraceProf.AspNetCore.Security;

/// <summary>
/// Issues and reads the browser UI's session cookie. A browser cannot send the role header, so the sign-in form
/// puts the role into a cookie; a bare role in a cookie would be as spoofable as the header, so the cookie is sealed
/// with ASP.NET Core Data Protection (authenticated encryption, time-limited) and is honoured only while the proof
/// given at sign-in still holds: loopback trust still applies to the request (<see cref="LoopbackTrust"/>: a direct
/// loopback connection, nothing forwarded, a local Host), or the API key is still configured.
/// </summary>
internal sealed class UiSessionCookie
{
    /// <summary>How long a sign-in lasts. Eight hours: a working day, after which the proof is asked for again.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    public const string CookieName = "traceprof_ui";

    // A version in the purpose string: a change of the payload layout makes old cookies unreadable instead of misread.
    private const string Purpose = "TraceProf.Ui.Session.v1";
    private const char Separator = '\n';

    private readonly ITimeLimitedDataProtector _protector;
    private readonly TraceProfOptions _options;
    private readonly RoleMap _roles;
    private readonly ApiKeyVerifier _apiKeys;
    private readonly TimeProvider _time;

    public UiSessionCookie(IDataProtectionProvider dataProtection, IOptions<TraceProfOptions> options, RoleMap roles, ApiKeyVerifier apiKeys, TimeProvider time)
    {
        _protector = dataProtection.CreateProtector(Purpose).ToTimeLimitedDataProtector();
        _options = options.Value;
        _roles = roles;
        _apiKeys = apiKeys;
        _time = time;
    }

    /// <summary>Sets the cookie. The caller has checked the proof and that the role exists.</summary>
    public void Issue(HttpContext context, UiSession session)
    {
        var payload = string.Join(Separator, session.Role, session.Proof, session.KeyHash ?? "");
        var sealedValue = _protector.Protect(payload, _time.GetUtcNow().Add(Lifetime));
        context.Response.Cookies.Append(CookieName, sealedValue, CookieOptions(context, Lifetime));
    }

    public void Clear(HttpContext context) =>
        context.Response.Cookies.Delete(CookieName, CookieOptions(context, maxAge: null));

    public static bool HasCookie(HttpContext context) => context.Request.Cookies.ContainsKey(CookieName);

    /// <summary>
    /// Reads a valid session whose proof still holds. A tampered, expired or foreign cookie, a role that is no
    /// longer configured, a key that was removed, or a loopback session used from elsewhere all read as none.
    /// </summary>
    public bool TryRead(HttpContext context, out UiSession session)
    {
        session = null!;
        if (!context.Request.Cookies.TryGetValue(CookieName, out var sealedValue) || string.IsNullOrEmpty(sealedValue))
        {
            return false;
        }

        string payload;
        try
        {
            payload = _protector.Unprotect(sealedValue, out _);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // Tampered, expired, or sealed with a key ring this app no longer has.
            return false;
        }

        var parts = payload.Split(Separator);
        if (parts.Length != 3 || !_roles.TryGet(parts[0], out _))
        {
            return false;
        }

        var candidate = new UiSession(parts[0], parts[1], parts[2].Length == 0 ? null : parts[2]);
        if (!ProofStillHolds(context, candidate))
        {
            return false;
        }

        session = candidate;
        return true;
    }

    private bool ProofStillHolds(HttpContext context, UiSession session) => session.Proof switch
    {
        UiSession.LoopbackProof => LoopbackTrust.Applies(context, _options.TrustLoopback, out _),
        UiSession.ApiKeyProof => session.KeyHash is { Length: 64 } hash && hash.All(Uri.IsHexDigit) &&
            _apiKeys.IsConfiguredHash(Convert.FromHexString(hash), out var boundRole) &&
            (boundRole is null || _roles.Narrows(session.Role, boundRole)), // a key re-bound to a narrower role narrows its sessions
        _ => false,
    };

    private CookieOptions CookieOptions(HttpContext context, TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        Secure = context.Request.IsHttps,
        SameSite = SameSiteMode.Strict,
        Path = _options.PathPrefix,
        MaxAge = maxAge,
        IsEssential = true,
    };
}
