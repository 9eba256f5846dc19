using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Kinds;
using TraceProf.Kinds.Cpu;
using TraceProf.Kinds.Heap;
using TraceProf.Kinds.Tasks;
using TraceProf.Kinds.Threads;
using TraceProf.Parsing;
using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf.Pipeline;

/// <summary>
/// Runs one on-demand capture end to end — capture, parse (decode, attribute, build), then the
/// <see cref="SnapshotWriter"/> (encode once, store) — and owns the concurrency slots: one capture per kind at a
/// time, a second caller is refused (not queued) with a retry time.
/// </summary>
internal sealed partial class CaptureCoordinator
{
    private readonly ICaptureSource _source;
    private readonly ISnapshotStore _store;
    private readonly CaptureCoordinatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SnapshotWriter _writer;

    private readonly ConcurrentDictionary<CaptureKind, Slot> _slots = new();

    /// <summary>Creates a coordinator.</summary>
    /// <param name="source">Where captures come from.</param>
    /// <param name="store">Where snapshots go.</param>
    /// <param name="options">Names and folders.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="meterFactory">The host's meter factory, or null for a meter of our own.</param>
    public CaptureCoordinator(
        ICaptureSource source,
        ISnapshotStore store,
        CaptureCoordinatorOptions options,
        TimeProvider? timeProvider = null,
        ILogger<CaptureCoordinator>? logger = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _source = source;
        _store = store;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _writer = new SnapshotWriter(store, options.TempDirectory, new TraceProfMetrics(meterFactory), _time, _logger);
    }

    /// <summary>Gets the names and folders snapshots are written with.</summary>
    public CaptureCoordinatorOptions Options => _options;

    /// <summary>Tries to take the slot of a capture kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <param name="expectedDuration">How long the caller will hold it, to tell later callers when to retry.</param>
    /// <param name="lease">The slot, released on dispose.</param>
    /// <param name="retryAfter">When the slot is taken: how long until it is expected to be free.</param>
    /// <returns>Whether the slot was free.</returns>
    public bool TryAcquire(CaptureKind kind, TimeSpan expectedDuration, out IDisposable? lease, out TimeSpan retryAfter)
    {
        var slot = _slots.GetOrAdd(kind, static _ => new Slot());
        lock (slot)
        {
            var now = _time.GetUtcNow();
            if (slot.Busy)
            {
                lease = null;
                retryAfter = slot.ExpectedEnd > now ? slot.ExpectedEnd - now : TimeSpan.FromSeconds(1);
                return false;
            }

            slot.Busy = true;

            // Parsing and storing follow the capture itself; a couple of seconds is a fair margin for a retry hint.
            slot.ExpectedEnd = now + expectedDuration + TimeSpan.FromSeconds(2);
            lease = new Lease(slot);
            retryAfter = TimeSpan.Zero;
            return true;
        }
    }

