using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Kinds;
using TraceProf.Kinds.Allocations;
using TraceProf.Kinds.Block;
using TraceProf.Kinds.Contention;
using TraceProf.Kinds.Cpu;
using TraceProf.Kinds.Exceptions;
using TraceProf.Kinds.Threads;
using TraceProf.Parsing;
using TraceProf.Parsing.Streaming;
using TraceProf.Profiles;

// One piece (about 500 lines): the session's life, the ring and the cut belong together — a cut reads the ring under the
// session's timing and feeds each recorded kind's builder (those live in Kinds/); the rest is split out already
// (RecordingHandler decodes, RecorderMethodNames names, SampleRing stores, ExceptionRecording and ArmedCpuSampling run
// the two side sessions). Next to split if it grows: the cut's per-kind profile building, into FlightRecorder.Cut.cs.

namespace TraceProf.Recording;

/// <summary>
/// Keeps the last seconds of this process's CPU samples, lock waits, blocking waits, sampled allocations and exceptions in memory, so that a request which has
/// just failed can be profiled after the fact. One EventPipe session runs for the recorder's life (exceptions have one of their own,
/// <see cref="ExceptionRecording"/>, which a storm pauses); its stream is
/// decoded as it arrives (no file, no TraceLog), samples go into a bounded ring of time segments, and method
/// names come from the session's own load events plus one rundown at start. The span timeline records for the
/// recorder's life, so every sample can be joined to the request it served.
/// </summary>
internal sealed partial class FlightRecorder : IAsyncDisposable
{
    /// <summary>The label on every sample of a cut: <c>trace</c> for the request's trace, <c>process</c> otherwise.</summary>
    public const string ScopeLabel = SampleAttributor.ScopeLabel;

    private readonly FlightRecorderOptions _options;
    private readonly ILogger _logger;
    private readonly SampleRing _ring;
    private readonly RecorderMethodNames _names;
    private readonly RecordingHandler _handler;
    private readonly ExceptionRecording? _exceptions;
    private EventPipeSession? _session;
    private PerfEventCpuSampler? _perf;
    private ArmedCpuSampling? _armed;
    private Thread? _reader;
    private IDisposable? _timeline;
    private readonly TaskCompletionSource _readerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state; // 0 new, 1 started, 2 disposed
    private readonly TimeProvider _time;

    /// <summary>Creates a recorder; <see cref="StartAsync"/> starts it.</summary>
    /// <param name="options">What to record and the bounds.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="timeProvider">The clock (session start timeouts, snapshot times).</param>
    public FlightRecorder(FlightRecorderOptions options, ILogger<FlightRecorder>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _ring = new SampleRing(options.Window, options.MaxSamples);
        _names = new RecorderMethodNames(_time, _logger);
        _handler = _names.NewHandler(_ring, options.ThreadPoolEvents ? PoolStarvation : null);
        _exceptions = options.Exceptions ? new ExceptionRecording(_ring, _names, options.ExceptionStormPerSecond, options.ExceptionStormCooldown, _time, _logger) : null;
    }

    /// <summary>Gets the exception session and its storm guard (null when exceptions are not recorded).</summary>
    public ExceptionRecording? Exceptions => _exceptions;

    /// <summary>
    /// Gets the thread pool's injections for blocked workers as the session reports them (counted only when
    /// <see cref="FlightRecorderOptions.ThreadPoolEvents"/> is on).
    /// </summary>
    public ThreadPoolStarvation PoolStarvation { get; } = new();

    /// <summary>Gets whether the session runs.</summary>
    public bool IsRunning => Volatile.Read(ref _state) == 1 && !_readerDone.Task.IsCompleted && (_perf is null || _perf.IsRunning);

    /// <summary>
    /// Gets the newest timestamp up to which events have been read (Stopwatch clock); 0 before the first. With the
    /// perf_event sampler, the time before its last full drain (every CPU sample up to it is in the ring): the light
    /// session may carry no event for seconds, so its events cannot say how far the recorder has read.
    /// </summary>
    public long LatestTimestamp => _perf?.DrainedUpTo ?? Math.Max(MainRecordsNothing ? Math.Max(_handler.LatestTimestamp, _exceptions?.LatestTimestamp ?? 0) : _handler.LatestTimestamp, _armed?.LatestTimestamp ?? 0);

