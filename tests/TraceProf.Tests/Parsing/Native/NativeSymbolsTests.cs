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

    [SkippableFact]
    public void TheStrippedRuntime_UnwindTableStartsEachFunction_WhereItsExportStarts()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "ELF files are Linux's.");
        var path = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libcoreclr.so");
        var elf = ElfSymbols.Read(path);
        Assert.NotNull(elf);

        // Microsoft ships it stripped: a handful of exports, but the unwind table knows every function.
        Assert.True(elf.UnnamedFunctionStarts.Count() > 1000, $"{elf.UnnamedFunctionStarts.Count()} functions in the unwind table");

        // An export is a function the unwind table knows too, starting at the very address its symbol gives.
        var handle = NativeLibrary.Load(path);
        var export = (ulong)NativeLibrary.GetExport(handle, "coreclr_initialize");
        Assert.True(NativeSymbols.ThisProcess.TryResolve(export, out var named));
        Assert.Equal("libcoreclr.so!coreclr_initialize", named.DisplayName);
        var bias = Bias(elf, export, path);
        Assert.True(elf.TryFindUnnamedFunction(export - bias + 1, out var start));
        Assert.Equal(export - bias, start);
    }

    [SkippableFact]
    public void AFunctionOfTheStrippedRuntimeWithoutSymbol_IsNamedByItsStart_NotByTheNearestExport()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "ELF files are Linux's.");
        var path = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libcoreclr.so");
        var elf = ElfSymbols.Read(path)!;
        var export = (ulong)NativeLibrary.GetExport(NativeLibrary.Load(path), "coreclr_initialize");
        var bias = Bias(elf, export, path);

        // A function the exports do not cover.
        var unnamed = elf.UnnamedFunctionStarts.First(s => s > 0x10000 && !elf.TryFind(s + 1, out _, out _));
        Assert.True(NativeSymbols.ThisProcess.TryResolve(unnamed + bias + 1, out var symbol));
        Assert.Equal($"libcoreclr.so!unnamed_0x{unnamed:x}", symbol.DisplayName);
        Assert.Equal(1UL, symbol.Offset);
        Assert.True(NativeSymbols.ThisProcess.TryResolve(unnamed + bias + 2, out var same));
        Assert.Equal(symbol.DisplayName, same.DisplayName);
    }

    // Load address minus virtual address, from where an export is mapped.
    private static ulong Bias(ElfSymbols elf, ulong export, string path)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6 || f[5].Trim() != path)
            {
                continue;
            }

            var range = f[0].Split('-');
            var start = ulong.Parse(range[0], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            var end = ulong.Parse(range[1], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            if (export >= start && export < end && elf.TryVirtualAddress(export - start + ulong.Parse(f[2], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture), out var virtualAddress))
            {
                return export - virtualAddress;
            }
        }

        throw new InvalidOperationException("libcoreclr.so is not mapped where its export is.");
    }
}
