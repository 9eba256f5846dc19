using System.Globalization;
using System.Text;
using TraceProf.Profiles;

namespace TraceProf.Encoding;

/// <summary>
/// Writes Brendan Gregg's folded stacks: one <c>root;…;leaf value</c> line per distinct stack, summed over
/// labels, largest first, for one sample type (default: the profile's default).
/// </summary>
/// <remarks>
/// Zero sums are left out; stacks that read the same (frames that differ only in their system name) are one line;
/// equal values are ordered by the stack text (ordinal), so the output is deterministic.
/// In frame names <c>;</c> becomes <c>,</c> and line breaks become spaces; a sample without frames is written as
/// <c>[no frames]</c>. The text is UTF-8 without a byte order mark, lines end with <c>\n</c>.
/// </remarks>
internal static class FoldedEncoder
{
    /// <summary>Writes the folded lines as UTF-8.</summary>
    /// <param name="profile">The profile.</param>
    /// <param name="destination">Where to write (left open).</param>
    /// <param name="sampleTypeIndex">Which value column; null for the profile's default.</param>
    public static void Write(Profile profile, Stream destination, int? sampleTypeIndex = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(destination);
        var index = sampleTypeIndex ?? profile.DefaultSampleTypeIndex;
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, profile.SampleTypes.Count);

        var names = profile.Frames.Select(f => Sanitize(f.FunctionName)).ToArray();
        // Frames that differ only in their system name (overloads, generic instantiations) read the same, so their
        // lines are one line.
        var lines = SumByStack(profile, index)
            .GroupBy(s => string.Join(';', s.Stack.Reverse().Select(id => names[id])), StringComparer.Ordinal)
            .Select(g => (Line: g.Key, Value: g.Sum(s => s.Value)))
            .OrderByDescending(l => l.Value)
            .ThenBy(l => l.Line, StringComparer.Ordinal);
        using var writer = new StreamWriter(destination, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        foreach (var (line, value) in lines)
        {
            writer.Write(line.Length == 0 ? "[no frames]" : line);
            writer.Write(' ');
            writer.WriteLine(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Sums one value column by stack (ignoring labels), dropping zero sums. Stacks stay leaf first.</summary>
    internal static List<(int[] Stack, long Value)> SumByStack(Profile profile, int valueIndex, Func<ProfileSample, bool>? keep = null)
    {
        var sums = new Dictionary<string, (int[] Stack, long Value)>(StringComparer.Ordinal);
        foreach (var sample in profile.Samples)
        {
            var value = sample.Values[valueIndex];
            if (value == 0 || (keep is not null && !keep(sample)))
            {
                continue;
            }

            var key = string.Join(',', sample.Stack);
            sums[key] = sums.TryGetValue(key, out var sum) ? (sum.Stack, sum.Value + value) : ([.. sample.Stack], value);
        }

        return [.. sums.Values];
    }

    // A ';' would split a frame in two and a line break would end the line: neither may appear in a name.
    private static string Sanitize(string name) =>
        name.Replace(';', ',').Replace('\n', ' ').Replace('\r', ' ');
}
