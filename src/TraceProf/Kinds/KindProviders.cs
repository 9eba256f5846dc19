using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using TraceProf.Parsing;

namespace TraceProf.Kinds;

/// <summary>
/// The one place where capture kinds become EventPipe providers and session settings, for an on-demand capture
/// (one kind) and for the flight recorder (the union of its kinds) alike.
/// </summary>
internal static class KindProviders
{
    /// <summary>Gets the providers that record every kind of a set in one session.</summary>
    /// <param name="kinds">The kinds; not empty.</param>
    /// <param name="extraRuntimeKeywords">
    /// Runtime keywords a session needs beyond its kinds' (the flight recorder's thread-pool events for the starvation
    /// trigger, <see cref="RuntimeEvents.ThreadingKeyword"/>).
    /// </param>
    /// <returns>One entry per provider name (EventPipe shares the level of a name, so keywords are merged).</returns>
    public static IReadOnlyList<EventPipeProvider> For(CaptureKindSet kinds, long extraRuntimeKeywords = 0) => For(kinds, extraRuntimeKeywords, withSampler: true);

    /// <summary>
    /// Gets the providers of a set without the runtime's sample profiler even where a kind uses it: the light session
    /// that names methods (load and rundown events) while the perf_event sampler takes the CPU samples.
    /// </summary>
    /// <param name="kinds">The kinds; not empty.</param>
    /// <param name="extraRuntimeKeywords">Runtime keywords beyond the kinds' (as in <see cref="For(CaptureKindSet, long)"/>).</param>
    /// <returns>The runtime provider only (no thread suspension).</returns>
    public static IReadOnlyList<EventPipeProvider> WithoutSampler(CaptureKindSet kinds, long extraRuntimeKeywords = 0) => For(kinds, extraRuntimeKeywords, withSampler: false);

    /// <summary>
    /// Gets the providers of a session that records no kind but names methods (load events) for the others: the flight
    /// recorder's main session when exceptions, in their own session, are all it records.
    /// </summary>
    /// <param name="extraRuntimeKeywords">Runtime keywords beyond the names' (as in <see cref="For(CaptureKindSet, long)"/>).</param>
    /// <returns>The runtime provider only.</returns>
    public static IReadOnlyList<EventPipeProvider> NamesOnly(long extraRuntimeKeywords = 0) => For(CaptureKindSet.None, extraRuntimeKeywords, withSampler: false);

    /// <summary>
    /// Gets the providers of the flight recorder's exception session: the runtime's exception keyword at level Warning,
    /// nothing else. The level keeps <c>ExceptionThrown_V1</c> (level Error) and leaves out the catch, filter and finally
    /// events (Informational) a Verbose session would add, each with a stack walk of its own; no load events either (the
    /// main session's name the stacks), so the session costs only its throws and can be stopped and started on its own.
    /// </summary>
    /// <returns>The runtime provider only.</returns>
    public static IReadOnlyList<EventPipeProvider> ExceptionsAlone() => [new(RuntimeEvents.RuntimeProvider, EventLevel.Warning, RuntimeEvents.ExceptionKeyword)];

    private static List<EventPipeProvider> For(CaptureKindSet kinds, long extraRuntimeKeywords, bool withSampler)
    {
        if ((kinds == CaptureKindSet.None && withSampler) || (kinds & ~All) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(kinds), kinds, "A session records at least one known kind.");
        }

        // Every kind resolves stacks, so every session names methods and maps their code to IL for source lines.
        var runtime = RuntimeEvents.MethodNameKeywords | RuntimeEvents.ILToNativeMapKeyword | extraRuntimeKeywords;
        var sampler = false;
        foreach (var kind in KindCatalog.All)
        {
            if ((kinds & kind.Kind.AsSet()) != 0)
            {
                runtime |= kind.RuntimeKeywords;
                sampler |= kind.UsesSampleProfiler;
            }
        }

        var providers = new List<EventPipeProvider> { new(RuntimeEvents.RuntimeProvider, EventLevel.Verbose, runtime) };
        if (sampler && withSampler)
        {
            providers.Insert(0, new EventPipeProvider(RuntimeEvents.SampleProfilerProvider, EventLevel.Informational));
        }

        return providers;
    }

    /// <summary>Gets the providers of one kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The providers.</returns>
    public static IReadOnlyList<EventPipeProvider> For(CaptureKind kind) => For(kind.AsSet());

    /// <summary>Whether a kind needs rundown (method names of code jitted before the session started).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>What the kind's definition says (every kind that resolves stacks does).</returns>
    public static bool RequestRundown(CaptureKind kind) => KindCatalog.Get(kind).RequestsRundown;

    private static CaptureKindSet All => KindCatalog.All.Aggregate(CaptureKindSet.None, (set, kind) => set | kind.Kind.AsSet());
}
