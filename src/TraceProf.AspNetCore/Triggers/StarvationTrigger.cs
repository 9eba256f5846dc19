using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.Kinds;
using TraceProf.Pipeline;
using TraceProf.Recording;

namespace TraceProf.AspNetCore.Triggers;

/// <summary>
/// The thread-pool starvation trigger (<c>FlightRecorder:OnThreadPoolStarvation</c>, on by default): the flight
/// recorder's session reports the pool's injections for blocked workers (<see cref="ThreadPoolStarvation"/>); on one,
/// a <c>block</c> capture (what the workers block on, with the requests' span labels and <c>threadpool=true</c>) and a
/// <c>threads</c> capture (every stack now) are stored with trigger <c>threadpool:starvation</c>, at most once per
/// <c>StarvationSnapshotMinIntervalSeconds</c>. The block capture is on demand rather than cut from the recorder
/// because the recorder keeps waits only when asked to (<c>Kinds</c> with <c>waits</c>); a starving service keeps
/// starting new blocking waits, so two seconds see them. Never blocks the recorder's reader (the event only signals),
/// and a failure is logged and waits for the interval.
/// </summary>
internal sealed class StarvationTrigger(
    IOptions<TraceProfOptions> options,
    FlightRecorderService recorderService,
    CaptureCoordinator coordinator,
    TimeProvider time,
    TraceProfAspNetCoreMetrics metrics,
    ILogger<StarvationTrigger> logger) : BackgroundService
{
    /// <summary>The trigger stored on the snapshots.</summary>
    public const string Trigger = "threadpool:starvation";

    /// <summary>How long the block capture records.</summary>
    public static readonly TimeSpan BlockCaptureDuration = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan ThreadsCaptureDuration = TimeSpan.FromMilliseconds(200);

    private readonly TraceProfFlightRecorderOptions _options = options.Value.FlightRecorder;
    private readonly Channel<ThreadPoolStarvationEventArgs> _signals = Channel.CreateBounded<ThreadPoolStarvationEventArgs>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private long _saved;
    private long _skipped;

    /// <summary>Gets how many starvation snapshot pairs were taken.</summary>
    public long Saved => Interlocked.Read(ref _saved);

    /// <summary>Gets how many injections came within the minimum interval of the last snapshot (not captured).</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>Gets when the last snapshot pair was started, or null.</summary>
    public DateTimeOffset? LastSnapshotAt { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled || !_options.OnThreadPoolStarvation)
        {
            return;
        }

        var recorder = await recorderService.Started.WaitAsync(stoppingToken).ConfigureAwait(false);
        if (recorder is null)
        {
            return;
        }

        var interval = TimeSpan.FromSeconds(_options.StarvationSnapshotMinIntervalSeconds);
        recorder.PoolStarvation.Detected += OnDetected;
        try
        {
            await foreach (var signal in _signals.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = time.GetUtcNow();
                if (LastSnapshotAt is { } last && now - last < interval)
                {
                    Interlocked.Increment(ref _skipped);
                    continue;
                }

                LastSnapshotAt = now;
                await SnapshotAsync(signal, stoppingToken).ConfigureAwait(false);
            }
        }
        finally
        {
            recorder.PoolStarvation.Detected -= OnDetected;
        }
    }

    // On the recorder's reader thread: only signal (a full channel means a snapshot is already due).
    private void OnDetected(object? sender, ThreadPoolStarvationEventArgs e) => _signals.Writer.TryWrite(e);

    private async Task SnapshotAsync(ThreadPoolStarvationEventArgs signal, CancellationToken cancellationToken)
    {
        var traceId = ActivityTraceId.CreateRandom();
        var block = await CaptureAsync(CaptureKind.Block, BlockCaptureDuration, traceId, cancellationToken).ConfigureAwait(false);
        var threads = await CaptureAsync(CaptureKind.Threads, ThreadsCaptureDuration, traceId, cancellationToken).ConfigureAwait(false);
        if (block is null && threads is null)
        {
            return;
        }

        Interlocked.Increment(ref _saved);
        metrics.SnapshotStored(Stopwatch.GetElapsedTime(signal.Timestamp));
        Log.StarvationSnapshotSaved(logger, signal.Reason.ToString(), signal.NewWorkerThreadCount, block, threads, Trigger);
    }

    private async Task<string?> CaptureAsync(CaptureKind kind, TimeSpan duration, ActivityTraceId traceId, CancellationToken cancellationToken)
    {
        if (!coordinator.TryAcquire(kind, duration, out var lease, out _))
        {
            return null; // someone is capturing this kind right now
        }

        using (lease)
        {
            try
            {
                var outcome = await coordinator.CaptureAsync(new CaptureRequest(kind, duration, traceId, default) { Trigger = Trigger }, cancellationToken).ConfigureAwait(false);
                return outcome.Stored ? outcome.Snapshot.Id : null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // A trigger that fails degrades TraceProf, never the host: logged, retried after the interval.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.StarvationSnapshotFailed(logger, ex, CaptureKinds.Name(kind));
                return null;
            }
        }
    }
}
