using System.Text;
using TraceProf.Profiles;

namespace TraceProf.AspNetCore.Pyroscope;

/// <summary>
/// How TraceProf's sample labels become Pyroscope's: Pyroscope turns every pprof sample label into a series label
/// (except <c>span_id</c>, which it keeps per sample for span profiles), and series labels follow Prometheus' name
/// rules, so labels are renamed to <c>[a-zA-Z0-9_]</c> and the per-request and per-thread ones are left out.
/// </summary>
internal static class PyroscopeLabels
{
    /// <summary>The series label naming the service (Pyroscope's application).</summary>
    public const string ServiceName = "service_name";

    /// <summary>The series label naming the profile type.</summary>
    public const string MetricName = "__name__";

    /// <summary>
    /// Pyroscope's <c>__delta__</c> label: <c>false</c> says the profile already covers only its own interval (it does
    /// not have to subtract the previous upload, as it would for Go's cumulative heap profiles).
    /// </summary>
    public const string Delta = "__delta__";

    /// <summary>
    /// The sample label Grafana's traces-to-profiles link filters on: the LOCAL ROOT span id, which is what the span's
    /// <c>pyroscope.profile.id</c> attribute says (Triggers/RequestTriggers). TraceProf's own <c>span_id</c> label is the
    /// innermost span; the upload puts the local root's id in its place.
    /// </summary>
    public const string SpanId = "span_id";

    private const string LocalRootSpanId = "local_root_span_id";

    // Unbounded values: as series labels each would make a series per request or per thread. The trace is reached
    // through span_id (Grafana's link); thread ids stay in TraceProf's own profiles.
    private static readonly HashSet<string> Dropped = new(StringComparer.Ordinal)
    {
        "trace_id", LocalRootSpanId, "thread_id", "thread_name", "capture_trace_id", "scope",
    };

    /// <summary>Gets the label names TraceProf sets on every series itself.</summary>
    public static IReadOnlyList<string> Reserved { get; } = [ServiceName, SpanId];

    /// <summary>Whether a name is one TraceProf sets on every series or sample.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True when reserved.</returns>
    public static bool IsReserved(string name) => Reserved.Contains(name, StringComparer.Ordinal);

    /// <summary>Whether a name follows Prometheus' label name rule <c>[a-zA-Z_][a-zA-Z0-9_]*</c>.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A label name made valid: every other character becomes <c>_</c> (<c>http.route</c> → <c>http_route</c>).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The valid name.</returns>
    public static string Sanitize(string name)
    {
        if (IsValidName(name))
        {
            return name;
        }

        var builder = new StringBuilder(name.Length + 1);
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            builder.Append('_');
        }

        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        return builder.ToString();
    }

    /// <summary>
    /// A sample's labels as uploaded: <c>span_id</c> = the local root span, per-request and per-thread labels left out,
    /// names sanitized.
    /// </summary>
    /// <param name="labels">The sample's labels in TraceProf's profile.</param>
    /// <param name="buffer">A reusable list.</param>
    /// <returns>The labels to upload.</returns>
    public static ProfileLabel[] ForUpload(IReadOnlyList<ProfileLabel> labels, List<ProfileLabel> buffer)
    {
        buffer.Clear();
        string? root = null;
        string? innermost = null;
        foreach (var label in labels)
        {
            switch (label.Key)
            {
                case LocalRootSpanId:
                    root = label.Value;
                    break;
                case SpanId:
                    innermost = label.Value;
                    break;
                default:
                    if (!Dropped.Contains(label.Key))
                    {
                        buffer.Add(new ProfileLabel(Sanitize(label.Key), label.Value));
                    }

                    break;
            }
        }

        // A timeline entry always has both; a profile decoded from elsewhere may only have span_id.
        if ((root ?? innermost) is { } span)
        {
            buffer.Add(new ProfileLabel(SpanId, span));
        }

        return [.. buffer];
    }
}
