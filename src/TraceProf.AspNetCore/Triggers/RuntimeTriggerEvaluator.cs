using System.Diagnostics;
using System.Globalization;

namespace TraceProf.AspNetCore.Triggers;

/// <summary>One reading of the runtime's meter: when (Stopwatch clock) and the process's totals then.</summary>
/// <param name="Timestamp">When it was read (Stopwatch clock: the CPU and pause totals are real time).</param>
/// <param name="CpuSeconds">Process CPU time so far, user plus system.</param>
/// <param name="GcPauseSeconds">Time paused in GC so far.</param>
/// <param name="QueueLength">Thread-pool work items queued now.</param>
internal readonly record struct RuntimeReading(long Timestamp, double CpuSeconds, double GcPauseSeconds, long QueueLength);

/// <summary>
/// Decides from successive <see cref="RuntimeReading"/>s whether a runtime trigger fires: CPU share of all cores and
/// GC pause share of wall time over the window, and a thread-pool queue at or over the threshold in every reading of
/// the window. A full window of readings is needed first; each trigger then waits its cooldown, on the injected
/// <see cref="TimeProvider"/> (the measurements themselves are on the Stopwatch clock, like the runtime's totals).
/// Bounded: it keeps the readings of one window.
/// </summary>
internal sealed class RuntimeTriggerEvaluator
{
    private readonly TraceProfRuntimeTriggerOptions _options;
    private readonly int _processors;
    private readonly TimeProvider _time;
    private readonly long _windowTicks;
    private readonly TimeSpan _cooldown;
    private readonly Queue<RuntimeReading> _readings = new();
    private readonly Dictionary<string, DateTimeOffset> _lastFired = new(StringComparer.Ordinal);

    public RuntimeTriggerEvaluator(TraceProfRuntimeTriggerOptions options, int processorCount, TimeProvider time)
    {
        _options = options;
        _processors = Math.Max(1, processorCount);
        _time = time;
        _windowTicks = options.CpuWindowSeconds * Stopwatch.Frequency;
        _cooldown = TimeSpan.FromMinutes(options.TriggerCooldownMinutes);
    }

    /// <summary>Gets how many times a trigger was over its threshold but in its cooldown.</summary>
    public long CooledDown { get; private set; }

    /// <summary>Gets how many readings were evaluated.</summary>
    public long Evaluations { get; private set; }

    /// <summary>Gets the last figures measured over a full window: CPU %, GC pause %, shortest queue.</summary>
    public (double CpuPercent, double GcPausePercent, long MinQueueLength)? Last { get; private set; }

    /// <summary>Adds a reading; returns the triggers that fire now (name, trigger text), usually none.</summary>
    /// <param name="reading">The reading.</param>
    /// <returns>The triggers that fire.</returns>
    public IReadOnlyList<(string Name, string Trigger)> Add(RuntimeReading reading)
    {
        Evaluations++;
        _readings.Enqueue(reading);

        // Keep the newest reading at or before the window's start as its base: the window is then always full.
        while (_readings.Count > 2 && reading.Timestamp - ElementAfterFirst().Timestamp >= _windowTicks)
        {
            _readings.Dequeue();
        }

        var first = _readings.Peek();
        var span = reading.Timestamp - first.Timestamp;
        if (span < _windowTicks || span <= 0)
        {
            return [];
        }

        var seconds = (double)span / Stopwatch.Frequency;
        var cpu = 100 * (reading.CpuSeconds - first.CpuSeconds) / (seconds * _processors);
        var gc = 100 * (reading.GcPauseSeconds - first.GcPauseSeconds) / seconds;
        var minQueue = _readings.Skip(1).Min(r => r.QueueLength);
        Last = (cpu, gc, minQueue);

        var fired = new List<(string, string)>();
        if (_options.CpuPercent > 0 && cpu >= _options.CpuPercent)
        {
            Fire("cpu", string.Create(CultureInfo.InvariantCulture, $"cpu:{(int)Math.Round(cpu)}%"), fired);
        }

        if (_options.GcPausePercent > 0 && gc >= _options.GcPausePercent)
        {
            Fire("gc-pause", string.Create(CultureInfo.InvariantCulture, $"gc-pause:{(int)Math.Round(gc)}%"), fired);
        }

        if (_options.ThreadPoolQueueLength > 0 && minQueue >= _options.ThreadPoolQueueLength)
        {
            Fire("threadpool-queue", string.Create(CultureInfo.InvariantCulture, $"threadpool-queue:{minQueue}"), fired);
        }

        return fired;
    }

    private RuntimeReading ElementAfterFirst() => _readings.ElementAt(1);

    private void Fire(string name, string trigger, List<(string, string)> fired)
    {
        var now = _time.GetUtcNow();
        if (_lastFired.TryGetValue(name, out var last) && now - last < _cooldown)
        {
            CooledDown++;
            return;
        }

        _lastFired[name] = now;
        fired.Add((name, trigger));
    }
}
