namespace TraceProf.Recording;

/// <summary>What the flight recorder keeps, and how much of it at most.</summary>
internal sealed class FlightRecorderOptions
{
    /// <summary>Default value of <see cref="Window"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromSeconds(30);

    /// <summary>Default value of <see cref="ExceptionStormPerSecond"/>.</summary>
    public const int DefaultExceptionStormPerSecond = 5_000;

    /// <summary>Default value of <see cref="ExceptionStormCooldown"/>: 15 seconds.</summary>
    public static readonly TimeSpan DefaultExceptionStormCooldown = TimeSpan.FromSeconds(15);

    /// <summary>Default value of <see cref="MaxSamples"/>.</summary>
    public const int DefaultMaxSamples = 1_000_000;

    /// <summary>Gets whether CPU samples (the runtime's thread sampler) are recorded. Default value: true.</summary>
    public bool Cpu { get; init; } = true;

    /// <summary>Gets whether lock contention (waits with the waiter's stack) is recorded. Default value: true.</summary>
    public bool Contention { get; init; } = true;

    /// <summary>
    /// Gets whether blocking waits are recorded for the slice's block profile: lock contention plus the wait-handle
    /// waits of .NET 9+ (<c>Task.Wait</c>, <c>.Result</c>, <c>Monitor.Wait</c>, <c>WaitOne</c>, <c>SemaphoreSlim.Wait</c>),
    /// with the waiter's stack, its source and whether it was a pool thread. Default value: false (their cost on a busy
    /// service is not yet measured; they count toward <see cref="MaxSamples"/> like any event).
    /// </summary>
    public bool Waits { get; init; }

    /// <summary>
    /// Gets whether sampled allocations (.NET 10's randomized allocation sampling, about one per 100 KiB allocated)
    /// are recorded. Default value: false.
    /// </summary>
    public bool Allocations { get; init; }

    /// <summary>
    /// Gets whether first-chance exceptions (type and throw stack, no message) are recorded for the slice's exceptions
    /// profile. Bounded: past <see cref="RecordingHandler.ExceptionsPerSecondInFull"/> in a second a storm is sampled
    /// (one in <see cref="RecordingHandler.StormSampleEvery"/>, standing for the others), and the profile says so; past
    /// <see cref="ExceptionStormPerSecond"/> the exception session is paused (<see cref="ExceptionRecording"/>).
    /// Default value: false.
    /// </summary>
    public bool Exceptions { get; init; }

    /// <summary>
    /// Gets the exception rate (first-chance exceptions a second, read once a second in-process) past which the storm
    /// guard stops the exception session, so that a storm does not pay the runtime's stack walk per throw; it starts it
    /// again after <see cref="ExceptionStormCooldown"/> under the rate. 0: never pause. Default value:
    /// <see cref="DefaultExceptionStormPerSecond"/>. Range: 0, or 1,000 to 10,000,000.
    /// </summary>
    public int ExceptionStormPerSecond { get; init; } = DefaultExceptionStormPerSecond;

    /// <summary>
    /// Gets how long the rate must stay at or under <see cref="ExceptionStormPerSecond"/> before a paused exception
    /// session starts again; a storm that comes back within two cooldowns doubles it (up to 16 times). Default value:
    /// 15 seconds. Range: 1 s to 1 hour.
    /// </summary>
    public TimeSpan ExceptionStormCooldown { get; init; } = DefaultExceptionStormCooldown;

    /// <summary>
    /// Gets whether the session also reads the thread pool's worker-adjustment events (runtime Threading keyword) so that
    /// <see cref="FlightRecorder.PoolStarvation"/> reports injections for blocked workers (the starvation trigger). Cheap: the
    /// pool raises them when it changes its worker count (docs/benchmarks.md). Default value: false.
    /// </summary>
    public bool ThreadPoolEvents { get; init; }

    /// <summary>
    /// Gets whether a cut keeps every frame (<see cref="Parsing.ParseOptions.RawFrames"/>: the async plumbing, the GC
    /// safe-point helper). Default value: false (folded, as on-demand captures are by default).
    /// </summary>
    public bool RawFrames { get; init; }

    /// <summary>Gets how far back the recorder keeps samples. Default value: 30 seconds. Range: 1 s to 10 minutes.</summary>
    public TimeSpan Window { get; init; } = DefaultWindow;

    /// <summary>
    /// Gets the most samples (CPU and contention together) kept at once, whatever the window: about 20 bytes each
    /// plus their distinct stacks. When a busy process reaches it, the oldest seconds go first and the window is
    /// shorter than <see cref="Window"/>. Default value: 1,000,000. Range: 10,000 to 50,000,000.
    /// </summary>
    public int MaxSamples { get; init; } = DefaultMaxSamples;

    /// <summary>
    /// Gets the perf_event sampler's settings when CPU is sampled by the kernel (<see cref="Capture.PerfEventCpuSampler"/>):
    /// the recorder's session then has no EventPipe sampler (nothing is suspended) and only names methods and records the
    /// other kinds. Null: EventPipe's thread sampler. Default value: null.
    /// </summary>
    public Capture.PerfSamplerSettings? PerfSampler { get; init; }

    /// <summary>
    /// Gets, where CPU is sampled by EventPipe (<see cref="PerfSampler"/> null), how long its sampler runs after
    /// <see cref="FlightRecorder.ArmCpuAsync"/> (a trigger fired) — in a second session of its own, so the recorder's
    /// session suspends nothing until then (<see cref="ArmedCpuSampling"/>). Null: the sampler runs all the time, in the
    /// recorder's session. Default value: null. Range: 1 second to 1 day.
    /// </summary>
    public TimeSpan? CpuArmedFor { get; init; }

    /// <summary>
    /// Gets the nominal sampler interval of this process (read from <c>DOTNET_EventPipeThreadSamplingRate</c> at
    /// start). Default value: <see cref="Parsing.ParseOptions.SamplingIntervalOfThisProcess"/>.
    /// </summary>
    public TimeSpan SamplingInterval { get; init; } = Parsing.ParseOptions.SamplingIntervalOfThisProcess();

    /// <summary>Throws when a setting is out of its range (the recorder's constructor calls it).</summary>
    /// <exception cref="ArgumentException">No kind is recorded.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A bound is out of its range.</exception>
    internal void Validate()
    {
        if (!Cpu && !Contention && !Allocations && !Waits && !Exceptions)
        {
            throw new ArgumentException("The flight recorder needs at least one of CPU, contention, allocations, waits and exceptions.", "options");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Window, TimeSpan.FromSeconds(1));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Window, TimeSpan.FromMinutes(10));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSamples, 10_000);
        if (ExceptionStormPerSecond is not 0 and (< 1000 or > 10_000_000))
        {
            throw new ArgumentOutOfRangeException(nameof(ExceptionStormPerSecond), ExceptionStormPerSecond, "ExceptionStormPerSecond must be 0 (never pause) or from 1,000 to 10,000,000.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(ExceptionStormCooldown, TimeSpan.FromSeconds(1));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ExceptionStormCooldown, TimeSpan.FromHours(1));
        if (CpuArmedFor is { } armFor)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(armFor, TimeSpan.FromSeconds(1), nameof(CpuArmedFor));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(armFor, TimeSpan.FromDays(1), nameof(CpuArmedFor));
        }
    }
}
