using System.ComponentModel.DataAnnotations;
using TraceProf.Kinds;

namespace TraceProf.AspNetCore;

/// <summary>
/// The flight recorder: what it keeps of the recent past, and which finished requests get their slice saved as
/// a snapshot under their trace id. Bound from <c>TraceProf:FlightRecorder</c>.
/// </summary>
public sealed class TraceProfFlightRecorderOptions
{
    /// <summary>Default value of <see cref="Kinds"/>.</summary>
    public const string DefaultKinds = "cpu,contention,exceptions";

    /// <summary>Default value of <see cref="WindowSeconds"/>.</summary>
    public const int DefaultWindowSeconds = 30;

    /// <summary>Default value of <see cref="MaxSamples"/>.</summary>
    public const int DefaultMaxSamples = 1_000_000;

    /// <summary>Default value of <see cref="ExceptionStormPerSecond"/>.</summary>
    public const int DefaultExceptionStormPerSecond = 5_000;

    /// <summary>Default value of <see cref="ExceptionStormCooldownSeconds"/>.</summary>
    public const int DefaultExceptionStormCooldownSeconds = 15;

    /// <summary>Default value of <see cref="MarginMilliseconds"/>.</summary>
    public const int DefaultMarginMilliseconds = 50;

    /// <summary>Default value of <see cref="MinStatusCode"/>.</summary>
    public const int DefaultMinStatusCode = 500;

    /// <summary>Default value of <see cref="SlowRequestMilliseconds"/>.</summary>
    public const int DefaultSlowRequestMilliseconds = 2000;

    /// <summary>Default value of <see cref="MaxSnapshotsPerMinute"/>.</summary>
    public const int DefaultMaxSnapshotsPerMinute = 10;

    /// <summary>The default of <see cref="HeapSnapshotMinIntervalMinutes"/>.</summary>
    public const int DefaultHeapSnapshotMinIntervalMinutes = 60;

    /// <summary>The default of <see cref="HeapGrowthCheckSeconds"/>.</summary>
    public const int DefaultHeapGrowthCheckSeconds = 10;

    /// <summary>The default of <see cref="EventPipeCpu"/>.</summary>
    public const string DefaultEventPipeCpu = "auto";

    /// <summary>The default of <see cref="EventPipeCpuArmedMinutes"/>.</summary>
    public const int DefaultEventPipeCpuArmedMinutes = 5;

    /// <summary>The default of <see cref="StarvationSnapshotMinIntervalSeconds"/>.</summary>
    public const int DefaultStarvationSnapshotMinIntervalSeconds = 60;

    /// <summary>
    /// Gets or sets the thread-pool starvation trigger: the recorder's session also reads the pool's worker-adjustment
    /// events, and when the runtime adds workers because its workers are blocked (reason Starvation, or — sync-over-async
    /// on .NET 9+ — CooperativeBlocking with a higher count) a <c>block</c> snapshot (2 s of blocking waits) and a
    /// <c>threads</c> snapshot of the process are saved with trigger <c>threadpool:starvation</c>, at most once per
    /// <see cref="StarvationSnapshotMinIntervalSeconds"/>. Default value: <see langword="true"/>.
    /// </summary>
    public bool OnThreadPoolStarvation { get; set; } = true;

    /// <summary>
    /// Gets or sets the least time between two starvation snapshot pairs, in seconds. Default value: 60. Range: 10 to
    /// 86400.
    /// </summary>
    [Range(10, 86_400)]
    public int StarvationSnapshotMinIntervalSeconds { get; set; } = DefaultStarvationSnapshotMinIntervalSeconds;

    /// <summary>
    /// Gets or sets when the recorder runs EventPipe's CPU sampler, where CPU is not sampled by perf_event (which
    /// suspends nothing): <c>always</c> (all the time, in the recorder's session: every snapshot has CPU samples, and
    /// the process pays the sampler's suspensions — docs/benchmarks.md), <c>armed</c> (only for
    /// <see cref="EventPipeCpuArmedMinutes"/> after a trigger fires, in a session of its own: a healthy process pays
    /// nothing for CPU, an incident's first failure has no CPU samples and the next ones do) or <c>auto</c>:
    /// <c>armed</c> where <c>TraceProf:Cpu:Sampler = auto</c> fell back from perf_event, <c>always</c> where EventPipe
    /// was chosen (<c>TraceProf:Cpu:Sampler = eventpipe</c>) or Pyroscope is pushed to (continuous profiles need
    /// continuous samples). Default value: <c>auto</c>.
    /// </summary>
    public string EventPipeCpu { get; set; } = DefaultEventPipeCpu;

