namespace TraceProf.Recording;

/// <summary>What the flight recorder holds right now and has seen since it started.</summary>
/// <param name="RetainedSamples">CPU sampler events in memory.</param>
/// <param name="RetainedContentions">Contention waits in memory.</param>
/// <param name="RetainedStacks">Distinct stacks in memory (counted once per segment).</param>
/// <param name="Segments">Time segments in memory.</param>
/// <param name="Methods">Method code ranges known (live code only: unloaded code leaves).</param>
/// <param name="RetainedBytes">An estimate of the memory the samples and stacks take.</param>
/// <param name="EventsRead">Events read from the session since the start.</param>
/// <param name="RetainedFrom">The oldest retained sample's timestamp (Stopwatch clock), or 0.</param>
/// <param name="LatestTimestamp">The newest event's timestamp (Stopwatch clock), or 0.</param>
/// <param name="ExceptionsThrown">First-chance exceptions the session reported since the start (when exceptions are recorded).</param>
/// <param name="ExceptionsSampledOut">Of those, how many a storm's sampling did not keep one by one.</param>
/// <param name="ExceptionStormPauses">How many times the storm guard paused exception recording.</param>
internal sealed record FlightRecorderStatistics(
    long RetainedSamples,
    long RetainedContentions,
    long RetainedStacks,
    int Segments,
    int Methods,
    long RetainedBytes,
    long EventsRead,
    long RetainedFrom,
    long LatestTimestamp,
    long ExceptionsThrown = 0,
    long ExceptionsSampledOut = 0,
    int ExceptionStormPauses = 0);
