using System.Runtime.CompilerServices;

namespace TraceProf.Tests.Parsing;

/// <summary>A method with one hot line, found by its marker comment; its line number is read from this file.</summary>
internal static class SourceLineWorkload
{
    public const string MethodName = "TraceProf.Tests.Parsing.SourceLineWorkload.SpinOnOneLine";
    public const string Marker = "// the hot line";

    public static double Sink;

    /// <summary>Gets this file as the compiler saw it (the PDB names the same path).</summary>
    public static string SourceFile { get; } = ThisFile();

    /// <summary>Gets the 1-based number of the line with <see cref="Marker"/>.</summary>
    public static int HotLine { get; } = Array.FindIndex(File.ReadAllLines(ReadablePath()), l => l.Contains(Marker, StringComparison.Ordinal) && !l.Contains("const", StringComparison.Ordinal)) + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void SpinOnOneLine(CancellationToken stop)
    {
        var x = 1.0;
        while (!stop.IsCancellationRequested)
        {
            for (var i = 1; i < 100_000; i++) { x = (Math.Sqrt(x + i) * 1.0000001) + (i % 7); } // the hot line
            Sink = x;
        }
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;

    /// <summary>
    /// go tool pprof options that let <c>-list</c> read this file: none for a plain build; for a deterministic one
    /// (paths mapped to <c>/_/</c>), trim that prefix and look in the checkout, as a user of such a build does.
    /// </summary>
    public static string[] PprofSourceOptions() => SourceFile.StartsWith("/_/", StringComparison.Ordinal)
        ? ["-trim_path=/_/", "-source_path=" + ReadablePath()[..^"tests/TraceProf.Tests/Parsing/SourceLineWorkload.cs".Length]]
        : [];

    // A deterministic build (CI=true, as .ci/run builds) maps source paths to /_/…: the PDB says the same, but the file
    // to read is in the checkout, found from the test's output folder.
    internal static string ReadablePath()
    {
        if (File.Exists(SourceFile))
        {
            return SourceFile;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Diagnostics.sln")))
            {
                return Path.Combine(dir.FullName, "tests", "TraceProf.Tests", "Parsing", "SourceLineWorkload.cs");
            }
        }

        throw new FileNotFoundException("Neither the compiled path nor the checkout has this file.", SourceFile);
    }
}
