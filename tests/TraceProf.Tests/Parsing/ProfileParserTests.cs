using TraceProf.Parsing;

namespace TraceProf.Tests.Parsing;

public sealed class ProfileParserTests
{
    [Fact]
    public void Parse_FileThatIsNotANettrace_ThrowsInvalidDataException_AndLeavesNoTempFiles()
    {
        using var folder = new TempFolder();
        var path = folder.File("garbage.nettrace");
        File.WriteAllText(path, "this is not a nettrace file at all");
        var temp = Path.Combine(folder.Path, "tmp");

        var error = Assert.Throws<InvalidDataException>(() => ProfileParser.Parse(TraceProf.Capture.CaptureKind.Cpu, path, new ParseOptions { TempDirectory = temp }, CancellationToken.None));
        Assert.Contains("garbage.nettrace", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(temp));
    }

    [Fact]
    public void SamplingInterval_DefaultsToOneMillisecond()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(1), ParseOptions.DefaultSamplingInterval);
        Assert.Equal(
            Environment.GetEnvironmentVariable("DOTNET_EventPipeThreadSamplingRate") is null ? TimeSpan.FromMilliseconds(1) : ParseOptions.SamplingIntervalOfThisProcess(),
            new ParseOptions().SamplingInterval);
    }
}
