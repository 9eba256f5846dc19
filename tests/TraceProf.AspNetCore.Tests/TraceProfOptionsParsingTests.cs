namespace TraceProf.AspNetCore.Tests;

/// <summary>The string settings users write are read once into the package's enums.</summary>
public sealed class TraceProfOptionsParsingTests
{
    [Theory]
    [InlineData("Sqlite", "Sqlite")]
    [InlineData("sqlite", "Sqlite")]
    [InlineData("PostgreSql", "PostgreSql")]
    [InlineData("POSTGRESQL", "PostgreSql")]
    public void StorageProvider_ReadsEitherNameInAnyCase(string value, string expected)
    {
        Assert.True(new TraceProfStorageOptions { Provider = value }.TryGetProvider(out var provider));
        Assert.Equal(expected, provider.ToString());
    }

    [Theory]
    [InlineData("Mongo")]
    [InlineData("1")]
    [InlineData("Sqlite,PostgreSql")]
    [InlineData("")]
    public void StorageProvider_RejectsAnythingElse_EvenWhatEnumParseWouldTake(string value) =>
        Assert.False(new TraceProfStorageOptions { Provider = value }.TryGetProvider(out _));

    [Theory]
    [InlineData("cpu", "Cpu")]
    [InlineData("cpu,contention", "Cpu, Contention")]
    [InlineData(" CPU , allocs ", "Cpu, Allocations")]
    [InlineData("allocations,contention,cpu,cpu", "Cpu, Allocations, Contention")]
    [InlineData("cpu,waits", "Cpu, Block")]
    [InlineData("cpu,contention,exceptions", "Cpu, Contention, Exceptions")]
    public void RecorderKinds_ReadTheCommaList(string value, string expected)
    {
        Assert.True(new TraceProfFlightRecorderOptions { Kinds = value }.TryGetKinds(out var kinds, out _));
        Assert.Equal(expected, kinds.ToString());
    }

    [Theory]
    [InlineData("cpu,threads", "threads")]
    [InlineData("", "")]
    [InlineData(" , ", " , ")]
    public void RecorderKinds_NameTheWordThatIsNotAKind(string value, string bad)
    {
        Assert.False(new TraceProfFlightRecorderOptions { Kinds = value }.TryGetKinds(out var kinds, out var reported));
        Assert.Equal(TraceProf.Kinds.CaptureKindSet.None, kinds);
        Assert.Equal(bad, reported);
    }
}