    /// <summary>
    /// Gets or sets how long EventPipe's CPU sampler stays armed after the last trigger, in minutes (see
    /// <see cref="EventPipeCpu"/>). Default value: 5. Range: 1 to 1440.
    /// </summary>
    [Range(1, 1440)]
    public int EventPipeCpuArmedMinutes { get; set; } = DefaultEventPipeCpuArmedMinutes;

    /// <summary>
    /// Reads <see cref="EventPipeCpu"/>: true for <c>armed</c>, false for <c>always</c>, null for <c>auto</c>.
    /// </summary>
    internal bool TryGetEventPipeCpu(out bool? armed)
    {
        armed = null;
        switch (EventPipeCpu?.Trim().ToLowerInvariant())
        {
            case null or "" or "auto":
                return true;
            case "armed":
                armed = true;
                return true;
            case "always":
                armed = false;
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Gets the runtime triggers (process CPU, GC pause, thread-pool queue), bound from
    /// <c>TraceProf:FlightRecorder:Triggers</c>; each off by default.
    /// </summary>
    public TraceProfRuntimeTriggerOptions Triggers { get; } = new();

    /// <summary>
    /// Gets or sets whether the flight recorder runs. It keeps one EventPipe session open for the life of the
    /// process; see the README for its cost and the recommended <c>DOTNET_EventPipeThreadSamplingRate</c>.
    /// Default value: <see langword="true"/>.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets what is recorded, comma-separated: <c>cpu</c> (the runtime's thread sampler: CPU and wall
    /// time), <c>contention</c> (lock waits), <c>allocations</c> (.NET 10's sampled allocations, about one per
    /// 100 KiB allocated), <c>waits</c> (blocking waits, the block profile) and <c>exceptions</c> (first-chance
    /// exceptions with their throw stacks, no messages; past 1,000 a second they are sampled 1 in 100, past
    /// <see cref="ExceptionStormPerSecond"/> not recorded for a while, and the profile says so). Default value: <c>cpu,contention,exceptions</c>.
    /// </summary>
    public string Kinds { get; set; } = DefaultKinds;

    /// <summary>
    /// Gets or sets the memory-growth trigger: when the GC heap after a full (gen2) GC has grown by this many percent
    /// over the first one measured, a heap snapshot is saved with trigger <c>heap-growth:&lt;pct&gt;%</c>, so a leak is
    /// caught while it grows, not after the out-of-memory kill. A snapshot pauses the process (see
    /// <c>Heap:</c> settings). Default value: 0 (off). Range: 0 to 10000.
    /// </summary>
    [Range(0, 10_000)]
    public int HeapGrowthPercent { get; set; }

    /// <summary>
    /// Gets or sets the least time between two memory-growth heap snapshots, in minutes. Default value: 60. Range: 1 to
    /// 10080.
    /// </summary>
    [Range(1, 10_080)]
    public int HeapSnapshotMinIntervalMinutes { get; set; } = DefaultHeapSnapshotMinIntervalMinutes;

    /// <summary>
    /// Gets or sets how often the memory-growth trigger reads the last full GC's heap size, in seconds (a read costs
    /// nothing: the GC keeps the figure). Default value: 10. Range: 1 to 3600.
    /// </summary>
    [Range(1, 3600)]
    public int HeapGrowthCheckSeconds { get; set; } = DefaultHeapGrowthCheckSeconds;

    /// <summary>
    /// Reads <see cref="Kinds"/>: one or more of <c>cpu</c>, <c>contention</c>, <c>allocations</c> (or <c>allocs</c>), <c>waits</c> (or <c>block</c>), <c>exceptions</c>,
    /// comma-separated, any letter case. On failure <paramref name="bad"/> is the word that is not a kind (or the
    /// whole value when it names none).
    /// </summary>
    internal bool TryGetKinds(out CaptureKindSet kinds, out string bad)
    {
        kinds = CaptureKindSet.None;
        bad = Kinds ?? "";
        foreach (var part in (Kinds ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var kind = part.ToLowerInvariant() switch
            {
                "cpu" => CaptureKindSet.Cpu,
                "contention" => CaptureKindSet.Contention,
                "allocations" or "allocs" => CaptureKindSet.Allocations,
                "waits" or "block" => CaptureKindSet.Block,
                "exceptions" => CaptureKindSet.Exceptions,
                _ => CaptureKindSet.None,
            };
            if (kind == CaptureKindSet.None)
            {
                bad = part;
                kinds = CaptureKindSet.None;
                return false;
            }

            kinds |= kind;
        }

        return kinds != CaptureKindSet.None;
    }

    /// <summary>
    /// Gets or sets the storm guard of the <c>exceptions</c> kind: when more first-chance exceptions than this are thrown
    /// in a second (counted in-process, read once a second), the recorder stops its exception session — the runtime walks
    /// the stack of every throw into it, which under a storm costs the host most of its throughput — and counts
    /// exceptions instead of recording them until the rate has stayed under the bound for
    /// <see cref="ExceptionStormCooldownSeconds"/>. Every snapshot overlapping a pause says so in its exceptions profile
    /// (from–to, the rate seen, the exceptions not recorded); the index shows the guard under
    /// <c>flightRecorder.exceptionStorm</c>. 0 never pauses. Default value: 5000 (five times the 1,000 a second the
    /// recorder keeps one by one). Range: 0, or 1000 to 10,000,000.
    /// </summary>
    [Range(0, 10_000_000)]
    public int ExceptionStormPerSecond { get; set; } = DefaultExceptionStormPerSecond;

    /// <summary>
    /// Gets or sets how long, in seconds, the exception rate must stay at or under <see cref="ExceptionStormPerSecond"/>
    /// before a paused exception session starts again; a storm back within two cooldowns doubles it, up to 16 times.
    /// Default value: 15. Range: 1 to 3600.
    /// </summary>
    [Range(1, 3600)]
    public int ExceptionStormCooldownSeconds { get; set; } = DefaultExceptionStormCooldownSeconds;

    /// <summary>Gets or sets how many seconds of the past are kept. Default value: 30. Range: 1 to 600.</summary>
    [Range(1, 600)]
    public int WindowSeconds { get; set; } = DefaultWindowSeconds;

    /// <summary>
    /// Gets or sets the most samples kept in memory at once (about 20 bytes each plus their stacks); a busy process
    /// that reaches it keeps a shorter window. Default value: 1,000,000. Range: 10,000 to 50,000,000.
    /// </summary>
    [Range(10_000, 50_000_000)]
    public int MaxSamples { get; set; } = DefaultMaxSamples;

    /// <summary>
    /// Gets or sets the time added before the start and after the end of a request when its slice is cut.
    /// Default value: 50. Range: 0 to 5000.
    /// </summary>
    [Range(0, 5000)]
    public int MarginMilliseconds { get; set; } = DefaultMarginMilliseconds;

    /// <summary>
    /// Gets or sets the lowest response status that saves a snapshot (trigger <c>status:&lt;code&gt;</c>); 0 turns
    /// the status trigger off. Default value: 500. Range: 0, or 400 to 599.
    /// </summary>
    [Range(0, 599)]
    public int MinStatusCode { get; set; } = DefaultMinStatusCode;

    /// <summary>
    /// Gets or sets whether an exception that leaves the app's pipeline unhandled saves a snapshot (trigger
    /// <c>exception:&lt;type&gt;</c>). An exception that an exception handler turned into a response counts by its
    /// status instead. Default value: <see langword="true"/>.
    /// </summary>
    public bool OnUnhandledException { get; set; } = true;

    /// <summary>
    /// Gets or sets the duration in milliseconds over which a request is too slow and saves a snapshot (trigger
    /// <c>slow:&lt;ms&gt;</c>); 0 turns the global threshold off. Default value: 2000. Range: 0 to 3,600,000.
    /// </summary>
    [Range(0, 3_600_000)]
    public int SlowRequestMilliseconds { get; set; } = DefaultSlowRequestMilliseconds;

    /// <summary>
    /// Gets per-route slow thresholds in milliseconds, keyed by route template as routing names it (for example
    /// <c>/orders/{id}</c>); they replace <see cref="SlowRequestMilliseconds"/> for that route, 0 turns it off.
    /// Default value: empty.
    /// </summary>
    public IDictionary<string, int> SlowRoutes { get; } = new Dictionary<string, int>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets how many snapshots the triggers may save per minute (a token bucket that refills evenly); one
    /// per trace id in any case. What is over the limit is counted and logged. Default value: 10. Range: 1 to 600.
    /// </summary>
    [Range(1, 600)]
    public int MaxSnapshotsPerMinute { get; set; } = DefaultMaxSnapshotsPerMinute;
}
