using TraceProf.Attribution;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Pipeline;

/// <summary>
/// Turns a <c>.nettrace</c> capture into the <see cref="Profile"/> of its kind: decode, attribute, build. Needs
/// no ASP.NET Core.
/// </summary>
public static class ProfileParser
{
    /// <summary>Parses a capture.</summary>
    /// <param name="kind">What the capture recorded; <see cref="CaptureKind.Trace"/> yields its CPU profile.</param>
    /// <param name="nettracePath">The capture.</param>
    /// <param name="options">Labels, period and temp folder.</param>
    /// <param name="cancellationToken">Stops parsing.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="InvalidDataException">The file is not a readable nettrace capture.</exception>
    public static Profile Parse(CaptureKind kind, string nettracePath, ParseOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Parse(kind, nettracePath, options, SampleAttributor.WithoutSpans(options.ExtraLabels, options.ThreadName), CpuParser.Streaming, cancellationToken);
    }

    /// <summary>Which parser reads CPU captures.</summary>
    internal enum CpuParser
    {
        /// <summary>
        /// The kind's single-pass reader where it has one (CPU, issue 5); falls back to TraceLog for nettrace versions
        /// it does not decode.
        /// </summary>
        Streaming,

        /// <summary>TraceEvent's TraceLog: the reference the streaming parser is tested against.</summary>
        TraceLog,
    }

    /// <summary>Parses a capture with a chosen CPU parser and no span labels (benchmarks compare the two).</summary>
    internal static Profile Parse(CaptureKind kind, string nettracePath, ParseOptions options, CpuParser cpuParser, CancellationToken cancellationToken) =>
        Parse(kind, nettracePath, options, SampleAttributor.WithoutSpans(options.ExtraLabels, options.ThreadName), cpuParser, cancellationToken);

    /// <summary>Parses a capture, attributing every event with <paramref name="labels"/>.</summary>
    internal static Profile Parse(CaptureKind kind, string nettracePath, ParseOptions options, SampleAttributor labels, CpuParser cpuParser, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(labels);
        var definition = KindCatalog.Get(kind);
        if (cpuParser == CpuParser.Streaming)
        {
            // The TraceLog path creates the temp folder; so does this one, so callers see the same state either way.
            Directory.CreateDirectory(options.TempDirectory);
            try
            {
                if (definition.ParseStreaming(nettracePath, options, labels, cancellationToken) is { } streamed)
                {
                    return streamed;
                }
            }
            catch (NotSupportedException)
            {
                // A newer (or older) nettrace layout: TraceLog still reads it, only slower.
            }
        }

        using var reader = TraceLogReader.Open(nettracePath, options.TempDirectory, options.RawFrames);
        cancellationToken.ThrowIfCancellationRequested();
        return definition.Parse(reader, options, labels, cancellationToken);
    }
}
