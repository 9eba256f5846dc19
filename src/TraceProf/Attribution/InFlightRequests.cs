using System.Collections.Concurrent;
using System.Diagnostics;

namespace TraceProf.Attribution;

/// <summary>
/// The requests in flight while the span timeline records (the flight recorder, on by default, or a capture): the
/// web layer adds a request when it starts tracking it and removes it when it ends. Nothing is added while the
/// timeline does not record, so an idle process pays nothing; <see cref="IsTracking"/> says which case a reader sees.
/// </summary>
internal static class InFlightRequests
{
    /// <summary>The most requests held; beyond it a request is counted in <see cref="Untracked"/>, not held.</summary>
    public const int MaxTracked = 100_000;

    private static readonly ConcurrentDictionary<Activity, InFlightRequest> s_requests = new(ReferenceEqualityComparer.Instance);
    private static long s_untracked;

    /// <summary>Gets whether requests are tracked now (the span timeline records).</summary>
    public static bool IsTracking => TimelineRecorder.IsRecording;

    /// <summary>Gets the number of requests in flight that are held.</summary>
    public static int Count => s_requests.Count;

    /// <summary>Gets the requests not held because <see cref="MaxTracked"/> were in flight (since the process started).</summary>
    public static long Untracked => Interlocked.Read(ref s_untracked);

    /// <summary>Adds a request; returns null (and counts it) when <see cref="MaxTracked"/> are held.</summary>
    /// <param name="activity">The request's root activity (W3C ids).</param>
    /// <param name="request">Its method and route.</param>
    /// <param name="startedTimestamp">When it started, on the <see cref="Stopwatch"/> clock.</param>
    /// <param name="context">The web framework's request object (an <c>HttpContext</c>), for its route while in flight.</param>
    /// <returns>The entry to pass to <see cref="Remove"/>, or null.</returns>
    public static InFlightRequest? Add(Activity activity, RequestDescription request, long startedTimestamp, object? context = null)
    {
        // Count first: a bound that is a little soft under a race is fine, an unbounded dictionary is not.
        if (s_requests.Count >= MaxTracked)
        {
            Interlocked.Increment(ref s_untracked);
            return null;
        }

        var entry = new InFlightRequest(activity, request, startedTimestamp, context);
        s_requests[activity] = entry;
        return entry;
    }

    /// <summary>Removes a request added by <see cref="Add"/>.</summary>
    /// <param name="entry">The entry.</param>
    public static void Remove(InFlightRequest entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        s_requests.TryRemove(new KeyValuePair<Activity, InFlightRequest>(entry.Activity, entry));
    }

    /// <summary>A copy of the requests in flight now, oldest first, at most <paramref name="limit"/> of them.</summary>
    /// <param name="limit">The most to return.</param>
    /// <param name="total">How many are in flight (held).</param>
    /// <returns>The oldest requests.</returns>
    public static IReadOnlyList<InFlightRequest> Oldest(int limit, out int total)
    {
        var all = s_requests.Values.ToArray();
        total = all.Length;
        Array.Sort(all, static (a, b) => a.StartedTimestamp.CompareTo(b.StartedTimestamp));
        return all.Length <= limit ? all : all[..limit];
    }

    /// <summary>A copy of every request in flight now.</summary>
    /// <returns>The requests.</returns>
    public static InFlightRequest[] All() => [.. s_requests.Values];
}

/// <summary>One request in flight: its root activity (ids), method, route once known, and when it started.</summary>
/// <param name="Activity">The request's root activity.</param>
/// <param name="Request">Its method and route.</param>
/// <param name="StartedTimestamp">When it started, on the <see cref="Stopwatch"/> clock.</param>
/// <param name="Context">The web framework's request object, which knows the route once routing has run (the
/// description learns it only when the request ends); read by the web layer, never by the engine.</param>
internal sealed record InFlightRequest(Activity Activity, RequestDescription Request, long StartedTimestamp, object? Context)
{
    /// <summary>Gets the trace id.</summary>
    public ActivityTraceId TraceId => Activity.TraceId;

    /// <summary>Gets the request's (local root) span id.</summary>
    public ActivitySpanId SpanId => Activity.SpanId;
}