    // Exceptions alone: the main session only names methods, so the exception session's events say how far is read.
    private bool MainRecordsNothing => (Kinds & ~CaptureKindSet.Exceptions) == CaptureKindSet.None;

    /// <summary>Gets whether CPU is sampled by perf_event.</summary>
    public bool UsesPerf => _options.Cpu && _options.PerfSampler is not null;

    /// <summary>Gets whether CPU is sampled by EventPipe only after a trigger (<see cref="FlightRecorderOptions.CpuArmedFor"/>).</summary>
    public bool ArmsCpu => _options.Cpu && !UsesPerf && _options.CpuArmedFor is not null;

    /// <summary>Gets the armed EventPipe CPU sampler (its state for the index), or null where CPU is not sampled that way.</summary>
    public ArmedCpuSampling? ArmedCpu => _armed;

    /// <summary>
    /// Arms the EventPipe CPU sampler for <see cref="FlightRecorderOptions.CpuArmedFor"/> (a trigger fired: the next
    /// failures of the incident get CPU samples); nothing where CPU is sampled all the time.
    /// </summary>
    /// <param name="reason">The trigger (for the log).</param>
    /// <param name="cancellationToken">Cancels waiting for the sampler's session to start.</param>
    /// <returns>A task that completes when the sampler runs (or could not start, logged).</returns>
    public Task ArmCpuAsync(string reason, CancellationToken cancellationToken) => _armed?.ArmAsync(reason, cancellationToken) ?? Task.CompletedTask;

    /// <summary>Gets the perf_event sampler while it runs (its figures for the index), or null.</summary>
    public PerfEventCpuSampler? PerfSampler => _perf;

    /// <summary>Gets the options.</summary>
    public FlightRecorderOptions Options => _options;

