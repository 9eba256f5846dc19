namespace TraceProf.Tests.Architecture;

/// <summary>The engine's folders are the stages of docs/architecture.md and import only what its table allows.</summary>
public sealed class EngineFolderTests
{
    // The "may import" column of docs/architecture.md's engine table; change both together.
    private static readonly Dictionary<string, string[]> MayImport = new(StringComparer.Ordinal)
    {
        ["Profiles"] = [],
        ["Encoding"] = ["Profiles"],
        ["Parsing"] = ["Profiles"],
        ["Attribution"] = ["Profiles"],
        ["Kinds"] = ["Capture", "Parsing", "Attribution", "Profiles"],
        ["Capture"] = [],
        ["Recording"] = ["Capture", "Kinds", "Parsing", "Attribution", "Profiles"],
        ["Storage"] = [],
        ["Pipeline"] = ["Capture", "Kinds", "Parsing", "Attribution", "Profiles", "Encoding", "Storage", "Recording"],
    };

    private static string SourceRoot => Path.Combine(FolderImports.RepositoryRoot(), "src", "TraceProf");

    [Fact]
    public void EveryFolder_IsAStageOfTheArchitecture_AndNoCodeSitsAtTheRoot()
    {
        var folders = Directory.GetDirectories(SourceRoot).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).Order(StringComparer.Ordinal);
        Assert.Equal(MayImport.Keys.Order(StringComparer.Ordinal), folders);
        Assert.Empty(Directory.GetFiles(SourceRoot, "*.cs"));
    }

    [Fact]
    public void Folders_ImportOnlyWhatTheArchitectureAllows_AndHaveNoCycles()
    {
        var imports = FolderImports.Read(SourceRoot, "TraceProf");
        var unexpected = imports
            .SelectMany(folder => folder.Value.Where(target => MayImport.ContainsKey(target) && !MayImport.GetValueOrDefault(folder.Key, []).Contains(target)).Select(target => $"{folder.Key} → {target}"))
            .ToList();
        Assert.True(unexpected.Count == 0, "Imports the architecture does not allow: " + string.Join(", ", unexpected));
        Assert.Empty(FolderImports.FindCycles(imports));
    }
}
