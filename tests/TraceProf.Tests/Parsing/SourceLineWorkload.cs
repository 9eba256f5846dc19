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
    public static int HotLine { get; } = Array.FindIndex(File.ReadAllLines(SourceFile), l => l.Contains(Marker, StringComparison.Ordinal) && !l.Contains("const", StringComparison.Ordinal)) + 1;

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
}
