using System.Globalization;
using System.Net.Sockets;
using System.Reflection;
using System.Reflection.PortableExecutable;
using TraceProf.Parsing;
using TraceProf.Parsing.Native;

namespace TraceProf.Tests.Parsing.Native;

/// <summary>
/// Precompiled framework code no method event names (the socket engine's P/Invoke stub <c>WaitForSocketEvents</c>,
/// which the rundown skips) is named from the real ready-to-run image's tables.
/// </summary>
public sealed class ReadyToRunMethodsTests
{
    private static readonly string SocketsPath = typeof(Socket).Assembly.Location;

    private static int WaitForSocketEventsToken =>
        typeof(Socket).Assembly.GetType("Interop+Sys", throwOnError: true)!
            .GetMethod("WaitForSocketEvents", BindingFlags.NonPublic | BindingFlags.Static)!.MetadataToken;

    [Fact]
    public void TheSocketEnginesPInvokeStub_IsNamedAsTheRuntimeNamesMethods()
    {
        using var image = ReadyToRunMethods.Read(SocketsPath);
        Assert.NotNull(image);
        Assert.True(image.Count > 100, $"only {image.Count} precompiled methods");

        Assert.True(image.TryGetBody(WaitForSocketEventsToken, out var start, out var end));
        Assert.True(end > start);

        // Any address inside the body (a return address would be), not only its start.
        Assert.True(image.TryFind(start + ((end - start) / 2), out var name, out var token));
        Assert.Equal(WaitForSocketEventsToken, token);
        Assert.Equal("Interop+Sys.WaitForSocketEvents(native int,value class Interop+Sys+SocketEvent*,int32*)", name);
        Assert.Equal("Interop.Sys.WaitForSocketEvents", FrameNames.Display(name));
    }

    [Fact]
    public void AnAddressPastTheLastBody_IsNotNamed()
    {
        using var image = ReadyToRunMethods.Read(SocketsPath);
        Assert.NotNull(image);
        Assert.False(image.TryFind(uint.MaxValue, out _, out _));
        Assert.False(image.TryFind(0, out _, out _));
    }

    [Fact]
    public void AnAssemblyWithoutPrecompiledCode_IsNotAReadyToRunImage()
    {
        // The test assembly is IL only.
        Assert.Null(ReadyToRunMethods.Read(typeof(ReadyToRunMethodsTests).Assembly.Location));
        Assert.Null(ReadyToRunMethods.Read("/nonexistent/file.dll"));
    }

    [SkippableFact]
    public void AnAddressOfThisProcess_InTheMappedImage_ResolvesToTheManagedMethod()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "/proc/self/maps is Linux's.");
        using var image = ReadyToRunMethods.Read(SocketsPath);
        Assert.NotNull(image);
        Assert.True(image.TryGetBody(WaitForSocketEventsToken, out var start, out _));

        // Where this process maps that code: the executable mapping of the file, by the section's file offset.
        using var pe = new PEReader(File.OpenRead(SocketsPath));
        var section = pe.PEHeaders.SectionHeaders.Single(s => start >= (uint)s.VirtualAddress && start - (uint)s.VirtualAddress < (uint)s.SizeOfRawData);
        var fileOffset = (ulong)(start - (uint)section.VirtualAddress + (uint)section.PointerToRawData);
        var mapping = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 6 && f[1].Contains('x', StringComparison.Ordinal) && f[5].Trim() == SocketsPath)
            .Select(f => (Start: ulong.Parse(f[0].Split('-')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), End: ulong.Parse(f[0].Split('-')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture), Offset: ulong.Parse(f[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture)))
            .FirstOrDefault(m => fileOffset >= m.Offset && fileOffset - m.Offset < m.End - m.Start);
        Skip.If(mapping.Start == 0, "The runtime did not map System.Net.Sockets' code from its file in this process.");
        var address = mapping.Start + (fileOffset - mapping.Offset);

        Assert.True(NativeSymbols.ThisProcess.TryResolve(address + 1, out var symbol));
        Assert.True(symbol.ReadyToRun);
        Assert.Equal("System.Net.Sockets", symbol.ManagedModule);
        Assert.StartsWith("Interop+Sys.WaitForSocketEvents(", symbol.DisplayName, StringComparison.Ordinal);
    }
}
