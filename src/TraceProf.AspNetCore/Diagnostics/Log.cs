using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace TraceProf.AspNetCore.Diagnostics;

/// <summary>
/// Every log message of the ASP.NET Core package, with stable ids and names. Never log keys, cookies or other proofs.
/// Event ids, one range per area (a new message takes the next id of its area's range):
/// <list type="bullet">
/// <item>100–119: the endpoints and their placement (Endpoints/, Builder/)</item>
/// <item>120–139: the flight recorder (Triggers/)</item>
/// <item>140–159: the browser UI (Ui/); until issue 12 these were 120–122, colliding with the flight recorder's</item>
/// <item>160–179: the role gate and its proofs (Security/)</item>
/// <item>180–184: the CPU sampler chosen at start (Builder/)</item>
/// <item>185–189: the Pyroscope push (Pyroscope/)</item>
/// </list>
/// </summary>
internal static partial class Log
{
    // 100–119: endpoints and placement.
    [LoggerMessage(EventId = 100, EventName = "AccessDenied", Level = LogLevel.Information, Message = "TraceProf refused {Path} with {StatusCode}")]
    public static partial void AccessDenied(ILogger logger, string path, int statusCode);

    [LoggerMessage(EventId = 101, EventName = "CaptureCancelled", Level = LogLevel.Information, Message = "Capture for trace {TraceId} cancelled; nothing was stored")]
    public static partial void CaptureCancelled(ILogger logger, ActivityTraceId traceId);

