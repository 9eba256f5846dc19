using Microsoft.Extensions.Logging;

namespace TraceProf.AspNetCore;

/// <summary>Every log message of the ASP.NET Core package, with stable ids. Never log keys or other proofs.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 100, EventName = "AccessDenied", Level = LogLevel.Information, Message = "TraceProf refused {Path} with {StatusCode}")]
    public static partial void AccessDenied(ILogger logger, string path, int statusCode);

    [LoggerMessage(EventId = 101, EventName = "CaptureCancelled", Level = LogLevel.Information, Message = "Capture for trace {TraceId} cancelled; nothing was stored")]
    public static partial void CaptureCancelled(ILogger logger, System.Diagnostics.ActivityTraceId traceId);

    [LoggerMessage(EventId = 102, EventName = "CaptureUnavailable", Level = LogLevel.Warning, Message = "EventPipe capture is unavailable in this process")]
    public static partial void CaptureUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 103, EventName = "EndpointsMapped", Level = LogLevel.Debug, Message = "TraceProf endpoints placed under {Prefix} by {Placement}")]
    public static partial void EndpointsMapped(ILogger logger, string prefix, string placement);
}
