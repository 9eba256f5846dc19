using System.Diagnostics;
using System.Globalization;

namespace TraceProf.Attribution;

/// <summary>
/// Turns event timestamps (the <see cref="Stopwatch"/> clock EventPipe uses) into the times TraceProf writes into
/// profiles: the <see cref="SpanLabels.TimeBucket"/> of a span's sample and a tracked span's start and end.
/// </summary>
/// <remarks>
/// One anchor per process, taken once: every snapshot of this process maps a timestamp to the same wall-clock value,
/// so the same sampler event falls into the same bucket in an on-demand capture and in a flight-recorder cut, which
/// is what lets merged views keep one copy of it (docs/design-notes.md, "Each sample once"). A wall-clock step after
/// the anchor (NTP) shifts this process's times by that step; it never makes two snapshots disagree.
/// </remarks>
internal static class SampleClock
{
    /// <summary>The width of one time bucket.</summary>
    public const int BucketMilliseconds = 10;

    private static readonly long s_anchorTimestamp = Stopwatch.GetTimestamp();
    private static readonly long s_anchorUnixNanoseconds = (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * TimeSpan.NanosecondsPerTick;

    /// <summary>A timestamp as nanoseconds since the Unix epoch.</summary>
    /// <param name="timestamp">On the Stopwatch clock.</param>
    /// <returns>Unix nanoseconds.</returns>
    public static long ToUnixNanoseconds(long timestamp) =>
        s_anchorUnixNanoseconds + (long)((timestamp - s_anchorTimestamp) * (1e9 / Stopwatch.Frequency));

    /// <summary>The bucket a timestamp falls in: Unix milliseconds of the bucket's start, a multiple of <see cref="BucketMilliseconds"/>.</summary>
    /// <param name="timestamp">On the Stopwatch clock.</param>
    /// <returns>The bucket's start in Unix milliseconds.</returns>
    public static long BucketOf(long timestamp)
    {
        var ms = ToUnixNanoseconds(timestamp) / 1_000_000;
        return ms - (ms % BucketMilliseconds);
    }

    /// <summary>Formats a time for a <see cref="SpanLabels.SpanStart"/> or <see cref="SpanLabels.SpanEnd"/> label (Unix microseconds).</summary>
    /// <param name="timestamp">On the Stopwatch clock.</param>
    /// <returns>The label value.</returns>
    public static string FormatSpanTime(long timestamp) => (ToUnixNanoseconds(timestamp) / 1000).ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads a span time or bucket label back (decimal digits only).</summary>
    /// <param name="value">The label value.</param>
    /// <param name="unixUnits">The number it holds.</param>
    /// <returns>Whether it was a number.</returns>
    public static bool TryParse(string? value, out long unixUnits) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out unixUnits);
}
