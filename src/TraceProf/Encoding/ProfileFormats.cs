using System.Diagnostics.CodeAnalysis;

namespace TraceProf.Encoding;

/// <summary>Names, media types and file extensions of <see cref="ProfileFormat"/> values.</summary>
internal static class ProfileFormats
{
    /// <summary>The names accepted in <c>format=</c>, in documentation order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["pprof", "speedscope", "folded", "nettrace"];

    /// <summary>Parses a <c>format=</c> value (case-insensitive).</summary>
    /// <param name="value">The value; null or empty is not accepted here (callers apply their default).</param>
    /// <param name="format">The parsed format.</param>
    /// <returns>Whether the value names a format.</returns>
    public static bool TryParse([NotNullWhen(true)] string? value, out ProfileFormat format)
    {
        switch (value?.ToUpperInvariant())
        {
            case "PPROF":
            case "PROTO":
                format = ProfileFormat.Pprof;
                return true;
            case "SPEEDSCOPE":
                format = ProfileFormat.Speedscope;
                return true;
            case "FOLDED":
            case "COLLAPSED":
                format = ProfileFormat.Folded;
                return true;
            case "NETTRACE":
                format = ProfileFormat.Nettrace;
                return true;
            default:
                format = default;
                return false;
        }
    }

    /// <summary>The name used in <c>format=</c>.</summary>
    /// <param name="format">The format.</param>
    /// <returns>Its name.</returns>
    public static string Name(ProfileFormat format) => Names[(int)format];

    /// <summary>The media type to answer with.</summary>
    /// <param name="format">The format.</param>
    /// <returns>A <c>Content-Type</c> value.</returns>
    public static string ContentType(ProfileFormat format) => format switch
    {
        // Go's net/http/pprof serves profiles as application/octet-stream; the bytes are gzip-compressed protobuf.
        ProfileFormat.Pprof => "application/octet-stream",
        ProfileFormat.Speedscope => "application/json",
        ProfileFormat.Folded => "text/plain; charset=utf-8",
        ProfileFormat.Nettrace => "application/octet-stream",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>The file extension (with dot) for downloads.</summary>
    /// <param name="format">The format.</param>
    /// <returns>For example <c>.pb.gz</c>.</returns>
    public static string FileExtension(ProfileFormat format) => format switch
    {
        ProfileFormat.Pprof => ".pb.gz",
        ProfileFormat.Speedscope => ".speedscope.json",
        ProfileFormat.Folded => ".folded.txt",
        ProfileFormat.Nettrace => ".nettrace",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };
}
