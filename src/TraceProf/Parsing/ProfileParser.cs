using TraceProf.Capture;
using TraceProf.Profiles;

namespace TraceProf.Parsing;

/// <summary>Turns a <c>.nettrace</c> capture into the <see cref="Profile"/> of its kind. Needs no ASP.NET Core.</summary>
public static class ProfileParser
{
    /// <summary>Parses a capture.</summary>
    /// <param name="kind">What the capture recorded; <see cref="CaptureKind.Trace"/> yields its CPU profile.</param>
    /// <param name="nettracePath">The capture.</param>
    /// <param name="options">Labels, period and temp folder.</param>
    /// <param name="cancellationToken">Stops parsing.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="InvalidDataException">The file is not a readable nettrace capture.</exception>
    public static Profile Parse(CaptureKind kind, string nettracePath, ParseOptions options, CancellationToken cancellationToken) =>
        Parse(kind, nettracePath, options, CpuParser.Streaming, cancellationToken);

    /// <summary>Which parser reads CPU captures.</summary>
    internal enum CpuParser
    {
        /// <summary>The single-pass nettrace reader (issue 5); falls back to TraceLog for nettrace versions it does not decode.</summary>
        Streaming,

        /// <summary>TraceEvent's TraceLog: the reference the streaming parser is tested against.</summary>
        TraceLog,
    }

    /// <summary>Parses a capture with a chosen CPU parser.</summary>
    internal static Profile Parse(CaptureKind kind, string nettracePath, ParseOptions options, CpuParser cpuParser, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (kind is CaptureKind.Cpu or CaptureKind.Trace && cpuParser == CpuParser.Streaming)
        {
            // The TraceLog path creates the temp folder; so does this one, so callers see the same state either way.
            Directory.CreateDirectory(options.TempDirectory);
            try
            {
                return EffectiveSamplingInterval.Apply(Streaming.StreamingCpuProfileParser.Parse(nettracePath, options, cancellationToken), options.SamplingInterval);
            }
            catch (NotSupportedException)
            {
                // A newer (or older) nettrace layout: TraceLog still reads it, only slower.
            }
        }

        using var reader = TraceLogReader.Open(nettracePath, options.TempDirectory);
        cancellationToken.ThrowIfCancellationRequested();
        var profile = kind switch
        {
            CaptureKind.Cpu or CaptureKind.Trace => CpuProfileParser.Parse(reader, options, cancellationToken),
            CaptureKind.Allocations => AllocationProfileParser.Parse(reader, options, cancellationToken),
            CaptureKind.Contention => ContentionProfileParser.Parse(reader, options, cancellationToken),
            CaptureKind.Threads => ThreadStacksParser.Parse(reader, options, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        return kind is CaptureKind.Cpu or CaptureKind.Trace
            ? EffectiveSamplingInterval.Apply(profile, options.SamplingInterval)
            : profile;
    }
}