    /// <summary>
    /// Captures, parses, encodes and stores. On cancellation or failure nothing is stored and every temporary
    /// file is deleted.
    /// </summary>
    /// <param name="request">What to capture and under which trace.</param>
    /// <param name="cancellationToken">Cancels everything (the client went away, or the host is stopping).</param>
    /// <returns>The stored snapshot, its profile and its pprof bytes.</returns>
    public async Task<CaptureOutcome> CaptureAsync(CaptureRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var snapshotId = SnapshotIds.NewId(_time);
        var nettracePath = Path.Combine(_options.TempDirectory, snapshotId + ".nettrace.tmp");
        var traceId = request.TraceId.ToHexString();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            CaptureResult captured;
            SpanTimeline timeline;
            var perf = request.Kind == CaptureKind.Cpu && UsesPerf(request);
            PerfCpuSamples? perfSamples = null;
            PerfCpuFigures? perfFigures = null;
            using (TimelineRecorder.Start())
            {
                var from = Stopwatch.GetTimestamp();
                if (perf)
                {
                    // The kernel samples CPU; a light EventPipe session (no sampler, nothing suspended) only names methods.
                    perfSamples = new PerfCpuSamples();
                    var sampler = PerfEventCpuSampler.Start(_options.PerfSampler, perfSamples, logger: _logger);
                    try
                    {
                        captured = await _source.CaptureAsync(KindCaptures.PerfCpuSession, request.Duration, nettracePath, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        sampler.Dispose();
                    }

                    perfFigures = new PerfCpuFigures(sampler.Period, sampler.LostSamples, sampler.ThreadsAttached, sampler.ThreadsFailed, sampler.ThreadsOverCap, NativeFrameNames.OfThisProcess()) { DroppedOverCap = perfSamples.Dropped };
                }
                else
                {
                    captured = await _source.CaptureAsync(request.Kind, request.Duration, nettracePath, cancellationToken).ConfigureAwait(false);
                }

                timeline = TimelineRecorder.Snapshot(from, Stopwatch.GetTimestamp());
            }

            var captureElapsed = stopwatch.Elapsed;
            var parseOptions = new ParseOptions
            {
                TempDirectory = _options.TempDirectory,
                ThreadName = ThreadNames.OfThisProcess,
                ExceptionMessages = _options.ExceptionMessages,
                RawFrames = request.RawFrames,
            };
            var attributor = new SampleAttributor(timeline, [new ProfileLabel("capture_trace_id", traceId)], threadName: parseOptions.ThreadName);
            var profile = perfSamples is not null
                ? await Task.Run(() => perfSamples.Build(nettracePath, perfFigures!, captured.StartedAt, captured.Duration, parseOptions, attributor, cancellationToken), cancellationToken).ConfigureAwait(false)
                : await Task.Run(() => ProfileParser.Parse(request.Kind, nettracePath, parseOptions, attributor, ProfileParser.CpuParser.Streaming, cancellationToken), cancellationToken).ConfigureAwait(false);

            var parseElapsed = stopwatch.Elapsed - captureElapsed;
            var info = new SnapshotInfo
            {
                Id = snapshotId,
                TraceId = traceId,
                SpanId = request.SpanId == default ? null : request.SpanId.ToHexString(),
                Kind = CaptureKinds.Name(request.Kind),
                Trigger = request.Trigger,
                ServiceName = _options.ServiceName,
                ServiceInstanceId = _options.ServiceInstanceId,
                HostName = _options.HostName,
                StartedAt = captured.StartedAt,
                Duration = captured.Duration,
                ContainedTraceIds = ContainedTraces(profile, traceId),
            };
            var keepNettrace = request.KeepNettrace || KindCatalog.Get(request.Kind).StoresNettrace;
            if (!keepNettrace)
            {
                info = info with { NettraceOmitted = NettraceNotKept(info.Kind, nettracePath) };
            }

            var (stored, pprof) = await _writer.WriteAsync(info, profile, keepNettrace ? nettracePath : null, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                return new CaptureOutcome(info with { SampleCount = SnapshotWriter.SampleCountOf(profile) }, profile, pprof) { Stored = false };
            }

            LogCaptured(_logger, stored.Kind, stored.Id, traceId, stored.NettraceBytes, stored.ProfileBytes, (long)captureElapsed.TotalMilliseconds, (long)parseElapsed.TotalMilliseconds);
            return new CaptureOutcome(stored, profile, pprof);
        }
        finally
        {
            // The store was handed copies; the original always goes here.
            SnapshotWriter.TryDelete(nettracePath);
        }
    }

