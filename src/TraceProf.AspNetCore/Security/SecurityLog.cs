using Microsoft.Extensions.Logging;

namespace TraceProf.AspNetCore;

/// <summary>The role gate's log events (ids 130–139). Never logs an API key or another proof.</summary>
internal static partial class Log
{
    [LoggerMessage(
        EventId = 130,
        EventName = "LoopbackTrustedWithoutApiKey",
        Level = LogLevel.Warning,
        Message = "TraceProf trusts the role header of direct loopback requests and no API key is configured, in environment {EnvironmentName}. " +
            "Requests through a proxy (forwarding headers) or naming another Host are refused, but any process on this machine can profile the app " +
            "and read its snapshots. To turn this off set TraceProf:TrustLoopback=false (environment TraceProf__TrustLoopback=false); to prove roles " +
            "with a key add its SHA-256 to TraceProf:ApiKeyHashes (printf %s \"$KEY\" | sha256sum) and send it as Authorization: Bearer <key>, " +
            "or give the host's users a '{RoleClaimType}' claim.")]
    public static partial void LoopbackTrustedWithoutApiKey(ILogger logger, string environmentName, string roleClaimType);
}
