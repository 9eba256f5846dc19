using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;
using TraceProf.Kinds;
using TraceProf.Pipeline;

namespace TraceProf.AspNetCore.Triggers;

/// <summary>
/// The memory-growth trigger (<c>FlightRecorder:HeapGrowthPercent</c>, off by default): reads the heap size the GC
/// recorded after its last full collection (<see cref="GC.GetGCMemoryInfo(GCKind)"/>, free), keeps the first one as
/// the baseline, and when a later full GC's heap is that many percent larger saves a heap snapshot with trigger
/// <c>heap-growth:&lt;pct&gt;%</c>, at most once per <c>HeapSnapshotMinIntervalMinutes</c>. A failure is logged and
/// waits for the interval like a success: a diagnostics trigger never loops on a process that cannot be snapshotted.
/// </summary>
internal sealed class HeapGrowthTrigger(
    IOptions<TraceProfOptions> options,
    CaptureCoordinator coordinator,
    TimeProvider time,
    ILogger<HeapGrowthTrigger> logger) : BackgroundService
{
    private readonly TraceProfOptions _options = options.Value;
    private long _baseline;
    private long _lastGen2;

    /// <summary>Gets how many heap snapshots the trigger saved.</summary>
    public long Saved { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var recorder = _options.FlightRecorder;
        if (recorder.HeapGrowthPercent <= 0)
        {
            return;
        }

        var interval = TimeSpan.FromMinutes(recorder.HeapSnapshotMinIntervalMinutes);
        DateTimeOffset? last = null;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(recorder.HeapGrowthCheckSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var growth = Measure(out var heapBytes);
            if (growth < recorder.HeapGrowthPercent || (last is { } at && time.GetUtcNow() - at < interval))
            {
                continue;
            }

            last = time.GetUtcNow();
            await SnapshotAsync(growth, heapBytes, stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>The growth in percent of the last full GC's heap over the baseline (0 until a second full GC).</summary>
    private long Measure(out long heapBytes)
    {
        heapBytes = 0;
        var gen2 = GC.CollectionCount(2);
        if (gen2 == _lastGen2)
        {
            return 0; // no new full GC: nothing new to compare
        }

        var info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        if (info.Index == 0)
        {
            info = GC.GetGCMemoryInfo(GCKind.Background);
        }

        if (info.Index == 0)
        {
            return 0;
        }

        _lastGen2 = gen2;
        heapBytes = info.HeapSizeBytes - info.FragmentedBytes;
        if (_baseline == 0)
        {
            _baseline = Math.Max(1, heapBytes);
            return 0;
        }

        return (heapBytes - _baseline) * 100 / _baseline;
    }

    private async Task SnapshotAsync(long growth, long heapBytes, CancellationToken cancellationToken)
    {
        var trigger = $"heap-growth:{growth}%";
        if (!coordinator.TryAcquire(CaptureKind.Heap, TimeSpan.FromSeconds(10), out var lease, out _))
        {
            return; // someone is taking one right now
        }

        using (lease)
        {
            try
            {
                var (outcome, stats) = await coordinator.CaptureHeapAsync(
                    ActivityTraceId.CreateRandom(),
                    default,
                    _options.Heap.ToSnapshotOptions(),
                    cancellationToken,
                    trigger).ConfigureAwait(false);
                Saved++;
                Log.HeapGrowthSnapshotSaved(logger, growth, _baseline, heapBytes, outcome.Snapshot.Id, trigger, (long)stats.GcPause.TotalMilliseconds);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // A trigger that fails degrades TraceProf, never the host: logged, retried after the interval.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.HeapGrowthSnapshotFailed(logger, ex, growth);
            }
        }
    }
}
