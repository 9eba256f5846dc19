using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;
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
internal sealed class FlightRecorderService : BackgroundService
{
    // How long a cut waits for the session to deliver the events up to the request's end (EventPipe flushes
    // its buffers about every 100 ms); past this it cuts with what it has.
    private static readonly TimeSpan MaxWaitForEvents = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan DropReportInterval = TimeSpan.FromMinutes(1);

    private readonly TraceProfOptions _options;
    private readonly TimeProvider _time;
    private readonly TraceProfAspNetCoreMetrics _metrics;
    private readonly RequestTriggers _triggers;
    private readonly CaptureCoordinator _coordinator;
    private readonly ILogger _logger;
    private readonly ILogger<FlightRecorder> _recorderLogger;
    private readonly TaskCompletionSource<FlightRecorder?> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CpuSamplerChoice _cpuSampler;
    private readonly PerfSamplerSettings _perfSettings;
    private long _saved;

    public FlightRecorderService(IOptions<TraceProfOptions> options, RequestTriggers triggers, CaptureCoordinator coordinator, TimeProvider time, TraceProfAspNetCoreMetrics metrics, ILoggerFactory loggers)
    {
        _cpuSampler = coordinator.Options.CpuSampler;
        _perfSettings = coordinator.Options.PerfSampler;
        _time = time;
        _metrics = metrics;
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

        _ = settings.TryGetKinds(out var kinds, out _); // validated at start
        var cpu = kinds.HasFlag(CaptureKindSet.Cpu);
        var recorderOptions = new FlightRecorderOptions
        {
            Cpu = cpu,
            Contention = kinds.HasFlag(CaptureKindSet.Contention),
            Waits = kinds.HasFlag(CaptureKindSet.Block),
            Allocations = kinds.HasFlag(CaptureKindSet.Allocations),
            Exceptions = kinds.HasFlag(CaptureKindSet.Exceptions),
            ExceptionStormPerSecond = settings.ExceptionStormPerSecond,
            ExceptionStormCooldown = TimeSpan.FromSeconds(settings.ExceptionStormCooldownSeconds),
            ThreadPoolEvents = settings.OnThreadPoolStarvation,
            Window = TimeSpan.FromSeconds(settings.WindowSeconds),
            MaxSamples = settings.MaxSamples,

            // The same CPU sampler as on-demand captures: with perf the recorder's session suspends nothing.
            PerfSampler = cpu && _cpuSampler.UsePerf ? _perfSettings : null,

            // Without perf, EventPipe's sampler only after a trigger where that is the setting (or auto fell back).
            CpuArmedFor = cpu && !_cpuSampler.UsePerf && ArmsEventPipeCpu(_options) ? TimeSpan.FromMinutes(settings.EventPipeCpuArmedMinutes) : null,
        };
        if (cpu && !_cpuSampler.UsePerf && recorderOptions.CpuArmedFor is null && recorderOptions.SamplingInterval == ParseOptions.DefaultSamplingInterval)
        {
            Log.FlightRecorderDefaultSamplingRate(_logger);
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
                Log.FlightRecorderUnavailable(_logger, ex);
                _started.TrySetResult(null);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                _started.TrySetResult(null);
                return;
            }

            if (recorder.Exceptions is { } exceptions)
            {
                _metrics.ObserveExceptionStorm(() => (exceptions.Pauses, exceptions.State == ExceptionRecordingState.PausedStorm));
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

    /// <summary>
    /// Whether EventPipe's CPU sampler runs only after a trigger (<see cref="TraceProfFlightRecorderOptions.EventPipeCpu"/>):
    /// <c>armed</c>, or <c>auto</c> where <c>TraceProf:Cpu:Sampler = auto</c> fell back from perf and nothing pushes
    /// continuous profiles (Pyroscope).
    /// </summary>
    internal static bool ArmsEventPipeCpu(TraceProfOptions options)
    {
        _ = options.FlightRecorder.TryGetEventPipeCpu(out var armed); // validated at start
        if (armed is { } set)
        {
            return set;
        }

        return CpuSamplerChoice.TryParse(options.Cpu.Sampler, out var mode) && mode == CpuSamplerMode.Auto && string.IsNullOrEmpty(options.Pyroscope.Url);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _started.TrySetResult(null);
        return base.StopAsync(cancellationToken);
    }

    private async Task SaveLoopAsync(FlightRecorder recorder, CancellationToken stoppingToken)
    {
        // Request timestamps stay on the Stopwatch clock, not TimeProvider's: they are compared with the events'
        // timestamps, which the runtime takes from the same clock and no fake TimeProvider can move.
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
                Log.FlightRecorderSaveFailed(_logger, ex, request.TraceId.ToHexString(), request.SnapshotId);
            }
        }
    }

