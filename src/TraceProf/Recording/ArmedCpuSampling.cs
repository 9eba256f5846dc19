using System.Diagnostics;
using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.Logging;
using TraceProf.Capture;
using TraceProf.Parsing;
using TraceProf.Parsing.Streaming;

namespace TraceProf.Recording;

/// <summary>
/// The flight recorder's CPU samples where perf_event is unavailable and EventPipe's thread sampler is too costly to
/// leave on (it suspends every managed thread at each tick): the sampler runs in a second EventPipe session of its
/// own (the sample profiler only: no rundown, no other keyword — the recorder's session names the methods), started
/// when a trigger fires and stopped once <see cref="ArmFor"/> has passed without another. An incident's repeated
/// failures get CPU profiles; a healthy process pays nothing for CPU; the first failure of an incident has none (its
/// cut's comment says so). The periods it ran are kept (the last <see cref="MaxPeriods"/>) so a cut can say what part
/// of its window was sampled.
/// </summary>
internal sealed partial class ArmedCpuSampling : IAsyncDisposable
{
    /// <summary>The most armed periods remembered (older ones are before any window a cut can ask for).</summary>
    public const int MaxPeriods = 64;

    private readonly SampleRing _ring;
    private readonly RecorderMethodNames _names;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _periodsLock = new();
    private readonly List<(long From, long To)> _periods = []; // Stopwatch timestamps; To = long.MaxValue while armed
    private EventPipeSession? _session;
    private RecordingHandler? _handler;
    private Task? _reader;
    private ITimer? _timer;
    private DateTimeOffset _deadline;
    private long _arms;
    private bool _disposed;

    /// <summary>Creates the sampler, disarmed.</summary>
    /// <param name="ring">The recorder's ring, where the samples go.</param>
    /// <param name="names">The recorder's method names (the handler adds nothing to them: this session has no load events).</param>
    /// <param name="armFor">How long the sampler stays armed after the last trigger.</param>
    /// <param name="time">The clock of the arming deadline.</param>
    /// <param name="logger">The logger.</param>
    public ArmedCpuSampling(SampleRing ring, RecorderMethodNames names, TimeSpan armFor, TimeProvider time, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(armFor, TimeSpan.FromSeconds(1));
        _ring = ring;
        _names = names;
        ArmFor = armFor;
        _time = time;
        _logger = logger;
    }

    /// <summary>Gets how long the sampler stays armed after the last trigger.</summary>
    public TimeSpan ArmFor { get; }

    /// <summary>Gets whether the sampler runs now.</summary>
    public bool IsArmed => Volatile.Read(ref _session) is not null;

    /// <summary>Gets how many times a disarmed sampler was armed.</summary>
    public long Arms => Interlocked.Read(ref _arms);

    /// <summary>Gets when the sampler disarms unless another trigger comes (null when disarmed).</summary>
    public DateTimeOffset? ArmedUntil => IsArmed ? _deadline : null;

    /// <summary>Gets the newest event timestamp its session delivered (0 when it never ran).</summary>
    public long LatestTimestamp => Volatile.Read(ref _handler)?.LatestTimestamp ?? 0;

