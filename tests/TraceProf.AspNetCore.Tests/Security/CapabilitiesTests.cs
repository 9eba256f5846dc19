using TraceProf.AspNetCore.Security;

namespace TraceProf.AspNetCore.Tests.Security;

public sealed class CapabilitiesTests
{
    [Theory]
    [InlineData("", (int)(Capabilities.None))]
    [InlineData("cpu", (int)(Capabilities.Cpu))]
    [InlineData("CPU", (int)(Capabilities.Cpu))]
    [InlineData("cpu,snapshots", (int)(Capabilities.Cpu | Capabilities.Snapshots))]
    [InlineData("cpu snapshots;threads", (int)(Capabilities.Cpu | Capabilities.Snapshots | Capabilities.Threads))]
    [InlineData(" allocs , contention ,trace ", (int)(Capabilities.Allocs | Capabilities.Contention | Capabilities.Trace))]
    [InlineData("*", (int)(Capabilities.All))]
    [InlineData("cpu,*", (int)(Capabilities.All))]
    public void TryParseList_ReadsNamesSeparatedByCommasSpacesOrSemicolons(string list, int expected)
    {
        Assert.True(CapabilityNames.TryParseList(list, out var capabilities, out var unknown));
        Assert.Equal((Capabilities)expected, capabilities);
        Assert.Null(unknown);
    }

    [Theory]
    [InlineData("gpu", "gpu")]
    [InlineData("cpu,heapz", "heapz")]
    [InlineData("cpu,**", "**")]
    public void TryParseList_ReportsTheFirstUnknownName(string list, string expected)
    {
        Assert.False(CapabilityNames.TryParseList(list, out _, out var unknown));
        Assert.Equal(expected, unknown);
    }

    [Fact]
    public void All_NamesEveryCapabilityOnce_AndTheyMakeUpAll()
    {
        Assert.Equal(["cpu", "allocs", "contention", "threads", "trace", "heap", "exceptions", "snapshots"], CapabilityNames.All);
        Assert.True(CapabilityNames.TryParseList(string.Join(',', CapabilityNames.All), out var every, out _));
        Assert.Equal(Capabilities.All, every);
    }

    [Theory]
    [InlineData((int)(Capabilities.None), "none")]
    [InlineData((int)(Capabilities.Cpu), "cpu")]
    [InlineData((int)(Capabilities.Snapshots | Capabilities.Cpu), "cpu, snapshots")]
    [InlineData((int)(Capabilities.All), "cpu, allocs, contention, threads, trace, heap, exceptions, snapshots")]
    public void Describe_NamesTheCapabilitiesInTheirListOrder(int capabilities, string expected) =>
        Assert.Equal(expected, CapabilityNames.Describe((Capabilities)capabilities));
}
