using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Parsing;
using TraceProf.Parsing.Streaming;
using TraceProf.Profiles;

namespace TraceProf.Recording;

/// <summary>
/// Keeps the last seconds of this process's CPU samples and lock waits in memory, so that a request which has
/// just failed can be profiled after the fact. One EventPipe session runs for the recorder's life; its stream is
/// decoded as it arrives (no file, no TraceLog), samples go into a bounded ring of time segments, and method
/// names come from the session's own load events plus one rundown at start. The span timeline records for the
/// recorder's life, so every sample can be joined to the request it served.
/// </summary>
public sealed partial class FlightRecorder : IAsyncDisposable
{
    /// <summary>The label on every sample of a cut: <c>trace</c> for the request's trace, <c>process</c> otherwise.</summary>
    public const string ScopeLabel = "scope";

    private readonly FlightRecorderOptions _options;
    private readonly ILogger _logger;
    private readonly SampleRing _ring;
    private readonly MethodAddressTable _methods = new();
    private readonly Lock _methodsLock = new();
    private readonly RecordingHandler _handler;
    private EventPipeSession? _session;
    private Thread? _reader;
    private IDisposable? _timeline;
    private readonly TaskCompletionSource _readerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state; // 0 new, 1 started, 2 disposed
    private readonly SemaphoreSlim _rundownGate = new(1, 1);
    private readonly HashSet<ulong> _nativeAddresses = [];
    private long _lastRundown;
    private int _rundowns;

    // A rundown costs the runtime a few hundred milliseconds in a large app; new code needs one rarely after warm-up.
    private static readonly TimeSpan RundownInterval = TimeSpan.FromSeconds(5);
    private const int MaxNativeAddresses = 100_000;
    private const long AllocationSamplingKeyword = 0x800_0000_0000;

    /// <summary>Creates a recorder; <see cref="StartAsync"/> starts it.</summary>
    /// <param name="options">What to record and the bounds.</param>
    /// <param name="logger">The logger.</param>
    public FlightRecorder(FlightRecorderOptions options, ILogger<FlightRecorder>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Cpu && !options.Contention && !options.Allocations)
        {
            throw new ArgumentException("The flight recorder needs at least one of CPU, contention and allocations.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.Window, TimeSpan.FromSeconds(1));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Window, TimeSpan.FromMinutes(10));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSamples, 10_000);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _ring = new SampleRing(options.Window, options.MaxSamples);
        _handler = new RecordingHandler(_ring, _methods, _methodsLock);
    }

    /// <summary>Gets whether the session runs.</summary>
    public bool IsRunning => Volatile.Read(ref _state) == 1 && !_readerDone.Task.IsCompleted;

    /// <summary>Gets the newest event timestamp read from the session (Stopwatch clock); 0 before the first.</summary>
    public long LatestTimestamp => _handler.LatestTimestamp;

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
            _session = await StartSessionAsync(Providers(), requestRundown: false, cancellationToken).ConfigureAwait(false);
            var session = _session;
            _reader = new Thread(() => ReadLive(session))
            {
                IsBackground = true,
                Name = "TraceProf flight recorder",
            };
            _reader.Start();

            // Methods jitted before this point are named by a rundown: a session that stops at once. Started after
            // the live session, so nothing jitted in between is missed (it is in the live session's load events).
            await ReadRundownAsync(cancellationToken).ConfigureAwait(false);
            int methods;
            lock (_methodsLock)
            {
                methods = _methods.Count;
            }

            LogStarted(_logger, _options.Window.TotalSeconds, _options.Cpu, _options.Contention, _options.SamplingInterval.TotalMilliseconds, methods);
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
    /// <param name="traceId">The request's trace.</param>
    /// <param name="cancellationToken">Cancels the cut.</param>
    /// <returns>The profiles.</returns>
    public async Task<FlightRecorderSlice> CutAsync(long from, long to, ActivityTraceId traceId, CancellationToken cancellationToken)
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

                if (_options.Allocations)
                {
                    segment.ForEachAllocation(from, to, ref copy, static (ref CutState state, SampleSegment seg, long time, int thread, int stack, int type, long size) =>
                        state.Allocations.Add((time, thread, state.Intern(seg, stack), type, size)));
                }
            }

