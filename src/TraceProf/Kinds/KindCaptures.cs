using TraceProf.Capture;

namespace TraceProf.Kinds;

/// <summary>A capture of one kind: the kind's session (its providers, rundown) recorded by a capture source.</summary>
internal static class KindCaptures
{
    /// <summary>The session of one kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>Its name, providers and rundown setting.</returns>
    public static SessionSpec SessionOf(CaptureKind kind) =>
        new(CaptureKinds.Name(kind), KindProviders.For(kind), KindProviders.RequestRundown(kind));

    /// <summary>
    /// The light session of a perf_event CPU capture: method load events and rundown for names, no sampler (the
    /// perf_event sampler takes the samples, and nothing suspends the runtime).
    /// </summary>
    public static SessionSpec PerfCpuSession { get; } = new("cpu (perf_event names)", KindProviders.WithoutSampler(CaptureKindSet.Cpu), RequestRundown: true);

    /// <summary>Captures one kind for <paramref name="duration"/> into <paramref name="nettracePath"/>.</summary>
    /// <param name="source">The capture source.</param>
    /// <param name="kind">What to record.</param>
    /// <param name="duration">How long.</param>
    /// <param name="nettracePath">The file to write; it must not exist.</param>
    /// <param name="cancellationToken">Stops the capture early, discarding it.</param>
    /// <returns>What was written.</returns>
    public static Task<CaptureResult> CaptureAsync(this ICaptureSource source, CaptureKind kind, TimeSpan duration, string nettracePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.CaptureAsync(SessionOf(kind), duration, nettracePath, cancellationToken);
    }
}
