namespace TraceProf.Attribution;

/// <summary>The label keys TraceProf puts on samples itself; apps cannot use them.</summary>
internal static class SpanLabels
{
    /// <summary>The W3C trace id of the request the thread was working for.</summary>
    public const string TraceId = "trace_id";

    /// <summary>The innermost span (Activity) current on the thread.</summary>
    public const string SpanId = "span_id";

    /// <summary>The outermost span of this process in that trace (usually the incoming request's).</summary>
    public const string LocalRootSpanId = "local_root_span_id";

    /// <summary>The ASP.NET Core route template of the request.</summary>
    public const string HttpRoute = "http.route";

    /// <summary>The HTTP method of the request.</summary>
    public const string HttpMethod = "http.method";

    /// <summary>
    /// On a span's samples: the 10 ms bucket the sample fell in (Unix milliseconds of its start). Merged views keep one
    /// copy of a (service, host, thread, bucket) when snapshots overlap (docs/design-notes.md, "Each sample once").
    /// </summary>
    public const string TimeBucket = "time_bucket";

    /// <summary>On a tracked request span's samples: when the span started (Unix microseconds).</summary>
    public const string SpanStart = "span_start";

    /// <summary>On a tracked request span's samples: when the span ended (Unix microseconds); absent while it ran.</summary>
    public const string SpanEnd = "span_end";

    private static readonly HashSet<string> Reserved =
    [
        TraceId, SpanId, LocalRootSpanId, HttpRoute, HttpMethod, TimeBucket, SpanStart, SpanEnd,
        "thread_id", "thread_name", "thread_state", "capture_trace_id", "object_type", "service.name",
    ];

    /// <summary>Whether a key is one TraceProf sets.</summary>
    /// <param name="key">The key.</param>
    /// <returns>True when reserved.</returns>
    public static bool IsReserved(string key) => Reserved.Contains(key);
}
