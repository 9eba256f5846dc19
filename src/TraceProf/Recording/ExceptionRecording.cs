using System.Diagnostics;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.Logging;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Kinds;
using TraceProf.Kinds.Exceptions;
using TraceProf.Parsing;
using TraceProf.Parsing.Streaming;
using TraceProf.Profiles;

namespace TraceProf.Recording;

/// <summary>The exception session's state, as the index shows it.</summary>
internal enum ExceptionRecordingState
{
    /// <summary>Not started, or stopped with the recorder.</summary>
    Stopped,

    /// <summary>The session records.</summary>
    Recording,

    /// <summary>The storm guard stopped the session; exceptions are counted, not recorded.</summary>
    PausedStorm,
}

/// <summary>A time exception recording was paused by a storm.</summary>
/// <param name="From">When the session had stopped (Stopwatch clock).</param>
/// <param name="To">When it recorded again (Stopwatch clock), or 0 while the pause lasts.</param>
/// <param name="FromUtc">From, on the wall clock.</param>
/// <param name="ToUtc">To, on the wall clock, or null while the pause lasts.</param>
/// <param name="PeakRate">The highest rate read while paused (exceptions a second).</param>
/// <param name="NotRecorded">First-chance exceptions thrown while paused (so far, while it lasts).</param>
internal sealed record ExceptionPause(long From, long To, DateTimeOffset FromUtc, DateTimeOffset? ToUtc, double PeakRate, long NotRecorded);

/// <summary>
/// The flight recorder's exceptions, in an EventPipe session of their own (runtime exception keyword only, no rundown,
/// no sampler) beside the recorder's main one, guarded against storms. The runtime walks the stack of every throw into
/// every session that asks for exceptions, so sampling in the reader bounds memory but not cost: a storm of 200,000
/// exceptions a second cost a host three quarters of its throughput (docs/benchmarks.md). Here the process's
/// first-chance exceptions are counted in-process (<see cref="AppDomain.FirstChanceException"/>, an increment each),
/// the rate is read once a second by <see cref="ExceptionStormGuard"/>, and past the bound the session is stopped — the
/// main session, with its open waits, is not touched — and started again once the rate stayed under the bound for the
/// cooldown. Stacks are process addresses, so the recorder's shared method table (fed by the main session's load
/// events) names them. Each pause is kept (bounded) so that every cut overlapping one says so in its comment.
/// </summary>
internal sealed partial class ExceptionRecording : IAsyncDisposable
{
    // Pauses older than the window are of no cut's concern; the cap bounds a flapping storm's list.
    private const int MaxPausesKept = 64;
    private static readonly TimeSpan ReadInterval = TimeSpan.FromSeconds(1);

    private readonly SampleRing _ring;
    private readonly RecorderMethodNames _names;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ExceptionStormGuard _guard;
    private readonly int _perSecond;
    private readonly Lock _lock = new();
    private readonly List<ExceptionPause> _pauses = [];
    private readonly SemaphoreSlim _transition = new(1, 1);
    private EventPipeSession? _session;
    private RecordingHandler? _handler;
    private Task _readerDone = Task.CompletedTask;
    private ITimer? _timer;
    private Task _pending = Task.CompletedTask;
    private long _counted;
    private long _readBefore;
    private long _sampledOutBefore;
    private long _pausedAtCount;
    private int _pauseCount;
    private int _resumeCount;
    private int _state; // ExceptionRecordingState
    private int _busy;
    private volatile bool _disposed;

    /// <summary>Creates the exception recording; <see cref="StartAsync"/> starts it.</summary>
    public ExceptionRecording(SampleRing ring, RecorderMethodNames names, int stormPerSecond, TimeSpan cooldown, TimeProvider time, ILogger logger)
    {
        _ring = ring;
        _names = names;
        _perSecond = stormPerSecond;
        _guard = new ExceptionStormGuard(stormPerSecond, cooldown);
        _time = time;
        _logger = logger;
    }

    /// <summary>Gets the session's state.</summary>
    public ExceptionRecordingState State => (ExceptionRecordingState)Volatile.Read(ref _state);

    /// <summary>Gets the storm bound (exceptions a second; 0: the guard never pauses).</summary>
    public int StormPerSecond => _perSecond;

    /// <summary>Gets how many times a storm paused the session.</summary>
    public int Pauses => Volatile.Read(ref _pauseCount);

