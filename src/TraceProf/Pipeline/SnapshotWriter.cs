using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TraceProf.Encoding;
using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf.Pipeline;

/// <summary>
/// The last stage of both pipelines (on-demand captures and the flight recorder's cuts): encodes a profile as
/// pprof <b>once</b>, stores it (with the raw capture, when there is one) with bounded retries, and hands the
/// encoded bytes back so the caller answers with exactly what was stored.
/// </summary>
internal sealed partial class SnapshotWriter
{
    private const int StoreAttempts = 3;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);

    private readonly ISnapshotStore _store;
    private readonly string _tempDirectory;
    private readonly TraceProfMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _dropped;

    /// <summary>Creates a writer.</summary>
    /// <param name="store">Where snapshots go.</param>
    /// <param name="tempDirectory">Where encoded files wait for the store.</param>
    /// <param name="metrics">The engine's instruments.</param>
    /// <param name="timeProvider">The clock (retry delays).</param>
    /// <param name="logger">The logger.</param>
    public SnapshotWriter(ISnapshotStore store, string tempDirectory, TraceProfMetrics metrics, TimeProvider timeProvider, ILogger? logger)
    {
        _store = store;
        _tempDirectory = tempDirectory;
        _metrics = metrics;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        Directory.CreateDirectory(tempDirectory);
    }

    /// <summary>Gets how many snapshots could not be stored (the store kept failing) and were dropped.</summary>
    public long DroppedSnapshots => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Encodes and stores. Returns the encoded pprof and the stored metadata, or null metadata when the store kept
    /// failing and the snapshot was dropped (counted and logged).
    /// </summary>
    /// <param name="info">The metadata; <see cref="SnapshotInfo.SampleCount"/> is taken from the profile.</param>
    /// <param name="profile">The profile.</param>
    /// <param name="nettracePath">The raw capture to store beside it, or null.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored metadata (or null) and the pprof bytes.</returns>
    public async Task<(SnapshotInfo? Stored, ReadOnlyMemory<byte> Pprof)> WriteAsync(SnapshotInfo info, Profile profile, string? nettracePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(profile);
        var pprof = Encode(profile);
        var pprofPath = Path.Combine(_tempDirectory, info.Id + ".pb.gz.tmp");
        try
        {
            await File.WriteAllBytesAsync(pprofPath, pprof, cancellationToken).ConfigureAwait(false);
            (SnapshotArtifact, string)[] files = nettracePath is null
                ? [(SnapshotArtifact.Pprof, pprofPath)]
                : [(SnapshotArtifact.Pprof, pprofPath), (SnapshotArtifact.Nettrace, nettracePath)];
            var stored = await StoreWithRetriesAsync(info with { SampleCount = SampleCountOf(profile) }, files, cancellationToken).ConfigureAwait(false);
            return (stored, pprof);
        }
        finally
        {
            TryDelete(pprofPath);
        }
    }

    /// <summary>
    /// What a snapshot's <see cref="SnapshotInfo.SampleCount"/> says: the total of the profile's first value column
    /// when its unit is <c>count</c> (CPU: sampler events, <c>samples/count</c>; contention: waits,
    /// <c>contentions/count</c>; allocations: estimated objects, <c>alloc_objects/count</c>; threads: threads), else
    /// the number of distinct stacks-with-labels. Never the number of pprof rows for a counted kind: one row sums
    /// every event with the same stack and labels.
    /// </summary>
    /// <param name="profile">The profile.</param>
    /// <returns>The count.</returns>
    internal static long SampleCountOf(Profile profile) =>
        profile.SampleTypes[0].Unit == "count" ? profile.Total(0) : profile.Samples.Count;

    /// <summary>The pprof encoding of a profile.</summary>
    /// <param name="profile">The profile.</param>
    /// <returns>gzip'ed profile.proto bytes.</returns>
    public static byte[] Encode(Profile profile)
    {
        using var buffer = new MemoryStream();
        PprofEncoder.Write(profile, buffer);
        return buffer.ToArray();
    }

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
                    _metrics.SnapshotsDropped.Add(1);
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

    /// <summary>Deletes a temporary file, best effort: the store's start-up sweep removes what is left.</summary>
    /// <param name="path">The file.</param>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
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
}
