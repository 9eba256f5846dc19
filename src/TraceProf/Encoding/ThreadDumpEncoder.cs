using System.Globalization;
using System.Text;
using TraceProf.Profiles;

namespace TraceProf.Encoding;

/// <summary>
/// Writes a thread-stacks profile as text, like Go's <c>goroutine?debug=1</c> and <c>debug=2</c>:
/// level 1 groups identical stacks with a count, level 2 prints one block per thread with its id and name.
/// </summary>
internal static class ThreadDumpEncoder
{
    /// <summary>Writes the dump as UTF-8 text.</summary>
    /// <param name="profile">A thread-stacks profile (labels <c>thread_id</c>, <c>thread_name</c>, <c>thread_state</c>).</param>
    /// <param name="destination">Where to write (left open).</param>
    /// <param name="debugLevel">1 (grouped) or 2 (per thread).</param>
    public static void Write(Profile profile, Stream destination, int debugLevel)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfLessThan(debugLevel, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(debugLevel, 2);
        using var writer = new StreamWriter(destination, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var threads = profile.Samples
            .Select(s => (Sample: s, Id: Label(s, "thread_id"), Name: Label(s, "thread_name"), State: Label(s, "thread_state")))
            .OrderBy(t => long.TryParse(t.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : long.MaxValue)
            .ToList();

        if (debugLevel == 1)
        {
            var groups = threads
                .GroupBy(t => string.Join(',', t.Sample.Stack))
                .OrderByDescending(g => g.Count())
                .ThenBy(g => g.Key, StringComparer.Ordinal);
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"threads profile: total {threads.Count}"));
            foreach (var group in groups)
            {
                writer.WriteLine();
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{group.Count()} @ threads {string.Join(", ", group.Select(t => t.Id))}"));
                WriteStack(writer, profile, group.First().Sample);
            }

            return;
        }

        foreach (var (sample, id, name, state) in threads)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"thread {id} \"{name}\" [{state}]:"));
            WriteStack(writer, profile, sample);
            writer.WriteLine();
        }
    }

    private static void WriteStack(StreamWriter writer, Profile profile, ProfileSample sample)
    {
        if (sample.Stack.Count == 0)
        {
            writer.WriteLine("\t(no managed frames)");
        }

        foreach (var frameId in sample.Stack)
        {
            var frame = profile.Frames[frameId];
            writer.WriteLine(frame.ModuleName.Length == 0 ? $"\t{frame.FunctionName}" : $"\t{frame.FunctionName}\t[{frame.ModuleName}]");
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