    /// <summary>Gets how many times the session was started again after a pause.</summary>
    public int Resumes => Volatile.Read(ref _resumeCount);

    /// <summary>Gets the first-chance exceptions counted in-process since the start (recorded or not).</summary>
    public long Counted => Interlocked.Read(ref _counted);

    /// <summary>Gets the exceptions the sessions reported (every session since the start).</summary>
    public long Read => Interlocked.Read(ref _readBefore) + (Volatile.Read(ref _handler)?.ExceptionsThrown ?? 0);

    /// <summary>Gets how many of those a storm's sampling in the reader did not keep one by one.</summary>
    public long SampledOut => Interlocked.Read(ref _sampledOutBefore) + (Volatile.Read(ref _handler)?.ExceptionsSampledOut ?? 0);

    /// <summary>Gets the rate of the last reading, in exceptions a second.</summary>
    public double LastRate { get; private set; }

    /// <summary>Gets the cooldown the current (or next) pause waits for before a resume.</summary>
    public TimeSpan Cooldown { get; private set; }

    /// <summary>Gets the newest event timestamp the current session read (Stopwatch clock), or 0.</summary>
    public long LatestTimestamp => Volatile.Read(ref _handler)?.LatestTimestamp ?? 0;

    /// <summary>Gets the pause in progress, or null.</summary>
    public ExceptionPause? CurrentPause
    {
        get
        {
            lock (_lock)
            {
                return _pauses.Count > 0 && _pauses[^1].To == 0 ? Open(_pauses[^1]) : null;
            }
        }
    }