    /// <summary>
    /// Starts the session and names the code that is already loaded (one short rundown session). Does not block
    /// on a constrained machine for longer than <see cref="EventPipeCaptureSource.StartTimeout"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when the recorder records.</returns>
    /// <exception cref="CaptureUnavailableException">EventPipe cannot be used in this process.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("The flight recorder was already started.");
        }

        // Record spans first, so that the first samples already have something to join.
        _timeline = TimelineRecorder.Start();
        try
        {
            if (UsesPerf)
            {
                // Started before the session, so the first CPU samples are in the ring when the first cut comes; the
                // session then names methods (and records the other kinds) without the runtime's sampler.
                _perf = PerfEventCpuSampler.Start(_options.PerfSampler!, new RingSink(_ring), logger: _logger);
            }

            // Exceptions have a session of their own (ExceptionRecording), which a storm stops without touching this one.
            var extra = _options.ThreadPoolEvents ? RuntimeEvents.ThreadingKeyword : 0;
            var main = Kinds & ~CaptureKindSet.Exceptions;

            // Without the runtime's sampler where perf samples CPU or EventPipe's sampler is armed only after a trigger.
            _session = await StartSessionAsync(main == CaptureKindSet.None ? KindProviders.NamesOnly(extra) : UsesPerf || ArmsCpu ? KindProviders.WithoutSampler(main, extra) : KindProviders.For(main, extra), requestRundown: false, cancellationToken).ConfigureAwait(false);
            if (ArmsCpu)
            {
                _armed = new ArmedCpuSampling(_ring, _names, _options.CpuArmedFor!.Value, _time, _logger);
            }

            var session = _session;
            _reader = new Thread(() => ReadLive(session))
            {
                IsBackground = true,
                Name = "TraceProf flight recorder",
            };
            _reader.Start();

            // Methods jitted before this point are named by a rundown: a session that stops at once. Started after
            // the live session, so nothing jitted in between is missed (it is in the live session's load events).
            await _names.ReadRundownAsync(cancellationToken).ConfigureAwait(false);
            if (_exceptions is not null)
            {
                await _exceptions.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            LogStarted(_logger, _options.Window.TotalSeconds, _options.Cpu, _options.Contention, UsesPerf ? "perf_event" : ArmsCpu ? "EventPipe (armed after a trigger)" : "EventPipe", (UsesPerf ? _options.PerfSampler!.Period : _options.SamplingInterval).TotalMilliseconds, _names.Count);
        }
        catch
        {
            await StopAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Cuts the profiles of [<paramref name="from"/>, <paramref name="to"/>] (Stopwatch timestamps). Every sample
    /// carries its span labels and <see cref="ScopeLabel"/> = <c>trace</c> when it belongs to
    /// <paramref name="traceId"/>, <c>process</c> otherwise, so the request and what else the process did at the
    /// time are both visible and can be told apart.
    /// </summary>
    /// <param name="from">Start of the span (with any margin).</param>
    /// <param name="to">End of the span (with any margin).</param>
    /// <param name="traceId">The request's trace, or null for a process-wide cut (a runtime trigger): no scope label then.</param>
    /// <param name="cancellationToken">Cancels the cut.</param>
    /// <returns>The profiles.</returns>
    public async Task<FlightRecorderSlice> CutAsync(long from, long to, ActivityTraceId? traceId, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from, to);
        var timeline = TimelineRecorder.Snapshot(from, to);

        var copy = new CutState();
        lock (_ring.Gate)
        {
            foreach (var segment in _ring.Overlapping(from, to))
            {
                if (_options.Cpu)
                {
                    segment.ForEachSample(from, to, ref copy, static (ref CutState state, SampleSegment seg, long time, int thread, int stack, bool managed) =>
                        state.Samples.Add((time, thread, state.Intern(seg, stack), managed)));
                }

                if (_options.Contention)
                {
                    segment.ForEachContention(from, to, ref copy, static (ref CutState state, SampleSegment seg, long time, int thread, int stack, long delay) =>
                        state.Waits.Add((time, thread, state.Intern(seg, stack), delay)));
                }

                if (_options.Waits)
                {
                    segment.ForEachBlockingWait(from, to, ref copy, static (ref CutState state, SampleSegment seg, long time, int thread, int stack, long delay, BlockWaitSource source, bool pool) =>
                        state.BlockingWaits.Add((time, thread, state.Intern(seg, stack), delay, source, pool)));
                }

                if (_options.Exceptions)
                {
                    segment.ForEachException(from, to, ref copy, static (ref CutState state, SampleSegment seg, long time, int thread, int stack, int type, int weight) =>
                        state.Exceptions.Add((time, thread, state.Intern(seg, stack), type, weight)));
                }

                if (_options.Allocations)
                {
                    segment.ForEachAllocation(from, to, ref copy, static (ref CutState state, SampleSegment seg, long time, int thread, int stack, int type, long size) =>
                        state.Allocations.Add((time, thread, state.Intern(seg, stack), type, size)));
                }
            }

            if (_options.Waits)
            {
                // Waits still open (a worker blocked when the pool starves, a request cut while it waits) are charged up
                // to the end of the cut, as a block capture charges them to its end.
                var end = Math.Min(to, Math.Max(from, _handler.LatestTimestamp));
                _handler.ForEachOpenWait(from, to, (thread, start, stack, pointerSize, source) =>
                {
                    var delay = (long)(Math.Max(0, end - start) * (1e9 / Stopwatch.Frequency));
                    var pool = BlockWaits.IsThreadPoolWorker(ThreadNames.OfThisProcess(thread)) == true;
                    copy.BlockingWaits.Add((start, thread, copy.Stacks.Intern(stack, pointerSize), delay, source, pool));
                    copy.OpenWaits++;
                });
            }

            foreach (var type in copy.Allocations.Select(a => a.Type).Concat(copy.Exceptions.Select(e => e.Type)).Distinct())
            {
                copy.TypeNames[type] = _ring.TypeNames[type];
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        // Like an on-demand capture: TraceProf's own threads labelled (thread_role), frames folded unless asked not to.
        var native = _perf is null ? null : NativeFrameNames.OfThisProcess();
        var methods = await _names.NamingAsync(copy.Stacks, cancellationToken, native).ConfigureAwait(false);
        var labels = new SampleAttributor(timeline, scopeTraceId: traceId?.ToHexString(), threadName: ThreadNames.OfThisProcess);
        var now = Stopwatch.GetTimestamp();
        var startTime = _time.GetUtcNow() - Stopwatch.GetElapsedTime(from, now);
        var duration = Stopwatch.GetElapsedTime(from, to);

        Profile? cpu = null;
        if (_options.Cpu)
        {
            var aggregator = new CpuSampleAggregator();
            var remap = new int[copy.Stacks.Count];
            for (var i = 0; i < remap.Length; i++)
            {
                remap[i] = aggregator.Stacks.Intern(copy.Stacks.Get(i));
            }

            foreach (var (time, thread, stack, managed) in copy.Samples)
            {
                aggregator.Add(remap[stack], thread, labels.SpanLabelsAt(thread, time), managed);
            }

            if (_perf is { } perf)
            {
                var figures = new PerfCpuFigures(perf.Period, perf.LostSamples, perf.ThreadsAttached, perf.ThreadsFailed, perf.ThreadsOverCap, native!);
                cpu = aggregator.BuildOnCpu(methods, startTime, duration, figures, labels.Common, cancellationToken, _options.RawFrames, labels.ThreadLabels);
            }
            else if (_armed is { } armed)
            {
                // The sampler ran for part of the window at most: its effective interval is measured over that part.
                var covered = TimeSpan.FromSeconds(armed.Covered(from, to) / (double)Stopwatch.Frequency);
                var sampled = covered < duration ? covered : duration;
                cpu = EffectiveSamplingInterval.Apply(aggregator.Build(methods, startTime, sampled, _options.SamplingInterval, labels.Common, cancellationToken, _options.RawFrames, labels.ThreadLabels), _options.SamplingInterval)
                    .WithComment(ArmedCpuComment(sampled, duration, armed.ArmFor), duration);
            }
            else
            {
                cpu = EffectiveSamplingInterval.Apply(aggregator.Build(methods, startTime, duration, _options.SamplingInterval, labels.Common, cancellationToken, _options.RawFrames, labels.ThreadLabels), _options.SamplingInterval);
            }
        }

        // Only the CPU samples count toward "samples of the trace" (the log line and the slice report it).
        var traceSamples = labels.InScope;

        Profile? contention = null;
        if (_options.Contention && copy.Waits.Count > 0)
        {
            var builder = new ContentionProfileBuilder(NewProfile(ContentionProfileBuilder.SampleTypes, ContentionProfileBuilder.DefaultSampleIndex, startTime, duration), labels);
            var resolver = new FrameResolver(methods, builder.Profile, _options.RawFrames);
            var frames = new int[]?[copy.Stacks.Count];
            foreach (var (time, thread, stack, delay) in copy.Waits)
            {
                builder.AddWait(frames[stack] ??= resolver.Resolve(copy.Stacks.Get(stack)), thread, time, delay);
            }

            builder.Profile.AddComment(ContentionProfileBuilder.RecorderComment(copy.Waits.Count));
            contention = builder.Build();
        }

        Profile? allocations = null;
        if (_options.Allocations && copy.Allocations.Count > 0)
        {
            var builder = new AllocationProfileBuilder(NewProfile(AllocationProfileBuilder.SampleTypes, AllocationProfileBuilder.DefaultSampleIndex, startTime, duration), labels);
            var resolver = new FrameResolver(methods, builder.Profile, _options.RawFrames);
            var frames = new int[]?[copy.Stacks.Count];
            foreach (var (time, thread, stack, type, size) in copy.Allocations)
            {
                builder.AddSampled(frames[stack] ??= resolver.Resolve(copy.Stacks.Get(stack)), thread, time, copy.TypeNames[type], size);
            }

            builder.Profile.AddComment("TraceProf flight recorder allocation profile: " + AllocationProfileBuilder.SampledComment(copy.Allocations.Count, "sampled allocations in the span"));
            allocations = builder.Build();
        }

        Profile? block = null;
        if (_options.Waits && copy.BlockingWaits.Count > 0)
        {
            // The same builder as a block capture file: a failed or slow request's snapshot shows what it blocked on.
            var builder = new BlockProfileBuilder(NewProfile(BlockProfileBuilder.SampleTypes, BlockProfileBuilder.DefaultSampleIndex, startTime, duration), labels);
            var resolver = new FrameResolver(methods, builder.Profile, _options.RawFrames);
            var frames = new int[]?[copy.Stacks.Count];
            var roles = new WaiterThread?[copy.Stacks.Count];
            long service = 0;
            foreach (var (time, thread, stack, delay, source, pool) in copy.BlockingWaits)
            {
                var role = roles[stack] ??= BlockWaits.ThreadOf(methods, copy.Stacks.Get(stack));
                if (role == WaiterThread.Service)
                {
                    service++;
                    continue;
                }

                var inPool = pool || role == WaiterThread.PoolWorker;
                builder.AddWait(frames[stack] ??= resolver.Resolve(copy.Stacks.Get(stack)), thread, time, delay, source, inPool);
            }

            builder.Profile.AddComment(builder.CountsComment("TraceProf flight recorder block profile, waits that started in the span"));
            builder.Profile.AddComment(string.Create(CultureInfo.InvariantCulture, $"{copy.OpenWaits} waits were still open at the cut (delay counted to its end)."));
            builder.Profile.AddComment(BlockProfileBuilder.ServiceThreadsComment(service));
            block = builder.Waits > 0 ? builder.Build() : null;
        }

        // A storm pause in the span is stated, even when it left nothing to show: no silent loss.
        var pauses = _exceptions?.PausesOverlapping(from, to) ?? [];
        var exceptions = _options.Exceptions && (copy.Exceptions.Count > 0 || pauses.Count > 0)
            ? ExceptionRecording.BuildProfile(NewProfile(ExceptionProfileBuilder.SampleTypes, 0, startTime, duration), labels, methods, copy.Stacks, copy.Exceptions, copy.TypeNames, pauses, _options.ExceptionStormPerSecond)
            : null;

        return new FlightRecorderSlice(cpu, contention, traceSamples, allocations, block, exceptions);
    }

    /// <summary>What a CPU profile of the armed EventPipe sampler says about the part of its window that was sampled.</summary>
    internal static string ArmedCpuComment(TimeSpan sampled, TimeSpan window, TimeSpan armFor)
    {
        var rule = string.Create(CultureInfo.InvariantCulture, $"CPU is not sampled by perf_event here, and the flight recorder runs EventPipe's sampler only for {armFor.TotalMinutes:0.#} min after a trigger fires (TraceProf:FlightRecorder:EventPipeCpu = armed): the first failure of an incident has no CPU samples, the next ones do.");
        return sampled <= TimeSpan.Zero
            ? "CPU NOT SAMPLED in this window: " + rule
            : string.Create(CultureInfo.InvariantCulture, $"CPU sampled for {sampled.TotalMilliseconds:0} ms of this {window.TotalMilliseconds:0} ms window: ") + rule;
    }

    /// <summary>The kinds the recorder records (exceptions in a session of their own).</summary>
    private CaptureKindSet Kinds =>
        (_options.Cpu ? CaptureKindSet.Cpu : 0) | (_options.Contention ? CaptureKindSet.Contention : 0) | (_options.Allocations ? CaptureKindSet.Allocations : 0)
        | (_options.Waits ? CaptureKindSet.Block : 0) | (_options.Exceptions ? CaptureKindSet.Exceptions : 0);

    private static ProfileBuilder NewProfile(IReadOnlyList<SampleType> sampleTypes, int defaultIndex, DateTimeOffset startTime, TimeSpan duration) =>
        new(sampleTypes, defaultIndex) { StartTime = startTime, Duration = duration };

    /// <summary>Gets how many rundowns the recorder has run (one at start, more when new code needed names).</summary>
    public int Rundowns => _names.Rundowns;

    /// <summary>Gets what the recorder holds and has read.</summary>
    /// <returns>The statistics.</returns>
    public FlightRecorderStatistics GetStatistics()
    {
        var held = _ring.Measure();
        return new FlightRecorderStatistics(held.Samples, held.Contentions, held.Stacks, held.Segments, _names.Count, held.Bytes, _handler.EventsRead, held.From, _handler.LatestTimestamp, _exceptions?.Read ?? 0, _exceptions?.SampledOut ?? 0, _exceptions?.Pauses ?? 0);
    }

    /// <summary>Stops the session and releases the span timeline.</summary>
    /// <returns>A task that completes when the session is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _state, 2) == 2)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
    }

    private async Task StopAsync()
    {
        Interlocked.Exchange(ref _perf, null)?.Dispose();
        if (Interlocked.Exchange(ref _armed, null) is { } armed)
        {
            await armed.DisposeAsync().ConfigureAwait(false);
        }

        if (_exceptions is not null)
        {
            await _exceptions.DisposeAsync().ConfigureAwait(false);
        }

        var session = Interlocked.Exchange(ref _session, null);
        if (session is not null)
        {
            try
            {
                if (await EventPipeCaptureSource.StopLiveSessionAsync(session, _reader is null ? null : _readerDone.Task).ConfigureAwait(false) is { } failure)
                {
                    LogStopFailed(_logger, failure);
                }
            }
            finally
            {
                session.Dispose();
            }
        }

        Interlocked.Exchange(ref _timeline, null)?.Dispose();
    }

    private void ReadLive(EventPipeSession session)
    {
        try
        {
            new NettraceReader(session.EventStream, "flight recorder").Read(_handler, CancellationToken.None);
            _readerDone.TrySetResult();
        }
#pragma warning disable CA1031 // A broken stream ends the recorder, never the process; it is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (Volatile.Read(ref _state) == 1)
            {
                LogReaderFailed(_logger, ex);
            }

            _readerDone.TrySetResult();
        }
    }

    private Task<EventPipeSession> StartSessionAsync(IReadOnlyList<EventPipeProvider> providers, bool requestRundown, CancellationToken cancellationToken) =>
        EventPipeCaptureSource.StartSessionAsync(providers, requestRundown, _time, cancellationToken);

    [LoggerMessage(EventId = 40, EventName = "FlightRecorderStarted", Level = LogLevel.Information,
        Message = "Flight recorder started: window {WindowSeconds} s, cpu {Cpu}, contention {Contention}, CPU sampler {Sampler} every {IntervalMs} ms, {Methods} methods named by the start-up rundown")]
    private static partial void LogStarted(ILogger logger, double windowSeconds, bool cpu, bool contention, string sampler, double intervalMs, int methods);

    [LoggerMessage(EventId = 41, EventName = "FlightRecorderReaderFailed", Level = LogLevel.Error,
        Message = "The flight recorder stopped reading its EventPipe session; failed requests are no longer profiled")]
    private static partial void LogReaderFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 42, EventName = "FlightRecorderStopFailed", Level = LogLevel.Warning,
        Message = "The flight recorder's EventPipe session did not stop cleanly")]
    private static partial void LogStopFailed(ILogger logger, Exception exception);

    /// <summary>Puts the perf_event sampler's samples into the ring, as the live session's reader puts EventPipe's.</summary>
    private sealed class RingSink(SampleRing ring) : IPerfSampleSink
    {
        public void OnSample(int threadId, long timestamp, ReadOnlySpan<ulong> frames)
        {
            lock (ring.Gate)
            {
                var segment = ring.Current(timestamp, out _);
                segment.AddSample(timestamp, threadId, segment.Stacks.Intern(frames), managed: true);
                ring.Added();
            }
        }
    }

    /// <summary>Samples copied out of the ring under its lock, with their stacks interned in one table.</summary>
    private struct CutState()
    {
        public readonly List<(long Time, int Thread, int Stack, bool Managed)> Samples = [];
        public readonly List<(long Time, int Thread, int Stack, long Delay)> Waits = [];
        public readonly List<(long Time, int Thread, int Stack, int Type, long Size)> Allocations = [];
        public readonly List<(long Time, int Thread, int Stack, long Delay, BlockWaitSource Source, bool Pool)> BlockingWaits = [];
        public readonly List<(long Time, int Thread, int Stack, int Type, int Weight)> Exceptions = [];
        public int OpenWaits;
        public readonly Dictionary<int, string> TypeNames = [];
        public readonly RawStacks Stacks = new();
        private readonly Dictionary<(SampleSegment, int), int> _interned = [];

        public readonly int Intern(SampleSegment segment, int stack)
        {
            if (!_interned.TryGetValue((segment, stack), out var index))
            {
                index = Stacks.Intern(segment.Stacks.Get(stack));
                _interned[(segment, stack)] = index;
            }

            return index;
        }
    }
}
