namespace TraceProf.Capture;

/// <summary>Which CPU sampler a setting asks for.</summary>
internal enum CpuSamplerMode
{
    /// <summary>perf_event where this process may open it, EventPipe's thread sampler otherwise.</summary>
    Auto,

    /// <summary>perf_event only: start fails where it is unavailable.</summary>
    Perf,

    /// <summary>EventPipe's thread sampler (suspends the runtime at each tick; gives wall time too).</summary>
    EventPipe,
}

/// <summary>The CPU sampler in use and why: decided once at start, shown in the index and the start-up log.</summary>
/// <param name="UsePerf">Whether CPU samples come from perf_event.</param>
/// <param name="Reason">Why, and (for EventPipe) how to enable perf.</param>
internal sealed record CpuSamplerChoice(bool UsePerf, string Reason)
{
    /// <summary>How to let a process sample itself with perf_event.</summary>
    public const string HowToEnable =
        "To use perf: kernel.perf_event_paranoid ≤ 2 (sysctl -w kernel.perf_event_paranoid=2) or CAP_PERFMON (docker run --cap-add PERFMON), then restart.";

    /// <summary>Gets EventPipe's sampler, chosen by default where nothing was probed (engine-only use, tests).</summary>
    public static CpuSamplerChoice EventPipeDefault { get; } = new(false, "EventPipe's thread sampler (no CPU sampler was configured).");

    /// <summary>Gets the name shown: <c>perf</c> or <c>eventpipe</c>.</summary>
    public string Active => UsePerf ? "perf" : "eventpipe";

    /// <summary>Parses a setting: <c>auto</c>, <c>perf</c> or <c>eventpipe</c> (case-insensitive).</summary>
    /// <param name="value">The setting.</param>
    /// <param name="mode">The mode.</param>
    /// <returns>Whether the value is one of the three.</returns>
    public static bool TryParse(string? value, out CpuSamplerMode mode)
    {
        mode = CpuSamplerMode.Auto;
        switch (value?.Trim().ToUpperInvariant())
        {
            case null or "" or "AUTO":
                return true;
            case "PERF":
                mode = CpuSamplerMode.Perf;
                return true;
            case "EVENTPIPE":
                mode = CpuSamplerMode.EventPipe;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Decides the sampler: <c>auto</c> probes perf_event for this process and falls back.</summary>
    /// <param name="mode">The setting.</param>
    /// <param name="opener">Opens the probe's event (tests inject EPERM); null for the real system call.</param>
    /// <returns>The choice.</returns>
    /// <exception cref="CaptureUnavailableException"><paramref name="mode"/> is perf and perf_event is unavailable.</exception>
    public static CpuSamplerChoice Resolve(CpuSamplerMode mode, PerfEventOpener? opener = null)
    {
        if (mode == CpuSamplerMode.EventPipe)
        {
            return new(false, "EventPipe's thread sampler, as configured (TraceProf:Cpu:Sampler = eventpipe; set auto or perf to sample CPU from the kernel without suspending threads).");
        }

        var (available, reason) = PerfEventCpuSampler.Probe(opener);
        if (available)
        {
            return new(true, reason + (mode == CpuSamplerMode.Auto ? " (TraceProf:Cpu:Sampler = auto)" : " (TraceProf:Cpu:Sampler = perf)"));
        }

        if (mode == CpuSamplerMode.Perf)
        {
            throw new CaptureUnavailableException("TraceProf:Cpu:Sampler is perf, but " + reason + " Set TraceProf:Cpu:Sampler to auto to fall back to EventPipe's sampler.");
        }

        return new(false, "EventPipe's thread sampler: " + reason + " " + HowToEnable);
    }
}
