using Microsoft.Diagnostics.NETCore.Client;

namespace TraceProf.Capture;

/// <summary>What one EventPipe session of this process enables (built from a kind set by <c>Kinds/KindProviders</c>).</summary>
/// <param name="Name">What it records, for logs (for example <c>cpu</c>).</param>
/// <param name="Providers">The providers, one entry per provider name.</param>
/// <param name="RequestRundown">Whether stopping it writes rundown (names of code loaded before it started).</param>
internal sealed record SessionSpec(string Name, IReadOnlyList<EventPipeProvider> Providers, bool RequestRundown)
{
    /// <summary>
    /// The circular buffer of an ordinary session, in megabytes: large enough that a busy 2-core process does not
    /// drop samples or rundown events while the drain thread catches up (a buffer too small leaves frames unnamed).
    /// </summary>
    public const int DefaultBufferMegabytes = 64;

    /// <summary>Gets the session's buffer in megabytes. Default value: <see cref="DefaultBufferMegabytes"/>.</summary>
    public int BufferMegabytes { get; init; } = DefaultBufferMegabytes;
}
