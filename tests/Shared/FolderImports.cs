using System.Text.RegularExpressions;

// Shared by both test projects (linked from tests/Shared): the ASP.NET package checks itself with it, and the
// engine can point it at src/TraceProf with root namespace "TraceProf".
namespace TraceProf.Tests;

/// <summary>
/// Reads a project's C# sources and works out which top-level folder imports which: a file in folder <c>A</c>
/// imports folder <c>B</c> when it names <c>{root}.B</c> in a <c>using</c> line or fully qualified in its code.
/// The project's root folder is left out, because every child namespace sees it without naming it.
/// </summary>
public static partial class FolderImports
{
    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""|//.*$", RegexOptions.CultureInvariant)]
    private static partial Regex CodeOnly();

    /// <summary>Maps each top-level folder under <paramref name="sourceRoot"/> to the folders it imports.</summary>
    /// <param name="sourceRoot">The project folder, for example <c>src/TraceProf.AspNetCore</c>.</param>
    /// <param name="rootNamespace">The namespace the folder names hang off, for example <c>TraceProf.AspNetCore</c>.</param>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> Read(string sourceRoot, string rootNamespace)
    {
        var folders = Directory.GetDirectories(sourceRoot)
            .Select(path => Path.GetFileName(path))
            .Where(name => name is not ("bin" or "obj") && Directory.EnumerateFiles(Path.Combine(sourceRoot, name), "*.cs", SearchOption.AllDirectories).Any())
            .ToHashSet(StringComparer.Ordinal);
        var reference = new Regex(@"(?<![\w.])" + Regex.Escape(rootNamespace) + @"\.(?<folder>[A-Z]\w*)", RegexOptions.CultureInvariant);
        var imports = folders.ToDictionary(f => f, _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(sourceRoot, folder), "*.cs", SearchOption.AllDirectories))
            {
                foreach (var line in File.ReadLines(file))
                {
                    // A namespace declaration names the file's own folder; it imports nothing.
                    if (NamespaceLine().IsMatch(line))
                    {
                        continue;
                    }

                    // Text in a string literal or a comment names a type; it does not import its folder.
                    foreach (Match match in reference.Matches(CodeOnly().Replace(line, "")))
                    {
                        var imported = match.Groups["folder"].Value;
                        if (imported != folder && folders.Contains(imported))
                        {
                            imports[folder].Add(imported);
                        }
                    }
                }
            }
        }

        return imports.ToDictionary(p => p.Key, p => (IReadOnlySet<string>)p.Value, StringComparer.Ordinal);
    }

    /// <summary>Every import cycle, each as the folders along it (<c>Endpoints → Ui → Endpoints</c>); empty when there is none.</summary>
    public static IReadOnlyList<string> FindCycles(IReadOnlyDictionary<string, IReadOnlySet<string>> imports)
    {
        var cycles = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in imports.Keys.Order(StringComparer.Ordinal))
        {
            // Search from each folder for a way back to it; report each cycle once, from its smallest folder name.
            var path = new List<string> { start };
            Walk(start);

            void Walk(string current)
            {
                foreach (var next in imports.TryGetValue(current, out var targets) ? targets : new HashSet<string>())
                {
                    if (next == start)
                    {
                        var cycle = string.Join(" → ", path.Append(start));
                        if (path.All(f => string.CompareOrdinal(f, start) >= 0) && seen.Add(cycle))
                        {
                            cycles.Add(cycle);
                        }

                        continue;
                    }

                    if (!path.Contains(next) && string.CompareOrdinal(next, start) > 0)
                    {
                        path.Add(next);
                        Walk(next);
                        path.RemoveAt(path.Count - 1);
                    }
                }
            }
        }

        return cycles;
    }

    /// <summary>
    /// Files whose namespace is not the one their folder stands for (<c>{root}.{Folder}</c>, or the root namespace at
    /// the root), other than the namespaces in <paramref name="alsoAllowed"/>: such a file would reach its namespace's
    /// folder without a <c>using</c>, out of sight of <see cref="Read"/>.
    /// </summary>
    public static IReadOnlyList<string> MisplacedNamespaces(string sourceRoot, string rootNamespace, params string[] alsoAllowed)
    {
        var misplaced = new List<string>();
        foreach (var file in Directory.EnumerateFiles(sourceRoot, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(sourceRoot, file);
            var parts = relative.Split(Path.DirectorySeparatorChar);
            if (parts[0] is "bin" or "obj")
            {
                continue;
            }

            var expected = parts.Length == 1 ? rootNamespace : rootNamespace + "." + parts[0];
            foreach (var line in File.ReadLines(file))
            {
                var match = NamespaceName().Match(line);
                if (!match.Success)
                {
                    continue;
                }

                var name = match.Groups["name"].Value;
                if (name != expected && !name.StartsWith(expected + ".", StringComparison.Ordinal) && !alsoAllowed.Contains(name))
                {
                    misplaced.Add($"{relative.Replace(Path.DirectorySeparatorChar, '/')}: namespace {name}, expected {expected}");
                }
            }
        }

        return misplaced;
    }

    /// <summary>Finds the repository folder (the one holding <c>Diagnostics.sln</c>) above the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Diagnostics.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Diagnostics.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^\s*namespace\s", RegexOptions.CultureInvariant)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^\s*namespace\s+(?<name>[\w.]+)", RegexOptions.CultureInvariant)]
    private static partial Regex NamespaceName();
}
