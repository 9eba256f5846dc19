using TraceProf.Profiles;

namespace TraceProf.Parsing;

/// <summary>How <c>Pipeline.ProfileParser</c> turns a capture into a profile.</summary>
public sealed class ParseOptions
{
    /// <summary>The runtime's default interval between sampler ticks: 1 ms.</summary>
    internal static readonly TimeSpan DefaultSamplingInterval = TimeSpan.FromMilliseconds(1);

    /// <summary>Gets the folder for intermediate files (TraceEvent's <c>.etlx</c>). Default value: the system temp folder.</summary>
    public string TempDirectory { get; init; } = Path.GetTempPath();

    /// <summary>Gets labels added to every sample (the web layer adds <c>capture_trace_id</c>).</summary>
    public IReadOnlyList<ProfileLabel> ExtraLabels { get; init; } = [];

    /// <summary>
    /// Gets the interval between sampler ticks, which each CPU sample stands for. Default value: the process's
    /// <c>DOTNET_EventPipeThreadSamplingRate</c> (milliseconds) if set, else 1 ms.
    /// </summary>
    public TimeSpan SamplingInterval { get; init; } = SamplingIntervalOfThisProcess();

    /// <summary>
    /// Gets a value indicating whether every frame of a stack is kept. By default the runtime's async and
    /// thread-pool plumbing between a caller and the method it awaits is folded away, as is the GC safe-point
    /// helper and a kick-off method directly above its own state machine (the rule: <c>docs/frames.md</c>); the web
    /// layer's <c>?raw=1</c> sets this. Frames keep their display names either way. Default value: false.
    /// </summary>
    public bool RawFrames { get; init; }

    /// <summary>
    /// Gets a lookup of thread names by OS thread id, used by the thread-stacks profile and to label TraceProf's own
    /// threads (names starting <c>TraceProf</c>) <c>thread_role=traceprof</c> in every kind. Default value: none
    /// (names are unknown); live captures of this process pass the names read from <c>/proc/self/task</c>.
    /// </summary>
    public Func<int, string?>? ThreadName { get; init; }

    /// <summary>
    /// Gets whether the exceptions profile labels each exception with its message (label <c>exception_message</c>,
    /// cut to 128 characters). Messages often carry user data, so they are left out unless asked for. Default value:
    /// false.
    /// </summary>
    public bool ExceptionMessages { get; init; }

    /// <summary>
    /// The sampler's nominal interval for this process, read the way the runtime reads it: at start-up, from
    /// <c>DOTNET_EventPipeThreadSamplingRate</c>, a number of milliseconds written in <b>hexadecimal</b> (as every
    /// <c>DOTNET_</c> number is: <c>A</c> is 10 ms, <c>10</c> is 16 ms). Values of 1000 ms (<c>3E8</c>) and more make
    /// the runtime sample flat out, so they count as the 1 ms default.
    /// </summary>
    /// <returns>The interval.</returns>
    internal static TimeSpan SamplingIntervalOfThisProcess() =>
        SamplingIntervalFromEnvironmentValue(Environment.GetEnvironmentVariable("DOTNET_EventPipeThreadSamplingRate"));

    /// <summary>Interprets a <c>DOTNET_EventPipeThreadSamplingRate</c> value; see <see cref="SamplingIntervalOfThisProcess"/>.</summary>
    /// <param name="value">The environment variable's value, or null.</param>
    /// <returns>The nominal interval.</returns>
    internal static TimeSpan SamplingIntervalFromEnvironmentValue(string? value)
    {
        var trimmed = value?.Trim();
        if (trimmed is not null && trimmed.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            trimmed = trimmed[2..];
        }

        return int.TryParse(trimmed, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms is > 0 and < 1000
            ? TimeSpan.FromMilliseconds(ms)
            : DefaultSamplingInterval;
    }
}
