using System.Diagnostics.Metrics;
using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.Capture;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using TraceProf.Recording;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Triggers;

/// <summary>
/// Runs the flight recorder for the life of the host and saves the slices that <see cref="RequestTriggers"/>
/// queues: waits until the recorder has read past the request's end, cuts its span, and stores the CPU (and
/// contention) profile under the request's trace id. Never blocks the host's start: the session starts in the
/// background, and a process where EventPipe is unavailable runs on without it (logged).
/// </summary>
internal sealed partial class FlightRecorderService : BackgroundService
{
    // How long a cut waits for the session to deliver the events up to the request's end (EventPipe flushes
    // its buffers about every 100 ms); past this it cuts with what it has.
    private static readonly TimeSpan MaxWaitForEvents = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan DropReportInterval = TimeSpan.FromMinutes(1);
    private static readonly Histogram<double> SaveDelay = RequestTriggers.Meter.CreateHistogram<double>(
        "traceprof.flight_recorder.snapshot.delay", unit: "ms", description: "Time from a triggering request's end until its snapshot is stored.");

    private readonly TraceProfOptions _options;
    private readonly TimeProvider _time;
    private readonly RequestTriggers _triggers;
    private readonly CaptureCoordinator _coordinator;
    private readonly ILogger _logger;
    private readonly ILogger<FlightRecorder> _recorderLogger;
    private readonly TaskCompletionSource<FlightRecorder?> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _saved;

    public FlightRecorderService(IOptions<TraceProfOptions> options, RequestTriggers triggers, CaptureCoordinator coordinator, TimeProvider time, ILoggerFactory loggers)
    {
        _time = time;
        _options = options.Value;
        _triggers = triggers;
        _coordinator = coordinator;
        _logger = loggers.CreateLogger<FlightRecorderService>();
        _recorderLogger = loggers.CreateLogger<FlightRecorder>();
    }

    /// <summary>Gets the recorder once it runs (null when it is off or could not start).</summary>
    public Task<FlightRecorder?> Started => _started.Task;

    /// <summary>Gets how many snapshots were stored.</summary>
    public long Saved => Interlocked.Read(ref _saved);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = _options.FlightRecorder;
        if (!settings.Enabled)
        {
            _started.TrySetResult(null);
            return;
        }

        _ = FlightRecorderKinds.TryParse(settings.Kinds, out var cpu, out var contention, out var allocations, out _); // validated at start
        var recorderOptions = new FlightRecorderOptions
        {
            Cpu = cpu,
            Contention = contention,
            Allocations = allocations,
            Window = TimeSpan.FromSeconds(settings.WindowSeconds),
            MaxSamples = settings.MaxSamples,
        };
        if (cpu && recorderOptions.SamplingInterval == ParseOptions.DefaultSamplingInterval)
        {
            LogDefaultSamplingRate(_logger);
        }

        var recorder = new FlightRecorder(recorderOptions, _recorderLogger, _time);
        await using (recorder.ConfigureAwait(false))
        {
            try
            {
                await recorder.StartAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (CaptureUnavailableException ex)
            {
                LogUnavailable(_logger, ex);
                _started.TrySetResult(null);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                _started.TrySetResult(null);
                return;
            }

            _triggers.IsActive = true;
            _started.TrySetResult(recorder);
            try
            {
                await Task.WhenAll(SaveLoopAsync(recorder, stoppingToken), ReportDropsAsync(stoppingToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // The host is stopping.
            }
            finally
            {
                _triggers.IsActive = false;
            }
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _started.TrySetResult(null);
        return base.StopAsync(cancellationToken);
    }

    private async Task SaveLoopAsync(FlightRecorder recorder, CancellationToken stoppingToken)
    {
        var margin = Stopwatch.Frequency * _options.FlightRecorder.MarginMilliseconds / 1000;
        await foreach (var request in _triggers.Queue.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await SaveAsync(recorder, request, margin, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // One bad slice must not stop the recorder from saving the next.
                LogSaveFailed(_logger, ex, request.TraceId.ToHexString(), request.SnapshotId);
            }
        }
    }

    private async Task SaveAsync(FlightRecorder recorder, TriggeredRequest request, long margin, CancellationToken stoppingToken)
    {
        var to = request.EndTimestamp + margin;
        var waited = Stopwatch.StartNew();
        while (recorder.LatestTimestamp < to && waited.Elapsed < MaxWaitForEvents && recorder.IsRunning)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), stoppingToken).ConfigureAwait(false);
        }

        var slice = await Task.Run(() => recorder.CutAsync(request.StartTimestamp - margin, to, request.TraceId, stoppingToken), stoppingToken).ConfigureAwait(false);
        var traceId = request.TraceId.ToHexString();
        string? savedId = null;
        if (slice.Cpu is { } cpu)
        {
            savedId = (await StoreAsync(request, request.SnapshotId, CaptureKind.Cpu, cpu, stoppingToken).ConfigureAwait(false))?.Id;
        }

        foreach (var (kind, profile) in new[] { (CaptureKind.Contention, slice.Contention), (CaptureKind.Allocations, slice.Allocations) })
        {
            if (profile is not null)
            {
                var stored = await StoreAsync(request, SnapshotIds.NewId(_time), kind, profile, stoppingToken).ConfigureAwait(false);
                savedId ??= stored?.Id;
            }
        }

        var delay = Stopwatch.GetElapsedTime(request.EndTimestamp);
        if (savedId is not null)
        {
            Interlocked.Increment(ref _saved);
            SaveDelay.Record(delay.TotalMilliseconds);
            LogSaved(_logger, request.Method, request.Route, request.Trigger, traceId, request.SnapshotId, slice.TraceSamples, (long)delay.TotalMilliseconds);
        }
    }

