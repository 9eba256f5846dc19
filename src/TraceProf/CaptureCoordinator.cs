using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Parsing;
using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf;

/// <summary>
/// Runs one on-demand capture end to end — capture, parse, encode, store — and owns the concurrency slots:
/// one capture per kind at a time, a second caller is refused (not queued) with a retry time.
/// </summary>
public sealed partial class CaptureCoordinator
{
    private readonly ICaptureSource _source;
    private readonly ISnapshotStore _store;
    private readonly CaptureCoordinatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private const int StoreAttempts = 3;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly Meter TraceProfMeter = new("TraceProf");
    private static readonly Counter<long> SnapshotsDropped = TraceProfMeter.CreateCounter<long>(
        "traceprof.snapshots.dropped", unit: "{snapshot}", description: "Snapshots captured but not stored because the store kept failing.");

    private readonly ConcurrentDictionary<CaptureKind, Slot> _slots = new();
    private long _dropped;

    /// <summary>Creates a coordinator.</summary>
    /// <param name="source">Where captures come from.</param>
    /// <param name="store">Where snapshots go.</param>
    /// <param name="options">Names and folders.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger.</param>
    public CaptureCoordinator(
        ICaptureSource source,
        ISnapshotStore store,
        CaptureCoordinatorOptions options,
        TimeProvider? timeProvider = null,
        ILogger<CaptureCoordinator>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _source = source;
        _store = store;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Directory.CreateDirectory(options.TempDirectory);
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
    /// <returns>The stored snapshot and its profile.</returns>
    public async Task<CaptureOutcome> CaptureAsync(CaptureRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var snapshotId = SnapshotIds.NewId(_time);
        var nettracePath = Path.Combine(_options.TempDirectory, snapshotId + ".nettrace.tmp");
        var pprofPath = Path.Combine(_options.TempDirectory, snapshotId + ".pb.gz.tmp");
        var traceId = request.TraceId.ToHexString();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            CaptureResult captured;
            SpanTimeline timeline;
            using (TimelineRecorder.Start())
            {
                var from = Stopwatch.GetTimestamp();
                captured = await _source.CaptureAsync(request.Kind, request.Duration, nettracePath, cancellationToken).ConfigureAwait(false);
                timeline = TimelineRecorder.Snapshot(from, Stopwatch.GetTimestamp());
            }

            var captureElapsed = stopwatch.Elapsed;

            var parseOptions = new ParseOptions
            {
                TempDirectory = _options.TempDirectory,
                ExtraLabels = [new ProfileLabel("capture_trace_id", traceId)],
                ThreadName = ThreadNames.OfThisProcess,
                Timeline = timeline,
            };
            var profile = await Task.Run(() => ProfileParser.Parse(request.Kind, nettracePath, parseOptions, cancellationToken), cancellationToken).ConfigureAwait(false);
            await using (var pprof = File.Create(pprofPath))
            {
                PprofEncoder.Write(profile, pprof);
            }

            var parseElapsed = stopwatch.Elapsed - captureElapsed;
            var info = new SnapshotInfo
            {
                Id = snapshotId,
                TraceId = traceId,
                SpanId = request.SpanId == default ? null : request.SpanId.ToHexString(),
                Kind = CaptureKinds.Name(request.Kind),
                Trigger = "request",
                ServiceName = _options.ServiceName,
                ServiceInstanceId = _options.ServiceInstanceId,
                HostName = _options.HostName,
                StartedAt = captured.StartedAt,
                Duration = captured.Duration,
                SampleCount = profile.Samples.Count,
                ContainedTraceIds = ContainedTraces(profile, traceId),
            };
            var stored = await StoreWithRetriesAsync(info, [(SnapshotArtifact.Pprof, pprofPath), (SnapshotArtifact.Nettrace, nettracePath)], cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                return new CaptureOutcome(info, profile) { Stored = false };
            }

            LogCaptured(_logger, stored.Kind, stored.Id, traceId, stored.NettraceBytes, stored.ProfileBytes, (long)captureElapsed.TotalMilliseconds, (long)parseElapsed.TotalMilliseconds);
            return new CaptureOutcome(stored, profile);
        }
        finally
        {
            // The store was handed copies; the originals always go here.
            TryDelete(nettracePath);
            TryDelete(pprofPath);
        }
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
    public async Task<SnapshotInfo?> StoreProfileAsync(SnapshotInfo info, Profile profile, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(profile);
        var pprofPath = Path.Combine(_options.TempDirectory, info.Id + ".pb.gz.tmp");
        try
        {
            await using (var pprof = File.Create(pprofPath))
            {
                PprofEncoder.Write(profile, pprof);
            }

            return await StoreWithRetriesAsync(info with { SampleCount = profile.Samples.Count }, [(SnapshotArtifact.Pprof, pprofPath)], cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            TryDelete(pprofPath);
        }
    }

    /// <summary>Gets how many snapshots could not be stored (the store kept failing) and were dropped.</summary>
    public long DroppedSnapshots => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Stores the snapshot, retrying a failing store (a database outage) a bounded number of times; then drops
    /// it, counts and logs the drop, and returns null. Each attempt hands the store fresh copies, because the
    /// store takes its files over even when it fails.
    /// </summary>
    private async Task<SnapshotInfo?> StoreWithRetriesAsync(SnapshotInfo info, (SnapshotArtifact Artifact, string Path)[] files, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var artifacts = files.ToDictionary(f => f.Artifact, f => CopyForAttempt(f.Path, attempt));
            try
            {
                return await _store.AddAsync(info, artifacts, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= StoreAttempts)
                {
                    Interlocked.Increment(ref _dropped);
                    SnapshotsDropped.Add(1);
                    LogDropped(_logger, ex, info.Id, info.TraceId, attempt);
                    return null;
                }

                LogStoreRetry(_logger, ex, info.Id, attempt);
                await Task.Delay(RetryDelay * attempt, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static string CopyForAttempt(string path, int attempt)
    {
        var copy = $"{path}.{attempt}";
        File.Copy(path, copy, overwrite: true);
        return copy;
    }

    private static string[] ContainedTraces(Profile profile, string storedUnder) =>
        [.. profile.Samples
            .SelectMany(s => s.Labels)
            .Where(l => l.Key == SpanLabels.TraceId && l.Value != storedUnder)
            .Select(l => l.Value)
            .Distinct(StringComparer.Ordinal)
            .Where(TraceIds.IsValid)
            .Take(SnapshotInfo.MaxContainedTraceIds)];

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the store's start-up sweep removes stale temporary files.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [LoggerMessage(EventId = 2, EventName = "SnapshotStoreRetry", Level = LogLevel.Warning,
        Message = "Storing snapshot {SnapshotId} failed (attempt {Attempt}); retrying")]
    private static partial void LogStoreRetry(ILogger logger, Exception exception, string snapshotId, int attempt);

    [LoggerMessage(EventId = 3, EventName = "SnapshotDropped", Level = LogLevel.Error,
        Message = "Snapshot {SnapshotId} of trace {TraceId} was dropped after {Attempts} failed attempts to store it")]
    private static partial void LogDropped(ILogger logger, Exception exception, string snapshotId, string traceId, int attempts);

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