    /// <summary>
    /// Arms the sampler (starts its session if it does not run) and moves its deadline to <see cref="ArmFor"/> from
    /// now. Never throws for a session that cannot start (only when cancelled): the recorder goes on without CPU samples (logged).
    /// </summary>
    /// <param name="reason">What fired (for the log).</param>
    /// <param name="cancellationToken">Cancels waiting for the session to start.</param>
    /// <returns>A task that completes when the sampler runs (or could not start).</returns>
    public async Task ArmAsync(string reason, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _deadline = _time.GetUtcNow() + ArmFor;
            if (_session is null)
            {
                try
                {
                    var providers = new[] { new EventPipeProvider(RuntimeEvents.SampleProfilerProvider, EventLevel.Informational) };
                    var session = await EventPipeCaptureSource.StartSessionAsync(providers, requestRundown: false, _time, cancellationToken).ConfigureAwait(false);
                    var handler = _names.NewHandler(_ring);
                    lock (_periodsLock)
                    {
                        if (_periods.Count == MaxPeriods)
                        {
                            _periods.RemoveAt(0);
                        }

                        _periods.Add((Stopwatch.GetTimestamp(), long.MaxValue));
                    }

                    Volatile.Write(ref _handler, handler);
                    _reader = Task.Factory.StartNew(() => Read(session, handler), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                    Volatile.Write(ref _session, session);
                    Interlocked.Increment(ref _arms);
                    LogArmed(_logger, reason, ArmFor.TotalMinutes);
                }
#pragma warning disable CA1031 // Arming is best effort: a snapshot is then saved without CPU samples, never fails.
                catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    LogArmFailed(_logger, ex, reason);
                    return;
                }
            }

            // One timer, moved to the new deadline at each arming.
            _timer ??= _time.CreateTimer(static state => _ = ((ArmedCpuSampling)state!).DisarmIfDueAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(ArmFor, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Gets how much of [<paramref name="from"/>, <paramref name="to"/>] (Stopwatch timestamps) the sampler ran, in
    /// Stopwatch ticks.
    /// </summary>
    /// <param name="from">The window's start.</param>
    /// <param name="to">The window's end.</param>
    /// <returns>The ticks of the window covered by an armed period.</returns>
    public long Covered(long from, long to)
    {
        long covered = 0;
        lock (_periodsLock)
        {
            foreach (var (start, end) in _periods)
            {
                var overlap = Math.Min(to, end) - Math.Max(from, start);
                covered += Math.Max(0, overlap);
            }
        }

        return covered;
    }

    /// <summary>Stops the session if it runs.</summary>
    /// <returns>A task that completes when it is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            _timer?.Dispose();
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        _gate.Dispose();
    }

    private async Task DisarmIfDueAsync()
    {
        try
        {
            await _gate.WaitAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        try
        {
            if (_disposed || _session is null)
            {
                return;
            }

            var left = _deadline - _time.GetUtcNow();
            if (left > TimeSpan.Zero)
            {
                _timer?.Change(left, Timeout.InfiniteTimeSpan);
                return;
            }

            await StopAsync().ConfigureAwait(false);
            LogDisarmed(_logger, ArmFor.TotalMinutes);
        }
#pragma warning disable CA1031 // A timer callback's exception would end the process; a session that does not stop is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogStopFailed(_logger, ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    // Under the gate.
    private async Task StopAsync()
    {
        var session = Volatile.Read(ref _session);
        if (session is null)
        {
            return;
        }

        try
        {
            if (await EventPipeCaptureSource.StopLiveSessionAsync(session, _reader).ConfigureAwait(false) is { } failure)
            {
                LogStopFailed(_logger, failure);
            }
        }
        finally
        {
            // Disarmed once the session has stopped: a window that starts after this has no sample of it.
            lock (_periodsLock)
            {
                _periods[^1] = (_periods[^1].From, Stopwatch.GetTimestamp());
            }

            Volatile.Write(ref _session, null);
            session.Dispose();
        }
    }

    private void Read(EventPipeSession session, RecordingHandler handler)
    {
        try
        {
            new NettraceReader(session.EventStream, "flight recorder armed CPU sampler").Read(handler, CancellationToken.None);
        }
#pragma warning disable CA1031 // A broken stream ends the armed sampler, never the process; it is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogReaderFailed(_logger, ex);
        }
    }

    [LoggerMessage(EventId = 50, EventName = "FlightRecorderCpuArmed", Level = LogLevel.Information,
        Message = "Flight recorder: EventPipe CPU sampler armed by {Reason} for {Minutes} min (TraceProf:FlightRecorder:EventPipeCpu = armed: without perf_event, CPU is sampled only after a trigger)")]
    private static partial void LogArmed(ILogger logger, string reason, double minutes);

    [LoggerMessage(EventId = 51, EventName = "FlightRecorderCpuDisarmed", Level = LogLevel.Information,
        Message = "Flight recorder: EventPipe CPU sampler disarmed ({Minutes} min without a trigger)")]
    private static partial void LogDisarmed(ILogger logger, double minutes);

    [LoggerMessage(EventId = 52, EventName = "FlightRecorderCpuArmFailed", Level = LogLevel.Warning,
        Message = "Flight recorder: the EventPipe CPU sampler could not be armed by {Reason}; snapshots have no CPU samples until it can")]
    private static partial void LogArmFailed(ILogger logger, Exception exception, string reason);

    [LoggerMessage(EventId = 53, EventName = "FlightRecorderCpuSamplerFailed", Level = LogLevel.Warning,
        Message = "Flight recorder: the armed EventPipe CPU sampler's session failed")]
    private static partial void LogReaderFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 54, EventName = "FlightRecorderCpuStopFailed", Level = LogLevel.Warning,
        Message = "Flight recorder: the armed EventPipe CPU sampler's session did not stop cleanly")]
    private static partial void LogStopFailed(ILogger logger, Exception exception);
}
