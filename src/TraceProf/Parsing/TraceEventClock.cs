using Microsoft.Diagnostics.Tracing;

namespace TraceProf.Parsing;

internal static class TraceEventClock
{
    /// <summary>
    /// The event's raw timestamp. EventPipe stamps events with the clock behind
    /// <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>, so this joins with the span timeline exactly;
    /// TraceEvent's relative milliseconds would add rounding and an offset.
    /// </summary>
    public static long RawTimestamp(this TraceEvent data)
    {
#pragma warning disable CS0618 // "Not obsolete but discouraged": the raw clock is exactly what the join needs.
        return data.TimeStampQPC;
#pragma warning restore CS0618
    }
}
