using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TraceProf.AspNetCore.Diagnostics;

namespace TraceProf.AspNetCore.Triggers;

/// <summary>
/// The runtime triggers (<c>FlightRecorder:Triggers</c>, each off by default): reads the runtime's <c>System.Runtime</c>
/// meter in-process with a <see cref="MeterListener"/> once a second — process CPU, GC pause time, thread-pool queue
/// length — and when <see cref="RuntimeTriggerEvaluator"/> says one fires, saves the flight recorder's whole window as
/// process-wide snapshots (<see cref="FlightRecorderService.SaveProcessWindowAsync"/>). Nothing runs when no trigger is
/// set. The meter is read on a dedicated thread, because the queue trigger must keep measuring while the pool's queue
/// is what is wrong; saving happens on the pool, after it.
/// </summary>
internal sealed class RuntimeTriggers(
    IOptions<TraceProfOptions> options,
    FlightRecorderService recorderService,
    TimeProvider time,
    ILogger<RuntimeTriggers> logger) : BackgroundService
{
    /// <summary>The meter the runtime publishes its own metrics on (.NET 9+).</summary>
    public const string RuntimeMeter = "System.Runtime";

    private const string CpuTime = "dotnet.process.cpu.time";
    private const string GcPauseTime = "dotnet.gc.pause.time";
    private const string QueueLength = "dotnet.thread_pool.queue.length";

    private static readonly TimeSpan ReadInterval = TimeSpan.FromSeconds(1);

    private readonly TraceProfFlightRecorderOptions _recorder = options.Value.FlightRecorder;
    private readonly Channel<string> _fired = Channel.CreateBounded<string>(new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Lock _gate = new();
    private RuntimeTriggerEvaluator? _evaluator;
    private long _saved;

    // Written by the listener's callbacks during RecordObservableInstruments, on the reading thread.
    private double _cpuSeconds;
    private double _gcPauseSeconds;
    private long _queueLength;

    /// <summary>Gets how many times a trigger fired and its window was saved.</summary>
    public long Saved => Interlocked.Read(ref _saved);

    /// <summary>Gets the evaluator's counts: readings evaluated, fires held back by the cooldown (0 when off).</summary>
    public (long Evaluations, long CooledDown) Counts
    {
        get
        {
            lock (_gate)
            {
                return _evaluator is null ? (0, 0) : (_evaluator.Evaluations, _evaluator.CooledDown);
            }
        }
    }

    /// <summary>Gets the figures of the last full window, or null before one (or when off).</summary>
    public (double CpuPercent, double GcPausePercent, long MinQueueLength)? Last
    {
        get
        {
            lock (_gate)
            {
                return _evaluator?.Last;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var triggers = _recorder.Triggers;
        if (!_recorder.Enabled || !triggers.AnyEnabled)
        {
            return;
        }

        if (await recorderService.Started.WaitAsync(stoppingToken).ConfigureAwait(false) is null)
        {
            return; // no recorder, no window to save
        }

        lock (_gate)
        {
            _evaluator = new RuntimeTriggerEvaluator(triggers, Environment.ProcessorCount, time);
        }

        var reader = new Thread(() => ReadLoop(stoppingToken)) { IsBackground = true, Name = "TraceProf runtime triggers" };
        reader.Start();
        await foreach (var trigger in _fired.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                var saved = await recorderService.SaveProcessWindowAsync(trigger, stoppingToken).ConfigureAwait(false);
                if (saved.Count > 0)
                {
                    Interlocked.Increment(ref _saved);
                }

                Log.RuntimeTriggerFired(logger, trigger, triggers.CpuWindowSeconds, string.Join(", ", saved.Select(s => s.Kind + " " + s.Id)), triggers.TriggerCooldownMinutes);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // A trigger that fails degrades TraceProf, never the host: logged, the next follows the cooldown.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.RuntimeTriggerFailed(logger, ex, trigger);
            }
        }
    }

    private void ReadLoop(CancellationToken stoppingToken)
    {
        try
        {
            using var listener = new MeterListener();
            var found = new HashSet<string>(StringComparer.Ordinal);
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RuntimeMeter && instrument.Name is CpuTime or GcPauseTime or QueueLength)
                {
                    lock (found)
                    {
                        found.Add(instrument.Name);
                    }

                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => OnMeasurement(instrument.Name, value));
            listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => OnMeasurement(instrument.Name, value));
            listener.Start();
            string instruments;
            lock (found)
            {
                instruments = string.Join(", ", found.Order(StringComparer.Ordinal));
            }

            Log.RuntimeTriggersListening(logger, instruments, _recorder.Triggers.CpuPercent, _recorder.Triggers.GcPausePercent, _recorder.Triggers.ThreadPoolQueueLength, _recorder.Triggers.CpuWindowSeconds);

            while (!stoppingToken.WaitHandle.WaitOne(ReadInterval))
            {
                _cpuSeconds = 0;
                _gcPauseSeconds = 0;
                _queueLength = 0;
                listener.RecordObservableInstruments();
                var reading = new RuntimeReading(System.Diagnostics.Stopwatch.GetTimestamp(), _cpuSeconds, _gcPauseSeconds, _queueLength);
                IReadOnlyList<(string Name, string Trigger)> fired;
                lock (_gate)
                {
                    fired = _evaluator!.Add(reading);
                }

                foreach (var (_, trigger) in fired)
                {
                    _fired.Writer.TryWrite(trigger);
                }
            }
        }
#pragma warning disable CA1031 // The reading thread must never take the process down: logged, the triggers stop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.RuntimeTriggerFailed(logger, ex, "(meter reading)");
        }
    }

    private void OnMeasurement(string instrument, double value)
    {
        switch (instrument)
        {
            case CpuTime:
                _cpuSeconds += value; // one measurement per cpu.mode (user, system)
                break;
            case GcPauseTime:
                _gcPauseSeconds += value;
                break;
            case QueueLength:
                _queueLength += (long)value;
                break;
            default:
                break;
        }
    }
}
