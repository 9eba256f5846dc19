using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds;

/// <summary>
/// Everything one capture kind contributes, in its own folder (<c>Kinds/&lt;Kind&gt;/</c>): its name, the EventPipe
/// providers its events need, and how a capture file of it becomes a profile (its builder). The
/// <see cref="KindCatalog"/> lists the kinds; <see cref="KindProviders"/> and the pipeline's parser ask it.
/// </summary>
internal abstract class KindDefinition
{
    /// <summary>Gets the kind.</summary>
    public abstract CaptureKind Kind { get; }

    /// <summary>Gets the kind's name in URLs and snapshot rows (for example <c>cpu</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Gets whether the kind needs the runtime's sample profiler.</summary>
    public virtual bool UsesSampleProfiler => false;

    /// <summary>Gets the runtime provider keywords the kind needs besides method names (which every kind gets).</summary>
    public abstract long RuntimeKeywords { get; }

    /// <summary>Gets whether a session of this kind requests rundown (method names of code loaded before it).</summary>
    public virtual bool RequestsRundown => true;

    /// <summary>
    /// Gets whether a snapshot of this kind keeps its raw capture beside the profile by default. A thread dump's
    /// capture is almost all rundown (~10 MB for 14 threads in the sample) while what the dump needs, its stacks, is the
    /// profile (a few KB; the text forms are rendered from it); such a kind keeps the capture only when the caller asks
    /// for <c>format=nettrace</c>.
    /// </summary>
    public virtual bool StoresNettrace => true;

    /// <summary>
    /// Parses a capture in one streaming pass, when the kind has such a path; null sends the pipeline to
    /// <see cref="Parse"/> over TraceLog.
    /// </summary>
    /// <param name="nettracePath">The capture.</param>
    /// <param name="options">Parse options.</param>
    /// <param name="labels">The attribution stage.</param>
    /// <param name="cancellationToken">Stops parsing.</param>
    /// <returns>The profile, or null.</returns>
    /// <exception cref="NotSupportedException">A nettrace layout the streaming reader does not decode (falls back).</exception>
    public virtual Profile? ParseStreaming(string nettracePath, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken) => null;

    /// <summary>Parses a capture through TraceEvent's TraceLog (which resolves stacks).</summary>
    /// <param name="reader">The opened capture.</param>
    /// <param name="options">Parse options.</param>
    /// <param name="labels">The attribution stage.</param>
    /// <param name="cancellationToken">Stops parsing.</param>
    /// <returns>The profile.</returns>
    public abstract Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken);
}