    private static string NettraceNotKept(string kind, string nettracePath)
    {
        long bytes;
        try
        {
            bytes = new FileInfo(nettracePath).Length;
        }
        catch (IOException)
        {
            bytes = -1;
        }

        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"A {kind} snapshot keeps its stacks (the profile); its raw capture ({(bytes < 0 ? "size unknown" : $"{bytes} bytes")}, almost all the runtime's method rundown) is stored only when the capture is asked for with format=nettrace.");
    }

    /// <summary>
    /// Takes a heap snapshot of this process (one blocking full GC and a heap walk) and stores it as kind
    /// <c>heap</c> under the caller's trace; the row's status is <c>incomplete</c> when the dump lost objects (the
    /// profile's comment says how many).
    /// </summary>
    /// <param name="traceId">The trace of the request that asked.</param>
    /// <param name="spanId">That request's span, or default.</param>
    /// <param name="options">The heap snapshot's bounds.</param>
    /// <param name="cancellationToken">Cancels the snapshot (the session is stopped and released).</param>
    /// <param name="trigger">What asked for it: <c>request</c>, or a trigger such as <c>heap-growth:50%</c>.</param>
    /// <returns>The stored snapshot (or not, when the store kept failing), its profile and pprof, and the snapshot's figures.</returns>
    public async Task<(CaptureOutcome Outcome, HeapSnapshotStats Stats)> CaptureHeapAsync(ActivityTraceId traceId, ActivitySpanId spanId, HeapSnapshotOptions options, CancellationToken cancellationToken, string trigger = "request")
    {
        var snapshot = await new HeapSnapshotCapture(options, _time).CaptureAsync(cancellationToken).ConfigureAwait(false);
        var info = new SnapshotInfo
        {
            Id = SnapshotIds.NewId(_time),
            TraceId = traceId.ToHexString(),
            SpanId = spanId == default ? null : spanId.ToHexString(),
            Kind = CaptureKinds.Name(CaptureKind.Heap),
            Trigger = trigger,
            Status = snapshot.Stats.Complete ? "complete" : "incomplete",
            ServiceName = _options.ServiceName,
            ServiceInstanceId = _options.ServiceInstanceId,
            HostName = _options.HostName,
            StartedAt = snapshot.Stats.StartedAt,
            Duration = snapshot.Stats.Elapsed,
        };
        var (stored, pprof) = await _writer.WriteAsync(info, snapshot.Profile, nettracePath: null, cancellationToken).ConfigureAwait(false);
        var outcome = stored is null
            ? new CaptureOutcome(info with { SampleCount = snapshot.Profile.Samples.Count }, snapshot.Profile, pprof) { Stored = false }
            : new CaptureOutcome(stored, snapshot.Profile, pprof);
        return (outcome, snapshot.Stats);
    }

    /// <summary>
    /// Takes a tasks snapshot (the pending async call chains, read from one heap snapshot) and stores it as kind
    /// <c>tasks</c> under the caller's trace, like <see cref="CaptureHeapAsync"/>.
    /// </summary>
    /// <param name="traceId">The trace of the request that asked.</param>
    /// <param name="spanId">That request's span, or default.</param>
    /// <param name="options">The heap snapshot's bounds.</param>
    /// <param name="maxChains">The most chains in the profile.</param>
    /// <param name="cancellationToken">Cancels the snapshot.</param>
    /// <returns>The stored snapshot (or not), its profile and pprof, and the heap snapshot's figures.</returns>
    public async Task<(CaptureOutcome Outcome, TasksSnapshot Snapshot)> CaptureTasksAsync(ActivityTraceId traceId, ActivitySpanId spanId, HeapSnapshotOptions options, int maxChains, CancellationToken cancellationToken)
    {
        var snapshot = await new TasksSnapshotCapture(options, _time).CaptureAsync(maxChains, cancellationToken).ConfigureAwait(false);
        var info = new SnapshotInfo
        {
            Id = SnapshotIds.NewId(_time),
            TraceId = traceId.ToHexString(),
            SpanId = spanId == default ? null : spanId.ToHexString(),
            Kind = CaptureKinds.Name(CaptureKind.Tasks),
            Trigger = "request",
            Status = snapshot.Stats.Complete ? "complete" : "incomplete",
            ServiceName = _options.ServiceName,
            ServiceInstanceId = _options.ServiceInstanceId,
            HostName = _options.HostName,
            StartedAt = snapshot.Stats.StartedAt,
            Duration = snapshot.Stats.Elapsed,
            ContainedTraceIds = ContainedTraces(snapshot.Profile, traceId.ToHexString()),
        };
        var (stored, pprof) = await _writer.WriteAsync(info, snapshot.Profile, nettracePath: null, cancellationToken).ConfigureAwait(false);
        var outcome = stored is null
            ? new CaptureOutcome(info with { SampleCount = snapshot.Profile.Samples.Count }, snapshot.Profile, pprof) { Stored = false }
            : new CaptureOutcome(stored, snapshot.Profile, pprof);
        return (outcome, snapshot);
    }

    /// <summary>
    /// Encodes a profile made elsewhere (the flight recorder's cut of a failed request) and stores it as a snapshot
    /// with only a pprof artifact, with the same bounded retries as a capture. Returns null when the store kept
    /// failing and the snapshot was dropped (counted in <see cref="DroppedSnapshots"/> and logged).
    /// </summary>
    /// <param name="info">The metadata; <see cref="SnapshotInfo.SampleCount"/> is taken from the profile.</param>
    /// <param name="profile">The profile.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored metadata, or null when dropped.</returns>
    public async Task<SnapshotInfo?> StoreProfileAsync(SnapshotInfo info, Profile profile, CancellationToken cancellationToken) =>
        (await _writer.WriteAsync(info, profile, nettracePath: null, cancellationToken).ConfigureAwait(false)).Stored;

    /// <summary>Gets how many snapshots could not be stored (the store kept failing) and were dropped.</summary>
    public long DroppedSnapshots => _writer.DroppedSnapshots;

    /// <summary>Whether a CPU capture samples with perf_event: the request's choice, else the configured sampler.</summary>
    /// <exception cref="CaptureUnavailableException">The request asks for perf where it is unavailable.</exception>
    private bool UsesPerf(CaptureRequest request)
    {
        if (request.UsePerf == true && !_options.CpuSampler.UsePerf)
        {
            throw new CaptureUnavailableException("sampler=perf was asked for, but this process samples CPU with EventPipe: " + _options.CpuSampler.Reason);
        }

        return request.UsePerf ?? _options.CpuSampler.UsePerf;
    }

    /// <summary>The other traces whose samples a profile holds (a process-wide capture holds many).</summary>
    internal static string[] ContainedTraces(Profile profile, string storedUnder) =>
        [.. profile.Samples
            .SelectMany(s => s.Labels)
            .Where(l => l.Key == SpanLabels.TraceId && l.Value != storedUnder)
            .Select(l => l.Value)
            .Distinct(StringComparer.Ordinal)
            .Where(TraceIds.IsValid)
            .Take(SnapshotInfo.MaxContainedTraceIds)];

    [LoggerMessage(EventId = 1, EventName = "CaptureStored", Level = LogLevel.Information,
        Message = "Stored {Kind} snapshot {SnapshotId} for trace {TraceId}: nettrace {NettraceBytes} bytes, pprof {ProfileBytes} bytes, capture {CaptureMs} ms, parse+encode {ParseMs} ms")]
    private static partial void LogCaptured(ILogger logger, string kind, string snapshotId, string traceId, long nettraceBytes, long profileBytes, long captureMs, long parseMs);

    private sealed class Slot
    {
        public bool Busy { get; set; }

        public DateTimeOffset ExpectedEnd { get; set; }
    }

    private sealed class Lease(Slot slot) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                lock (slot)
                {
                    slot.Busy = false;
                }
            }
        }
    }
}
