using System.Diagnostics.CodeAnalysis;

namespace TraceProf.Storage;

/// <summary>Checks W3C trace context ids as they arrive in text (query strings, stored rows).</summary>
internal static class TraceIds
{
    /// <summary>The length of a trace id.</summary>
    public const int TraceIdLength = 32;

    /// <summary>The length of a span id.</summary>
    public const int SpanIdLength = 16;

    /// <summary>Whether <paramref name="traceId"/> is 32 lower-case hex digits and not all zeros (W3C trace-id).</summary>
    /// <param name="traceId">The text to check.</param>
    /// <returns>True when it is a well-formed trace id.</returns>
    public static bool IsValid([NotNullWhen(true)] string? traceId) =>
        HexId.IsLowerHex(traceId, TraceIdLength) && !HexId.IsAllZeros(traceId);

    /// <summary>Whether <paramref name="spanId"/> is 16 lower-case hex digits and not all zeros (W3C parent-id).</summary>
    /// <param name="spanId">The text to check.</param>
    /// <returns>True when it is a well-formed span id.</returns>
    public static bool IsValidSpanId([NotNullWhen(true)] string? spanId) =>
        HexId.IsLowerHex(spanId, SpanIdLength) && !HexId.IsAllZeros(spanId);
}
