using System.Runtime.InteropServices;
using TraceProf.Parsing.Native;

namespace TraceProf.Tests.Parsing.Native;

/// <summary>The native resolver names real code of this process: libc's and the runtime's exported functions.</summary>
public sealed class NativeSymbolsTests
{
    [SkippableTheory]
    [InlineData("libc.so.6", "getpid")]
    [InlineData("libcoreclr.so", "coreclr_initialize")]
    public void AnExportedFunction_IsNamedModuleBangSymbol(string library, string function)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "/proc/self/maps and ELF symbols are Linux's.");
        var handle = library == "libcoreclr.so"
            ? NativeLibrary.Load(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), library))
            : NativeLibrary.Load(library);
        var address = (ulong)NativeLibrary.GetExport(handle, function);

        // An address inside the function (a return address would be), not only its start.
        Assert.True(NativeSymbols.ThisProcess.TryResolve(address + 1, out var symbol));

        Assert.Equal(library, symbol.ModuleName);
        Assert.StartsWith("/", symbol.ModulePath, StringComparison.Ordinal);
        Assert.NotNull(symbol.Symbol);
        Assert.Equal(1UL, symbol.Offset);
        // glibc exports aliases (getpid and __getpid at one address): either names the function.
        Assert.Contains(function, symbol.DisplayName, StringComparison.Ordinal);
        Assert.StartsWith(library + "!", symbol.DisplayName, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAddressNoFileMaps_IsNotNamed()
    {
        Assert.False(new NativeSymbols("/proc/self/maps").TryResolve(8, out _));
    }

    [Fact]
    public void ElfSymbols_OfAFileThatIsNotElf_IsNull()
    {
        Assert.Null(ElfSymbols.Read(typeof(NativeSymbolsTests).Assembly.Location));
    }
}
