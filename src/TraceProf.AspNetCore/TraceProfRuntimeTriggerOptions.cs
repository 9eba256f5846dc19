using System.ComponentModel.DataAnnotations;

namespace TraceProf.AspNetCore;

/// <summary>
/// Runtime triggers: when the process (not one request) goes wrong, the flight recorder's whole window is saved as
/// process-wide snapshots. Read in-process from the runtime's <c>System.Runtime</c> meter (a <c>MeterListener</c>, no
/// EventPipe session); each is off by default. Bound from <c>TraceProf:FlightRecorder:Triggers</c>.
/// </summary>
public sealed class TraceProfRuntimeTriggerOptions
{
    /// <summary>The default of <see cref="CpuWindowSeconds"/>.</summary>
    public const int DefaultCpuWindowSeconds = 10;

    /// <summary>The default of <see cref="TriggerCooldownMinutes"/>.</summary>
    public const int DefaultTriggerCooldownMinutes = 10;

    /// <summary>
    /// Gets or sets the process CPU, in percent of all cores together, over <see cref="CpuWindowSeconds"/> at or over
    /// which the recorder's window is saved with trigger <c>cpu:&lt;pct&gt;%</c> (<c>dotnet.process.cpu.time</c>, user plus
    /// system). Default value: 0 (off). Range: 0 to 100.
    /// </summary>
    [Range(0, 100)]
    public int CpuPercent { get; set; }

    /// <summary>
    /// Gets or sets the window the three triggers measure over, in seconds (the meter is read once a second). Default
    /// value: 10. Range: 1 to 600.
    /// </summary>
    [Range(1, 600)]
    public int CpuWindowSeconds { get; set; } = DefaultCpuWindowSeconds;

    /// <summary>
    /// Gets or sets the share of wall time paused in GC over the window, in percent, at or over which the window is
    /// saved with trigger <c>gc-pause:&lt;pct&gt;%</c> (<c>dotnet.gc.pause.time</c>). Default value: 0 (off). Range: 0 to 100.
    /// </summary>
    [Range(0, 100)]
    public int GcPausePercent { get; set; }

    /// <summary>
    /// Gets or sets the thread-pool queue length that, when every reading over the window is at or over it (sustained),
    /// saves the window with trigger <c>threadpool-queue:&lt;n&gt;</c>, n the shortest queue seen in it
    /// (<c>dotnet.thread_pool.queue.length</c>). Default value: 0 (off). Range: 0 to 10000000.
    /// </summary>
    [Range(0, 10_000_000)]
    public int ThreadPoolQueueLength { get; set; }

    /// <summary>
    /// Gets or sets the least time between two snapshots of the same runtime trigger, in minutes. Default value: 10.
    /// Range: 1 to 1440.
    /// </summary>
    [Range(1, 1440)]
    public int TriggerCooldownMinutes { get; set; } = DefaultTriggerCooldownMinutes;

    /// <summary>Gets whether any trigger is set.</summary>
    internal bool AnyEnabled => CpuPercent > 0 || GcPausePercent > 0 || ThreadPoolQueueLength > 0;
}