    /// <summary>Starts counting, the session and the guard's readings.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when the session records.</returns>
    /// <exception cref="CaptureUnavailableException">The session could not start.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        AppDomain.CurrentDomain.FirstChanceException += OnFirstChance;
        Cooldown = _guard.Cooldown;
        await StartSessionAsync(cancellationToken).ConfigureAwait(false);
        _guard.Observe(Counted, Stopwatch.GetTimestamp());
        _timer = _time.CreateTimer(static state => ((ExceptionRecording)state!).OnReading(), this, ReadInterval, ReadInterval);
    }

    /// <summary>The pauses that overlap [from, to] (Stopwatch clock), oldest first; a pause in progress with its count so far.</summary>
    public List<ExceptionPause> PausesOverlapping(long from, long to)
    {
        lock (_lock)
        {
            return [.. _pauses.Where(p => p.From <= to && (p.To == 0 || p.To >= from)).Select(p => p.To == 0 ? Open(p) : p)];
        }
    }

    /// <summary>What the recorder's exceptions profile says about its sampling and any storm pause in its span.</summary>
    /// <param name="recorded">Exception events in the cut.</param>
    /// <param name="represented">The exceptions they stand for (weights summed).</param>
    /// <param name="sampled">Events that stand for more than one (a storm's sampling in the reader).</param>
    /// <param name="pauses">The pauses the cut overlaps.</param>
    /// <param name="perSecond">The storm bound.</param>
    /// <returns>The comments, the pauses' first.</returns>
    public static IEnumerable<string> Comments(int recorded, long represented, long sampled, IReadOnlyList<ExceptionPause> pauses, int perSecond)
    {
        foreach (var pause in pauses)
        {
            var to = pause.ToUtc is { } end ? "to " + end.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + "Z" : "and still paused at the cut";
            yield return string.Create(CultureInfo.InvariantCulture,
                $"TraceProf flight recorder exceptions profile, INCOMPLETE: exception recording was paused by the storm guard from {pause.FromUtc:yyyy-MM-dd HH:mm:ss}Z {to} (over {perSecond:N0} exceptions/s; {pause.PeakRate:N0}/s observed); {pause.NotRecorded:N0} first-chance exceptions thrown meanwhile were counted but not recorded. Only the exceptions outside the pause are in this profile.");
        }

        yield return sampled == 0
            ? string.Create(CultureInfo.InvariantCulture, $"TraceProf flight recorder exceptions profile: every one of the {recorded} first-chance exceptions {(pauses.Count == 0 ? "thrown in the span" : "recorded in the span")} (the recorder keeps the first {RecordingHandler.ExceptionsPerSecondInFull} of each second one by one, then samples 1 in {RecordingHandler.StormSampleEvery}; none was sampled here); messages are not recorded.")
            : string.Create(CultureInfo.InvariantCulture, $"TraceProf flight recorder exceptions profile, SAMPLED: a storm passed {RecordingHandler.ExceptionsPerSecondInFull} exceptions in a second, so past that one in {RecordingHandler.StormSampleEvery} was kept and counts for the ones skipped before it ({sampled} such samples); {recorded} recorded events stand for about {represented} exceptions; messages are not recorded.");
    }

    /// <summary>
    /// The recorder's exceptions profile of a cut: the same builder as an exceptions capture file, fed with weights (a
    /// storm sampled at the source), with its comments.
    /// </summary>
    public static Profile BuildProfile(ProfileBuilder profile, SampleAttributor labels, MethodAddressTable methods, RawStacks stacks, List<(long Time, int Thread, int Stack, int Type, int Weight)> events, Dictionary<int, string> typeNames, IReadOnlyList<ExceptionPause> pauses, int perSecond)
    {
        var builder = new ExceptionProfileBuilder(profile, labels, messages: false);
        var resolver = new FrameResolver(methods, builder.Profile);
        var frames = new int[]?[stacks.Count];
        long sampled = 0;
        foreach (var (time, thread, stack, type, weight) in events)
        {
            builder.Add(frames[stack] ??= resolver.Resolve(stacks.Get(stack)), thread, time, typeNames[type], null, weight);
            sampled += weight > 1 ? 1 : 0;
        }

        foreach (var comment in Comments(events.Count, builder.Count, sampled, pauses, perSecond))
        {
            builder.Profile.AddComment(comment);
        }

        return builder.Build();
    }

    /// <summary>Stops the readings, the counting and the session.</summary>
    /// <returns>A task that completes when the session is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }

        AppDomain.CurrentDomain.FirstChanceException -= OnFirstChance;
        await _pending.ConfigureAwait(false);
        await _transition.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopSessionAsync().ConfigureAwait(false);
            Volatile.Write(ref _state, (int)ExceptionRecordingState.Stopped);
        }
        finally
        {
            _transition.Release();
        }
    }

    private void OnFirstChance(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e) => Interlocked.Increment(ref _counted);

    private ExceptionPause Open(ExceptionPause pause) => pause with { NotRecorded = Counted - Interlocked.Read(ref _pausedAtCount) };

    // The timer's callback: one reading a second; a pause or resume runs off the timer thread, one at a time (a reading
    // while one is under way is skipped, so a slow stop never piles up behind itself).
    private void OnReading()
    {
        if (_disposed || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            return;
        }

        var decision = _guard.Observe(Counted, Stopwatch.GetTimestamp());
        LastRate = _guard.LastRate;
        Cooldown = _guard.Cooldown;
        if (decision == StormDecision.None)
        {
            UpdatePeak();
            Volatile.Write(ref _busy, 0);
            return;
        }

        _pending = Task.Run(async () =>
        {
            try
            {
                await (decision == StormDecision.Pause ? PauseAsync() : ResumeAsync()).ConfigureAwait(false);
            }
            finally
            {
                Volatile.Write(ref _busy, 0);
            }
        });
    }

    private void UpdatePeak()
    {
        lock (_lock)
        {
            if (_pauses.Count > 0 && _pauses[^1].To == 0)
            {
                _pauses[^1] = _pauses[^1] with { PeakRate = _guard.PeakRate };
            }
        }
    }

    private async Task PauseAsync()
    {
        await _transition.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            var rate = _guard.LastRate;
            LogPaused(_logger, rate, _perSecond, _guard.Cooldown.TotalSeconds);
            await StopSessionAsync().ConfigureAwait(false);
            Interlocked.Exchange(ref _pausedAtCount, Counted);
            lock (_lock)
            {
                if (_pauses.Count == MaxPausesKept)
                {
                    _pauses.RemoveAt(0);
                }

                _pauses.Add(new ExceptionPause(Stopwatch.GetTimestamp(), 0, _time.GetUtcNow(), null, rate, 0));
            }

            Interlocked.Increment(ref _pauseCount);
            Volatile.Write(ref _state, (int)ExceptionRecordingState.PausedStorm);
        }
        finally
        {
            _transition.Release();
        }
    }

    private async Task ResumeAsync()
    {
        await _transition.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            try
            {
                await StartSessionAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (CaptureUnavailableException ex)
            {
                // Stays paused; the guard waits another cooldown before it tries again.
                LogResumeFailed(_logger, ex);
                _guard.ResumeFailed();
                return;
            }

            ExceptionPause closed;
            lock (_lock)
            {
                closed = Open(_pauses[^1]) with { To = Stopwatch.GetTimestamp(), ToUtc = _time.GetUtcNow(), PeakRate = _guard.PeakRate };
                _pauses[^1] = closed;
            }

            Interlocked.Increment(ref _resumeCount);
            LogResumed(_logger, (closed.ToUtc!.Value - closed.FromUtc).TotalSeconds, closed.NotRecorded, closed.PeakRate, _guard.LastRate);
        }
        finally
        {
            _transition.Release();
        }
    }

    // Call under _transition (or before the timer exists).
    private async Task StartSessionAsync(CancellationToken cancellationToken)
    {
        var session = await EventPipeCaptureSource.StartSessionAsync(KindProviders.ExceptionsAlone(), requestRundown: false, _time, cancellationToken).ConfigureAwait(false);
        var handler = _names.NewHandler(_ring);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = new Thread(() =>
        {
            try
            {
                new NettraceReader(session.EventStream, "flight recorder exceptions").Read(handler, CancellationToken.None);
            }
#pragma warning disable CA1031 // A broken stream ends exception recording, never the process; it is logged.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (!_disposed && ReferenceEquals(Volatile.Read(ref _session), session))
                {
                    LogReaderFailed(_logger, ex);
                }
            }
            finally
            {
                done.TrySetResult();
            }
        })
        {
            IsBackground = true,
            Name = "TraceProf flight recorder exceptions",
        };
        _session = session;
        _readerDone = done.Task;
        Volatile.Write(ref _handler, handler);
        reader.Start();
        Volatile.Write(ref _state, (int)ExceptionRecordingState.Recording);
    }

    // Call under _transition (or from dispose).
    private async Task StopSessionAsync()
    {
        var session = Interlocked.Exchange(ref _session, null);
        if (session is null)
        {
            return;
        }

        try
        {
            if (await EventPipeCaptureSource.StopLiveSessionAsync(session, _readerDone).ConfigureAwait(false) is { } failure)
            {
                LogStopFailed(_logger, failure);
            }
        }
        finally
        {
            session.Dispose();

            // The ended session's counts carry over, so the totals cover every session since the start.
            if (Interlocked.Exchange(ref _handler, null) is { } handler)
            {
                Interlocked.Add(ref _readBefore, handler.ExceptionsThrown);
                Interlocked.Add(ref _sampledOutBefore, handler.ExceptionsSampledOut);
            }
        }
    }

    [LoggerMessage(EventId = 44, EventName = "FlightRecorderExceptionsPaused", Level = LogLevel.Warning,
        Message = "Exception storm: {Rate:N0} first-chance exceptions/s, over the bound of {PerSecond} (TraceProf:FlightRecorder:ExceptionStormPerSecond); the flight recorder stopped recording exceptions (counted, not recorded) and resumes after {CooldownSeconds} s under the bound. Snapshots overlapping the pause say so")]
    private static partial void LogPaused(ILogger logger, double rate, int perSecond, double cooldownSeconds);

    [LoggerMessage(EventId = 45, EventName = "FlightRecorderExceptionsResumed", Level = LogLevel.Information,
        Message = "The exception storm is over ({LastRate:N0}/s): the flight recorder records exceptions again after a pause of {PauseSeconds:N0} s ({NotRecorded} exceptions not recorded, peak {PeakRate:N0}/s)")]
    private static partial void LogResumed(ILogger logger, double pauseSeconds, long notRecorded, double peakRate, double lastRate);

    [LoggerMessage(EventId = 46, EventName = "FlightRecorderExceptionsResumeFailed", Level = LogLevel.Warning,
        Message = "The flight recorder could not start its exception session again after a storm; it tries again after the next cooldown")]
    private static partial void LogResumeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 47, EventName = "FlightRecorderExceptionsReaderFailed", Level = LogLevel.Error,
        Message = "The flight recorder stopped reading its exception session; exceptions are no longer recorded (the other kinds are)")]
    private static partial void LogReaderFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 48, EventName = "FlightRecorderExceptionsStopFailed", Level = LogLevel.Warning,
        Message = "The flight recorder's exception session did not stop cleanly")]
    private static partial void LogStopFailed(ILogger logger, Exception exception);
}