            foreach (var type in copy.Allocations.Select(a => a.Type).Distinct())
            {
                copy.TypeNames[type] = _ring.TypeNames[type];
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        var methods = await MethodsNamingAsync(copy.Stacks, cancellationToken).ConfigureAwait(false);
        var scopes = new ScopeLabels(traceId.ToHexString());
        var now = Stopwatch.GetTimestamp();
        var startTime = DateTimeOffset.UtcNow - Stopwatch.GetElapsedTime(from, now);
        var duration = Stopwatch.GetElapsedTime(from, to);
        var parseOptions = new ParseOptions { SamplingInterval = _options.SamplingInterval };

        Profile? cpu = null;
        long traceSamples = 0;
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
                var labels = scopes.For(timeline.LabelsAt(thread, time), out var inTrace);
                traceSamples += inTrace ? 1 : 0;
                aggregator.Add(remap[stack], thread, labels, managed);
            }

            cpu = EffectiveSamplingInterval.Apply(aggregator.Build(methods, startTime, duration, parseOptions, cancellationToken), _options.SamplingInterval);
        }

        Profile? contention = null;
        if (_options.Contention && copy.Waits.Count > 0)
        {
            var builder = new ProfileBuilder(WellKnownSampleTypes.ContentionProfile, 1)
            {
                PeriodType = WellKnownSampleTypes.Contentions,
                Period = 1,
                StartTime = startTime,
                Duration = duration,
            };
            var resolver = new FrameResolver(methods, builder);
            var frames = new int[]?[copy.Stacks.Count];
            var labels = new List<ProfileLabel>();
            foreach (var (time, thread, stack, delay) in copy.Waits)
            {
                labels.Clear();
                labels.Add(new ProfileLabel("thread_id", thread.ToString(CultureInfo.InvariantCulture)));
                labels.AddRange(scopes.For(timeline.LabelsAt(thread, time), out _));
                builder.Add(frames[stack] ??= resolver.Resolve(copy.Stacks.Get(stack)), [1, delay], System.Runtime.InteropServices.CollectionsMarshal.AsSpan(labels));
            }

            builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf flight recorder contention profile: {copy.Waits.Count} waits that started in the span."));
            contention = builder.Build();
        }

        Profile? allocations = null;
        if (_options.Allocations && copy.Allocations.Count > 0)
        {
            var builder = new ProfileBuilder(WellKnownSampleTypes.AllocationProfile, 1)
            {
                PeriodType = WellKnownSampleTypes.AllocSpace,
                Period = (long)AllocationProfileParser.SamplingDistance,
                StartTime = startTime,
                Duration = duration,
            };
            var resolver = new FrameResolver(methods, builder);
            var frames = new int[]?[copy.Stacks.Count];
            var typeFrames = new Dictionary<int, int>();
            var labels = new List<ProfileLabel>();
            var stack = new List<int>(64);
            foreach (var (time, thread, stackIndex, type, size) in copy.Allocations)
            {
                var name = copy.TypeNames[type];
                if (!typeFrames.TryGetValue(type, out var typeFrame))
                {
                    typeFrame = builder.InternFrame(new ProfileFrame(name, "(allocated type)"));
                    typeFrames[type] = typeFrame;
                }

                stack.Clear();
                stack.Add(typeFrame);
                stack.AddRange(frames[stackIndex] ??= resolver.Resolve(copy.Stacks.Get(stackIndex)));
                labels.Clear();
                labels.Add(new ProfileLabel("thread_id", thread.ToString(CultureInfo.InvariantCulture)));
                labels.Add(new ProfileLabel("object_type", name));
                labels.AddRange(scopes.For(timeline.LabelsAt(thread, time), out _));
                var (objects, bytes) = AllocationProfileParser.Weigh(size);
                builder.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(stack), [objects, bytes], System.Runtime.InteropServices.CollectionsMarshal.AsSpan(labels));
            }

            builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf flight recorder allocation profile: {copy.Allocations.Count} sampled allocations in the span; each stands for size/(1-q^size) bytes, q = 1 - 1/{AllocationProfileParser.SamplingDistance}."));
            allocations = builder.Build();
        }

        return new FlightRecorderSlice(cpu, contention, traceSamples, allocations);
    }

    /// <summary>Gets how many rundowns the recorder has run (one at start, more when new code needed names).</summary>
    public int Rundowns => Volatile.Read(ref _rundowns);

    /// <summary>
    /// A frozen method table that names as many of the stacks' addresses as it can. Ready-to-run code that runs
    /// for the first time after the start-up rundown raises no load event, so an address no method covers
    /// triggers another rundown — at most one per <see cref="RundownInterval"/>; addresses a rundown could not
    /// name either (native code) are remembered and never trigger one again.
    /// </summary>
    private async Task<MethodAddressTable> MethodsNamingAsync(RawStacks stacks, CancellationToken cancellationToken)
    {
        var methods = FreezeMethods();
        var unknown = Unresolved(methods, stacks);
        if (unknown.Count == 0)
        {
            return methods;
        }

        await _rundownGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The interval runs between these on-demand rundowns only: the first cut after the start, which often
            // meets code that first ran for that very request, always gets one.
            if (_lastRundown != 0 && Stopwatch.GetElapsedTime(_lastRundown) < RundownInterval)
            {
                return methods; // named at the next cut that may run one
            }

            _lastRundown = Stopwatch.GetTimestamp();
            await ReadRundownAsync(cancellationToken).ConfigureAwait(false);
            methods = FreezeMethods();
            lock (_nativeAddresses)
            {
                foreach (var address in Unresolved(methods, stacks))
                {
                    if (_nativeAddresses.Count < MaxNativeAddresses)
                    {
                        _nativeAddresses.Add(address);
                    }
                }
            }

            return methods;
        }
        finally
        {
            _rundownGate.Release();
        }
    }

    private MethodAddressTable FreezeMethods()
    {
        lock (_methodsLock)
        {
            return _methods.Freeze();
        }
    }

    private List<ulong> Unresolved(MethodAddressTable methods, RawStacks stacks)
    {
        var unknown = new List<ulong>();
        var seen = new HashSet<ulong>();
        lock (_nativeAddresses)
        {
            for (var i = 0; i < stacks.Count; i++)
            {
                foreach (var address in stacks.Get(i))
                {
                    if (seen.Add(address) && !_nativeAddresses.Contains(address) && !methods.TryResolve(address, out _, out _))
                    {
                        unknown.Add(address);
                    }
                }
            }
        }

        return unknown;
    }

    /// <summary>Gets what the recorder holds and has read.</summary>
    /// <returns>The statistics.</returns>
    public FlightRecorderStatistics GetStatistics()
    {
        var held = _ring.Measure();
        int methods;
        lock (_methodsLock)
        {
            methods = _methods.Count;
        }

        return new FlightRecorderStatistics(held.Samples, held.Contentions, held.Stacks, held.Segments, methods, held.Bytes, _handler.EventsRead, held.From, _handler.LatestTimestamp);
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
        var session = Interlocked.Exchange(ref _session, null);
        if (session is not null)
        {
            try
            {
                await Task.Run(() => EventPipeCaptureSource.StopSession(session)).WaitAsync(EventPipeCaptureSource.StopTimeout).ConfigureAwait(false);
                if (_reader is not null)
                {
                    await _readerDone.Task.WaitAsync(EventPipeCaptureSource.StopTimeout).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is TimeoutException or IOException or ServerNotAvailableException or ObjectDisposedException)
            {
                LogStopFailed(_logger, ex);
            }
            finally
            {
                session.Dispose();
            }
        }

        Interlocked.Exchange(ref _timeline, null)?.Dispose();
    }

    private List<EventPipeProvider> Providers()
    {
        // Loader | Jit | NGen: names for code jitted while recording; the rundown at start names the rest.
        var runtimeKeywords = 0x8L | 0x10 | 0x20 | (_options.Contention ? 0x4000L : 0) | (_options.Allocations ? AllocationSamplingKeyword : 0);
        var providers = new List<EventPipeProvider> { new(CaptureProviders.Runtime, EventLevel.Verbose, runtimeKeywords) };
        if (_options.Cpu)
        {
            providers.Add(new EventPipeProvider(CaptureProviders.SampleProfiler, EventLevel.Informational));
        }

        return providers;
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

    private async Task ReadRundownAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _rundowns);

        // The runtime provider with no keywords: the session exists only for the rundown its stop produces.
        var session = await StartSessionAsync([new EventPipeProvider(CaptureProviders.Runtime, EventLevel.Informational, 0)], requestRundown: true, cancellationToken).ConfigureAwait(false);
        var handler = new RecordingHandler(ring: null, _methods, _methodsLock);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The reader owns the session: it disposes it once the stream has ended, never while the runtime still
        // writes the rundown into it. Closing a session's stream under a stop in progress wedged the runtime's
        // EventPipe in a test run (a spinning EventPipe thread, the diagnostics server no longer answering).
        var read = new Thread(() =>
        {
            try
            {
                new NettraceReader(session.EventStream, "flight recorder rundown").Read(handler, CancellationToken.None);
            }
#pragma warning disable CA1031 // A thread's exception would end the process; a rundown that fails only leaves frames unnamed.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogRundownFailed(_logger, ex);
            }
            finally
            {
                session.Dispose();
                done.TrySetResult();
            }
        })
        {
            IsBackground = true,
            Name = "TraceProf rundown",
        };
        read.Start();

        // Stop is waited for in full (bounded) even when the caller gives up, so no stop is ever left half-done;
        // a cancelled caller stops waiting for the names, the rundown completes on its own.
        try
        {
            await Task.Run(() => EventPipeCaptureSource.StopSession(session), CancellationToken.None).WaitAsync(EventPipeCaptureSource.StopTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or ServerNotAvailableException)
        {
            LogRundownFailed(_logger, ex);
            return;
        }

        await done.Task.WaitAsync(EventPipeCaptureSource.StopTimeout, cancellationToken).ConfigureAwait(false);
    }

    private static Task<EventPipeSession> StartSessionAsync(IReadOnlyList<EventPipeProvider> providers, bool requestRundown, CancellationToken cancellationToken) =>
        EventPipeCaptureSource.StartSessionAsync(providers, requestRundown, TimeProvider.System, cancellationToken);

    [LoggerMessage(EventId = 40, EventName = "FlightRecorderStarted", Level = LogLevel.Information,
        Message = "Flight recorder started: window {WindowSeconds} s, cpu {Cpu}, contention {Contention}, sampler interval {IntervalMs} ms, {Methods} methods named by the start-up rundown")]
    private static partial void LogStarted(ILogger logger, double windowSeconds, bool cpu, bool contention, double intervalMs, int methods);

    [LoggerMessage(EventId = 41, EventName = "FlightRecorderReaderFailed", Level = LogLevel.Error,
        Message = "The flight recorder stopped reading its EventPipe session; failed requests are no longer profiled")]
    private static partial void LogReaderFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 43, EventName = "FlightRecorderRundownFailed", Level = LogLevel.Warning,
        Message = "A flight-recorder rundown failed; some frames may stay unnamed")]
    private static partial void LogRundownFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 42, EventName = "FlightRecorderStopFailed", Level = LogLevel.Warning,
        Message = "The flight recorder's EventPipe session did not stop cleanly")]
    private static partial void LogStopFailed(ILogger logger, Exception exception);

    /// <summary>Samples copied out of the ring under its lock, with their stacks interned in one table.</summary>
    private struct CutState()
    {
        public readonly List<(long Time, int Thread, int Stack, bool Managed)> Samples = [];
        public readonly List<(long Time, int Thread, int Stack, long Delay)> Waits = [];
        public readonly List<(long Time, int Thread, int Stack, int Type, long Size)> Allocations = [];
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

    /// <summary>One labels array per span, with the scope appended: the trace asked for, or the rest of the process.</summary>
    private sealed class ScopeLabels(string traceId)
    {
        private static readonly ProfileLabel Trace = new(ScopeLabel, "trace");
        private static readonly ProfileLabel Process = new(ScopeLabel, "process");
        private static readonly ProfileLabel[] ProcessOnly = [Process];
        private readonly Dictionary<ProfileLabel[], (ProfileLabel[] Labels, bool InTrace)> _cache = new(ReferenceEqualityComparer.Instance);

        public ProfileLabel[] For(ProfileLabel[]? span, out bool inTrace)
        {
            if (span is null)
            {
                inTrace = false;
                return ProcessOnly;
            }

            if (!_cache.TryGetValue(span, out var entry))
            {
                var belongs = Array.Exists(span, l => l.Key == SpanLabels.TraceId && l.Value == traceId);
                entry = ([.. span, belongs ? Trace : Process], belongs);
                _cache[span] = entry;
            }

            inTrace = entry.InTrace;
            return entry.Labels;
        }
    }
}
