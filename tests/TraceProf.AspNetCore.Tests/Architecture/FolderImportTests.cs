namespace TraceProf.AspNetCore.Tests.Architecture;

/// <summary>The package's folders follow docs/architecture.md: no folder imports one that imports it back.</summary>
public sealed class FolderImportTests
{
    private const string RootNamespace = "TraceProf.AspNetCore";

    private static string SourceRoot => Path.Combine(FolderImports.RepositoryRoot(), "src", "TraceProf.AspNetCore");

    [Fact]
    public void Folders_ImportEachOtherWithoutCycles()
    {
        var imports = FolderImports.Read(SourceRoot, RootNamespace);
        var cycles = FolderImports.FindCycles(imports);
        Assert.True(cycles.Count == 0, "Folder import cycles: " + string.Join("; ", cycles));
    }

    [Fact]
    public void Files_DeclareTheNamespaceOfTheirFolder()
    {
        // The public entry points live in the namespaces users already import, as ASP.NET Core's own do.
        var misplaced = FolderImports.MisplacedNamespaces(SourceRoot, RootNamespace, "Microsoft.Extensions.DependencyInjection", "Microsoft.AspNetCore.Builder", "OpenTelemetry.Trace");
        Assert.True(misplaced.Count == 0, string.Join(Environment.NewLine, misplaced));
    }

    [Fact]
    public void FindCycles_ReportsEachCycleOnceAlongItsFolders()
    {
        var imports = new Dictionary<string, IReadOnlySet<string>>
        {
            ["Endpoints"] = new HashSet<string> { "Security", "Ui" },
            ["Security"] = new HashSet<string> { "Ui" },
            ["Ui"] = new HashSet<string> { "Endpoints", "Security" },
            ["Tracking"] = new HashSet<string>(),
        };

        var cycles = FolderImports.FindCycles(imports);

        Assert.Equal(["Endpoints → Security → Ui → Endpoints", "Endpoints → Ui → Endpoints", "Security → Ui → Security"], cycles.Order(StringComparer.Ordinal));
    }
}
