using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace TraceProf.AspNetCore.Security;

/// <summary>
/// Whether a request may use a loopback connection as its proof (<see cref="TraceProfOptions.TrustLoopback"/>).
/// A loopback peer alone says little: a reverse proxy or sidecar on the same machine makes every outside client a
/// loopback connection, and a browser that DNS rebinding pointed at 127.0.0.1 connects from loopback too. So the
/// connection must be loopback, the request must carry no header that a proxy adds (or that ASP.NET Core's
/// forwarded-headers middleware leaves once it has applied one), and its <c>Host</c> (and <c>Origin</c>, when sent)
/// must name this machine: <c>localhost</c>, an address in 127.0.0.0/8, or <c>[::1]</c>, with any port.
/// The gate, the UI's sign-in and the UI's loopback sessions all ask here, so they cannot disagree.
/// </summary>
internal static class LoopbackTrust
{
    /// <summary>
    /// Headers a proxy adds to say whom it forwards for, and the <c>X-Original-*</c> headers that
    /// <c>UseForwardedHeaders()</c> writes when it has applied one. Any of them means the request came through a proxy,
    /// whatever the connection's address.
    /// </summary>
    public static readonly string[] ForwardingHeaders =
    [
        "Forwarded",
        "X-Forwarded-For",
        "X-Forwarded-Host",
        "X-Forwarded-Proto",
        "X-Forwarded-Prefix",
        "X-Forwarded-Port",
        "X-Forwarded-Server",
        "X-Original-For",
        "X-Original-Host",
        "X-Original-Proto",
        "X-Original-Prefix",
        "X-Real-IP",
        "X-Client-IP",
        "X-Cluster-Client-IP",
        "True-Client-IP",
        "CF-Connecting-IP",
        "Fastly-Client-IP",
        "X-Envoy-External-Address",
        "Via",
    ];

    /// <summary>Whether loopback trust applies to this request; if not, <paramref name="reason"/> says why, for a problem detail.</summary>
    public static bool Applies(HttpContext context, bool enabled, out string reason)
    {
        if (!enabled)
        {
            reason = "TrustLoopback is off";
            return false;
        }

        var remote = context.Connection.RemoteIpAddress;
        if (remote is null || !IsLoopback(remote))
        {
            reason = remote is null ? "the connection has no remote address" : $"the connection is from {remote}, not loopback";
            return false;
        }

        var headers = context.Request.Headers;
        foreach (var name in ForwardingHeaders)
        {
            if (headers.ContainsKey(name))
            {
                reason = $"the request carries {name}, so it came through a proxy and its client may be anywhere";
                return false;
            }
        }

        var host = context.Request.Host;
        if (!host.HasValue || !IsLoopbackName(host.Host))
        {
            reason = host.HasValue
                ? $"its Host '{Echo(host.Host)}' is not localhost, 127.x.x.x or [::1] (a browser sent here by DNS rebinding names another host)"
                : "it has no Host header";
            return false;
        }

        var origins = headers.Origin;
        if (origins.Count > 1 || (origins.Count == 1 && !IsLoopbackOrigin(origins[0])))
        {
            reason = $"its Origin '{Echo(origins.ToString())}' is not a page on localhost, 127.x.x.x or [::1]";
            return false;
        }

        reason = "";
        return true;
    }

    /// <summary>The host of a Host header or URL authority, without the port: <c>localhost</c>, IPv4 in 127.0.0.0/8 in dotted decimal, or <c>[::1]</c>.</summary>
    internal static bool IsLoopbackName(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (host.Length > 2 && host[0] == '[' && host[^1] == ']')
        {
            return IPAddress.TryParse(host.AsSpan(1, host.Length - 2), out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 && IsLoopback(v6);
        }

        // Dotted decimal only: IPAddress.TryParse also takes "127.1", "0x7f.0.0.1" and "2130706433", which no browser
        // sends as a Host but which would widen what "loopback name" means for no gain.
        var parts = host.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit)) &&
            IPAddress.TryParse(host, out var v4) && IsLoopback(v4);
    }

    private static bool IsLoopbackOrigin(string? origin)
    {
        // "null" is what a browser sends when it will not say: our own UI pages carry Referrer-Policy no-referrer, so
        // Chrome posts their sign-in form with "Origin: null". It says nothing either way, so it is let through to the
        // Host check, which is what stops a rebound page (its Host is the attacker's name).
        if (origin == "null")
        {
            return true;
        }

        if (origin is null || !Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return false;
        }

        return IsLoopbackName(uri.HostNameType == UriHostNameType.IPv6 ? $"[{uri.IdnHost.Trim('[', ']')}]" : uri.IdnHost);
    }

    private static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    private static string Echo(string value) => Endpoints.QueryParser.Echo(value);
}
