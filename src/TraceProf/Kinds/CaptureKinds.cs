using System.Diagnostics.CodeAnalysis;

namespace TraceProf.Kinds;

/// <summary>The names of <see cref="CaptureKind"/> values in URLs and snapshot rows.</summary>
internal static class CaptureKinds
{
    /// <summary>Every kind's name, in declaration order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. KindCatalog.All.Select(k => k.Name)];

    /// <summary>The name of a kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>For example <c>cpu</c> or <c>allocs</c>.</returns>
    public static string Name(CaptureKind kind) =>
        (uint)kind < (uint)Names.Count ? Names[(int)kind] : throw new ArgumentOutOfRangeException(nameof(kind), kind, null);

    /// <summary>Parses a kind name (exact, lower case).</summary>
    /// <param name="name">The name.</param>
    /// <param name="kind">The kind.</param>
    /// <returns>Whether the name is known.</returns>
    public static bool TryParse([NotNullWhen(true)] string? name, out CaptureKind kind)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], name, StringComparison.Ordinal))
            {
                kind = (CaptureKind)i;
                return true;
            }
        }

        kind = default;
        return false;
    }
}
