using System.Globalization;
using System.Text;
using TraceProf.Profiles;

namespace TraceProf.Encoding;

/// <summary>
/// Writes a tasks profile (pending async chains) as text, like Go's <c>goroutine?debug=1</c> and <c>debug=2</c>:
/// level 1 groups identical chains (<c>N @ awaiting X</c>, then one <c>#\tMethod</c> line per frame, innermost first);
/// level 2 prints one block per chain with the request it belongs to where known.
/// </summary>
internal static class TasksTextEncoder
{
    /// <summary>Writes the text as UTF-8.</summary>
    /// <param name="profile">A tasks profile (labels <c>awaits</c>, <c>trace_id</c>, <c>span_id</c>, <c>http.method</c>, <c>http.route</c>).</param>
    /// <param name="destination">Where to write (left open).</param>
    /// <param name="debugLevel">1 (grouped) or 2 (per chain).</param>
    public static void Write(Profile profile, Stream destination, int debugLevel)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfLessThan(debugLevel, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(debugLevel, 2);
        using var writer = new StreamWriter(destination, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var total = profile.Samples.Sum(s => s.Values.Count > 0 ? s.Values[0] : 1);
        if (debugLevel == 1)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tasks profile: total {total}"));
            var groups = profile.Samples
                .GroupBy(s => (Stack: string.Join(',', s.Stack), Awaits: Label(s, "awaits")))
                .Select(g => (Count: g.Sum(s => s.Values.Count > 0 ? s.Values[0] : 1), g.Key.Awaits, First: g.First()))
                .OrderByDescending(g => g.Count)
                .ThenBy(g => g.First.Stack.Count == 0 ? "" : profile.Frames[g.First.Stack[0]].FunctionName, StringComparer.Ordinal);
            foreach (var (count, awaits, first) in groups)
            {
                writer.WriteLine();
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count} @ awaiting {(awaits.Length == 0 ? "?" : awaits)}"));
                foreach (var frameId in first.Stack)
                {
                    writer.WriteLine($"#\t{profile.Frames[frameId].FunctionName}");
                }
            }

            return;
        }

        var n = 0;
        foreach (var sample in profile.Samples)
        {
            n++;
            var awaits = Label(sample, "awaits");
            var trace = Label(sample, "trace_id");
            var request = trace.Length == 0
                ? "request unknown"
                : $"trace {trace} span {Label(sample, "span_id")} {Label(sample, "http.method")} {Label(sample, "http.route")}".TrimEnd();
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"task chain {n} [awaiting {(awaits.Length == 0 ? "?" : awaits)}] {request}:"));
            foreach (var frameId in sample.Stack)
            {
                var frame = profile.Frames[frameId];
                writer.WriteLine(frame.SystemName.Length == 0 ? $"\t{frame.FunctionName}" : $"\t{frame.FunctionName}\t[{frame.SystemName}]");
            }

            writer.WriteLine();
        }
    }

    private static string Label(ProfileSample sample, string key)
    {
        foreach (var label in sample.Labels)
        {
            if (label.Key == key)
            {
                return label.Value;
            }
        }

        return "";
    }
}