    [LoggerMessage(EventId = 102, EventName = "CaptureUnavailable", Level = LogLevel.Warning, Message = "EventPipe capture is unavailable in this process")]
    public static partial void CaptureUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 103, EventName = "EndpointsMapped", Level = LogLevel.Debug, Message = "TraceProf endpoints placed under {Prefix} by {Placement}")]
    public static partial void EndpointsMapped(ILogger logger, string prefix, string placement);

    // 120–139: the flight recorder.
    [LoggerMessage(EventId = 120, EventName = "FlightRecorderSnapshotSaved", Level = LogLevel.Warning,
        Message = "{Method} {Route} ended with {Trigger}; trace {TraceId} has flight-recorder snapshot {SnapshotId} ({TraceSamples} CPU samples of the trace, stored {DelayMs} ms after the response)")]
    public static partial void FlightRecorderSnapshotSaved(ILogger logger, string method, string route, string trigger, string traceId, string snapshotId, long traceSamples, long delayMs);

    [LoggerMessage(EventId = 121, EventName = "FlightRecorderSnapshotsDropped", Level = LogLevel.Warning,
        Message = "The flight recorder did not save {Count} triggered snapshots in the last minute: {RateLimited} over the limit of {PerMinute} per minute, {Duplicates} for a trace already saved, {QueueFull} because the queue was full")]
    public static partial void FlightRecorderSnapshotsDropped(ILogger logger, long count, long rateLimited, int perMinute, long duplicates, long queueFull);

    [LoggerMessage(EventId = 122, EventName = "FlightRecorderUnavailable", Level = LogLevel.Warning,
        Message = "The flight recorder could not start; failed requests will not be profiled automatically")]
    public static partial void FlightRecorderUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 123, EventName = "FlightRecorderDefaultSamplingRate", Level = LogLevel.Warning,
        Message = "The flight recorder samples at the runtime's default 1 ms, which costs 10-20 % of throughput on a busy machine. Start the process with DOTNET_EventPipeThreadSamplingRate=A (10 ms; the value is hexadecimal milliseconds) to bring it to a few percent, or set TraceProf:FlightRecorder:Enabled=false")]
    public static partial void FlightRecorderDefaultSamplingRate(ILogger logger);

    [LoggerMessage(EventId = 124, EventName = "FlightRecorderSaveFailed", Level = LogLevel.Error,
        Message = "Saving the flight-recorder snapshot {SnapshotId} of trace {TraceId} failed")]
    public static partial void FlightRecorderSaveFailed(ILogger logger, Exception exception, string traceId, string snapshotId);

    [LoggerMessage(EventId = 125, EventName = "HeapGrowthSnapshotSaved", Level = LogLevel.Warning,
        Message = "The GC heap grew {GrowthPercent}% (from {BaselineBytes} to {HeapBytes} bytes after a full GC); heap snapshot {SnapshotId} saved with trigger {Trigger} (pause {PauseMs} ms)")]
    public static partial void HeapGrowthSnapshotSaved(ILogger logger, long growthPercent, long baselineBytes, long heapBytes, string snapshotId, string trigger, long pauseMs);

    [LoggerMessage(EventId = 126, EventName = "HeapGrowthSnapshotFailed", Level = LogLevel.Warning,
        Message = "The GC heap grew {GrowthPercent}%, but the heap snapshot could not be taken; the next try follows the minimum interval")]
    public static partial void HeapGrowthSnapshotFailed(ILogger logger, Exception exception, long growthPercent);

    [LoggerMessage(EventId = 127, EventName = "StarvationSnapshotSaved", Level = LogLevel.Warning,
        Message = "The thread pool added workers because its workers were blocked ({Reason}, {Workers} workers); block snapshot {BlockSnapshotId} and threads snapshot {ThreadsSnapshotId} saved with trigger {Trigger}")]
    public static partial void StarvationSnapshotSaved(ILogger logger, string reason, int workers, string? blockSnapshotId, string? threadsSnapshotId, string trigger);

    [LoggerMessage(EventId = 128, EventName = "StarvationSnapshotFailed", Level = LogLevel.Warning,
        Message = "The thread pool starved, but its {Kind} snapshot could not be taken; the next try follows the minimum interval")]
    public static partial void StarvationSnapshotFailed(ILogger logger, Exception exception, string kind);

    [LoggerMessage(EventId = 129, EventName = "RuntimeTriggerFired", Level = LogLevel.Warning,
        Message = "Runtime trigger {Trigger} over the last {WindowSeconds} s: the flight recorder's window was saved as process-wide snapshots ({Snapshots}); this trigger waits {CooldownMinutes} min before the next")]
    public static partial void RuntimeTriggerFired(ILogger logger, string trigger, int windowSeconds, string snapshots, int cooldownMinutes);

    [LoggerMessage(EventId = 130, EventName = "RuntimeTriggerFailed", Level = LogLevel.Warning,
        Message = "Runtime trigger {Trigger} failed; the host carries on")]
    public static partial void RuntimeTriggerFailed(ILogger logger, Exception exception, string trigger);

    [LoggerMessage(EventId = 131, EventName = "RuntimeTriggersListening", Level = LogLevel.Information,
        Message = "Runtime triggers read the System.Runtime meter ({Instruments}): CpuPercent {CpuPercent}, GcPausePercent {GcPausePercent}, ThreadPoolQueueLength {QueueLength} (0 = off), over {WindowSeconds} s")]
    public static partial void RuntimeTriggersListening(ILogger logger, string instruments, int cpuPercent, int gcPausePercent, int queueLength, int windowSeconds);

    // 140–159: the browser UI.
    [LoggerMessage(EventId = 140, EventName = "UiSignedIn", Level = LogLevel.Information, Message = "TraceProf UI sign-in as role {Role} proven by {Proof}")]
    public static partial void UiSignedIn(ILogger logger, string role, string proof);

    [LoggerMessage(EventId = 141, EventName = "UiSignInRefused", Level = LogLevel.Information, Message = "TraceProf UI sign-in refused with {StatusCode}")]
    public static partial void UiSignInRefused(ILogger logger, int statusCode);

    [LoggerMessage(EventId = 142, EventName = "UiSignedOut", Level = LogLevel.Information, Message = "TraceProf UI sign-out")]
    public static partial void UiSignedOut(ILogger logger);

    // 160–179: the role gate and its proofs.
    [LoggerMessage(
        EventId = 160,
        EventName = "LoopbackTrustedWithoutApiKey",
        Level = LogLevel.Warning,
        Message = "TraceProf trusts the role header of direct loopback requests and no API key is configured, in environment {EnvironmentName}. " +
            "Requests through a proxy (forwarding headers) or naming another Host are refused, but any process on this machine can profile the app " +
            "and read its snapshots. To turn this off set TraceProf:TrustLoopback=false (environment TraceProf__TrustLoopback=false); to prove roles " +
            "with a key add its SHA-256 to TraceProf:ApiKeyHashes (printf %s \"$KEY\" | sha256sum) and send it as Authorization: Bearer <key>, " +
            "or give the host's users a '{RoleClaimType}' claim.")]
    public static partial void LoopbackTrustedWithoutApiKey(ILogger logger, string environmentName, string roleClaimType);

    // 180–184: the CPU sampler chosen at start.
    [LoggerMessage(EventId = 180, EventName = "CpuSamplerChosen", Level = LogLevel.Information,
        Message = "TraceProf CPU sampler: {Active}. {Reason}")]
    public static partial void CpuSamplerChosen(ILogger logger, string active, string reason);

    // 185–189: the Pyroscope push.
    [LoggerMessage(EventId = 185, EventName = "PyroscopePushStarted", Level = LogLevel.Information,
        Message = "Pushing the flight recorder's profiles to Pyroscope at {Target} every {IntervalSeconds} s as service_name={ServiceName}")]
    public static partial void PyroscopePushStarted(ILogger logger, string target, string serviceName, int intervalSeconds);

    [LoggerMessage(EventId = 186, EventName = "PyroscopeRecorderOff", Level = LogLevel.Warning,
        Message = "TraceProf:Pyroscope:Url is set, but the flight recorder is not running (EventPipe unavailable or the recorder failed to start); nothing is pushed to Pyroscope")]
    public static partial void PyroscopeRecorderOff(ILogger logger);

    [LoggerMessage(EventId = 187, EventName = "PyroscopeUploadsDropped", Level = LogLevel.Warning,
        Message = "{Count} uploads to Pyroscope at {Target} were dropped in the last minute: {QueueFull} because the queue was full, {Failed} after retries, {Rejected} refused by the server; last error: {LastError}")]
    public static partial void PyroscopeUploadsDropped(ILogger logger, long count, long queueFull, long failed, long rejected, string target, string lastError);

    [LoggerMessage(EventId = 188, EventName = "PyroscopeUploaded", Level = LogLevel.Debug,
        Message = "Pushed {Series} profiles ({Samples} samples, {DurationMs} ms of the recorder) to Pyroscope")]
    public static partial void PyroscopeUploaded(ILogger logger, int series, int samples, long durationMs);

    [LoggerMessage(EventId = 189, EventName = "PyroscopeCollectFailed", Level = LogLevel.Error,
        Message = "Cutting the flight recorder for Pyroscope failed; the next interval tries again")]
    public static partial void PyroscopeCollectFailed(ILogger logger, Exception exception);
}