    private async Task SaveAsync(FlightRecorder recorder, TriggeredRequest request, long margin, CancellationToken stoppingToken)
    {
        // First, so the incident's next failures are sampled; this one has CPU samples only if it was armed already.
        await recorder.ArmCpuAsync(request.Trigger, stoppingToken).ConfigureAwait(false);
        var to = request.EndTimestamp + margin;
        // This wait is for the runtime, which flushes EventPipe's buffers on real time: it polls on the Stopwatch
        // clock like the timestamps it compares, not on TimeProvider, which a test may have stopped.
        var waitStarted = Stopwatch.GetTimestamp();
        while (recorder.LatestTimestamp < to && Stopwatch.GetElapsedTime(waitStarted) < MaxWaitForEvents && recorder.IsRunning)
        {
            await Task.Delay(PollInterval, stoppingToken).ConfigureAwait(false);
        }

        var slice = await Task.Run(() => recorder.CutAsync(request.StartTimestamp - margin, to, request.TraceId, stoppingToken), stoppingToken).ConfigureAwait(false);
        var traceId = request.TraceId.ToHexString();
        string? savedId = null;
        if (slice.Cpu is { } cpu)
        {
            savedId = (await StoreAsync(request, request.SnapshotId, CaptureKind.Cpu, cpu, stoppingToken).ConfigureAwait(false))?.Id;
        }

        foreach (var (kind, profile) in new[] { (CaptureKind.Contention, slice.Contention), (CaptureKind.Allocations, slice.Allocations), (CaptureKind.Block, slice.Block), (CaptureKind.Exceptions, slice.Exceptions) })
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
            _metrics.SnapshotStored(delay);
            Log.FlightRecorderSnapshotSaved(_logger, request.Method, request.Route, request.Trigger, traceId, request.SnapshotId, slice.TraceSamples, (long)delay.TotalMilliseconds);
        }
    }

    /// <summary>
    /// Saves the recorder's whole window, process-wide (no request scope), as one snapshot per recorded kind with
    /// <paramref name="trigger"/> (a runtime trigger: <c>cpu:93%</c>), all under one new trace id, each listing the
    /// request traces it holds. Returns what was stored (nothing when the recorder does not run).
    /// </summary>
    /// <param name="trigger">The trigger to store.</param>
    /// <param name="cancellationToken">Cancels the cut and the writes.</param>
    /// <returns>The stored snapshots.</returns>
    internal async Task<IReadOnlyList<SnapshotInfo>> SaveProcessWindowAsync(string trigger, CancellationToken cancellationToken)
    {
        var recorder = Started.IsCompletedSuccessfully ? Started.Result : null;
        if (recorder is null || !recorder.IsRunning)
        {
            return [];
        }

        await recorder.ArmCpuAsync(trigger, cancellationToken).ConfigureAwait(false);
        var to = Stopwatch.GetTimestamp();
        var from = to - (long)(recorder.Options.Window.TotalSeconds * Stopwatch.Frequency);
        var waitStarted = Stopwatch.GetTimestamp();
        while (recorder.LatestTimestamp < to && Stopwatch.GetElapsedTime(waitStarted) < MaxWaitForEvents && recorder.IsRunning)
        {
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }

        var slice = await Task.Run(() => recorder.CutAsync(from, to, traceId: null, cancellationToken), cancellationToken).ConfigureAwait(false);
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var stored = new List<SnapshotInfo>();
        foreach (var (kind, profile) in new[] { (CaptureKind.Cpu, slice.Cpu), (CaptureKind.Contention, slice.Contention), (CaptureKind.Allocations, slice.Allocations), (CaptureKind.Block, slice.Block), (CaptureKind.Exceptions, slice.Exceptions) })
        {
            if (profile is not null && await StoreAsync(traceId, null, trigger, SnapshotIds.NewId(_time), kind, profile, cancellationToken, listContainedTraces: true).ConfigureAwait(false) is { } info)
            {
                stored.Add(info);
            }
        }

        if (stored.Count > 0)
        {
            Interlocked.Increment(ref _saved);
            _metrics.SnapshotStored(Stopwatch.GetElapsedTime(to));
        }

        return stored;
    }

    private Task<SnapshotInfo?> StoreAsync(TriggeredRequest request, string id, CaptureKind kind, Profile profile, CancellationToken cancellationToken) =>
        StoreAsync(request.TraceId.ToHexString(), request.SpanId.ToHexString(), request.Trigger, id, kind, profile, cancellationToken);

    // A request's slice is stored under its trace only (as before); a process-wide window lists the traces it holds.
    private Task<SnapshotInfo?> StoreAsync(string traceId, string? spanId, string trigger, string id, CaptureKind kind, Profile profile, CancellationToken cancellationToken, bool listContainedTraces = false) =>
        _coordinator.StoreProfileAsync(
            new SnapshotInfo
            {
                Id = id,
                TraceId = traceId,
                SpanId = spanId,
                Kind = CaptureKinds.Name(kind),
                Trigger = trigger,
                ContainedTraceIds = listContainedTraces ? CaptureCoordinator.ContainedTraces(profile, traceId) : [],
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
        // The report is "per minute" of the application's time, so it follows the injected clock.
        using var timer = new PeriodicTimer(DropReportInterval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var (rateLimited, duplicates, queueFull) = _triggers.TakeDropped(ref previous);
            if (rateLimited + duplicates + queueFull > 0)
            {
                Log.FlightRecorderSnapshotsDropped(_logger, rateLimited + duplicates + queueFull, rateLimited, _options.FlightRecorder.MaxSnapshotsPerMinute, duplicates, queueFull);
            }
        }
    }
}
