using Microsoft.Extensions.Logging;

namespace TraceProf.AspNetCore;

/// <summary>The browser UI's log events (ids 120–129). Never logs an API key or a cookie.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 120, EventName = "UiSignedIn", Level = LogLevel.Information, Message = "TraceProf UI sign-in as role {Role} proven by {Proof}")]
    public static partial void UiSignedIn(ILogger logger, string role, string proof);

    [LoggerMessage(EventId = 121, EventName = "UiSignInRefused", Level = LogLevel.Information, Message = "TraceProf UI sign-in refused with {StatusCode}")]
    public static partial void UiSignInRefused(ILogger logger, int statusCode);

    [LoggerMessage(EventId = 122, EventName = "UiSignedOut", Level = LogLevel.Information, Message = "TraceProf UI sign-out")]
    public static partial void UiSignedOut(ILogger logger);
}