    private Task<SnapshotInfo?> StoreAsync(TriggeredRequest request, string id, CaptureKind kind, Profile profile, CancellationToken cancellationToken) =>
        _coordinator.StoreProfileAsync(
            new SnapshotInfo
            {
                Id = id,
                TraceId = request.TraceId.ToHexString(),
                SpanId = request.SpanId.ToHexString(),
                Kind = CaptureKinds.Name(kind),
                Trigger = request.Trigger,
                ServiceName = _coordinator.Options.ServiceName,
                ServiceInstanceId = _coordinator.Options.ServiceInstanceId,
                HostName = _coordinator.Options.HostName,
                StartedAt = profile.StartTime,
                Duration = profile.Duration,
            },
            profile,
            cancellationToken);

    private async Task ReportDropsAsync(CancellationToken stoppingToken)
    {
        var previous = (0L, 0L, 0L);
        using var timer = new PeriodicTimer(DropReportInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var (rateLimited, duplicates, queueFull) = _triggers.TakeDropped(ref previous);
            if (rateLimited + duplicates + queueFull > 0)
            {
                LogDropped(_logger, rateLimited + duplicates + queueFull, rateLimited, _options.FlightRecorder.MaxSnapshotsPerMinute, duplicates, queueFull);
            }
        }
    }

    [LoggerMessage(EventId = 120, EventName = "FlightRecorderSnapshotSaved", Level = LogLevel.Warning,
        Message = "{Method} {Route} ended with {Trigger}; trace {TraceId} has flight-recorder snapshot {SnapshotId} ({TraceSamples} CPU samples of the trace, stored {DelayMs} ms after the response)")]
    private static partial void LogSaved(ILogger logger, string method, string route, string trigger, string traceId, string snapshotId, long traceSamples, long delayMs);

    [LoggerMessage(EventId = 121, EventName = "FlightRecorderSnapshotsDropped", Level = LogLevel.Warning,
        Message = "The flight recorder did not save {Count} triggered snapshots in the last minute: {RateLimited} over the limit of {PerMinute} per minute, {Duplicates} for a trace already saved, {QueueFull} because the queue was full")]
    private static partial void LogDropped(ILogger logger, long count, long rateLimited, int perMinute, long duplicates, long queueFull);

    [LoggerMessage(EventId = 122, EventName = "FlightRecorderUnavailable", Level = LogLevel.Warning,
        Message = "The flight recorder could not start; failed requests will not be profiled automatically")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 123, EventName = "FlightRecorderDefaultSamplingRate", Level = LogLevel.Warning,
        Message = "The flight recorder samples at the runtime's default 1 ms, which costs 10-20 % of throughput on a busy machine. Start the process with DOTNET_EventPipeThreadSamplingRate=A (10 ms; the value is hexadecimal milliseconds) to bring it to a few percent, or set TraceProf:FlightRecorder:Enabled=false")]
    private static partial void LogDefaultSamplingRate(ILogger logger);

    [LoggerMessage(EventId = 124, EventName = "FlightRecorderSaveFailed", Level = LogLevel.Error,
        Message = "Saving the flight-recorder snapshot {SnapshotId} of trace {TraceId} failed")]
    private static partial void LogSaveFailed(ILogger logger, Exception exception, string traceId, string snapshotId);
}
