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

    private static readonly HashSet<string> Reserved =
    [
        TraceId, SpanId, LocalRootSpanId, HttpRoute, HttpMethod,
        "thread_id", "thread_name", "thread_state", "capture_trace_id", "object_type", "service.name",
    ];

    /// <summary>Whether a key is one TraceProf sets.</summary>
    /// <param name="key">The key.</param>
    /// <returns>True when reserved.</returns>
    public static bool IsReserved(string key) => Reserved.Contains(key);
}
