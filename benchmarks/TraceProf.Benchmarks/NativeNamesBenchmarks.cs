using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using TraceProf.Parsing.Native;

namespace TraceProf.Benchmarks;

/// <summary>
/// What naming code no method event names costs, once per module file and process (<see cref="NativeSymbols"/>
/// caches each): reading a ready-to-run image's method table (<see cref="ReadyToRunMethods"/>, the framework's largest,
/// <c>System.Private.CoreLib</c>, and the sample's socket engine, <c>System.Net.Sockets</c>), and the stripped runtime's
/// exports and unwind table (<see cref="ElfSymbols"/>, <c>libcoreclr.so</c>). Then one lookup of each.
/// </summary>
[MemoryDiagnoser]
public class NativeNamesBenchmarks
{
    private static readonly string CoreLib = typeof(object).Assembly.Location;
    private static readonly string Sockets = typeof(System.Net.Sockets.Socket).Assembly.Location;
    private static readonly string CoreClr = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libcoreclr.so");
    private ReadyToRunMethods _coreLib = null!;

    [GlobalSetup]
    public void Setup() => _coreLib = ReadyToRunMethods.Read(CoreLib) ?? throw new InvalidOperationException("CoreLib is not a ready-to-run image here.");

    [GlobalCleanup]
    public void Cleanup() => _coreLib.Dispose();

    [Benchmark]
    public int ReadyToRunRead_CoreLib()
    {
        using var image = ReadyToRunMethods.Read(CoreLib);
        return image?.Count ?? 0;
    }

    [Benchmark]
    public int ReadyToRunRead_Sockets()
    {
        using var image = ReadyToRunMethods.Read(Sockets);
        return image?.Count ?? 0;
    }

    [Benchmark]
    public int ElfRead_CoreClr() => ElfSymbols.Read(CoreClr)?.Count ?? 0;

    [Benchmark]
    public bool ReadyToRunLookup_CoreLib() => _coreLib.TryFind(0x20000, out _, out _);
}
