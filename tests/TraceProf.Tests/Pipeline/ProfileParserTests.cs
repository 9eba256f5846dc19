using TraceProf.Kinds.Cpu;
using TraceProf.Parsing;
using TraceProf.Pipeline;

namespace TraceProf.Tests.Pipeline;

public sealed class ProfileParserTests
{
    [Fact]
    public void Parse_FileThatIsNotANettrace_ThrowsInvalidDataException_AndLeavesNoTempFiles()
    {
        using var folder = new TempFolder();
        var path = folder.File("garbage.nettrace");
        File.WriteAllText(path, "this is not a nettrace file at all");
        var temp = Path.Combine(folder.Path, "tmp");

        var error = Assert.Throws<InvalidDataException>(() => ProfileParser.Parse(TraceProf.Kinds.CaptureKind.Cpu, path, new ParseOptions { TempDirectory = temp }, CancellationToken.None));
        Assert.Contains("garbage.nettrace", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(temp));
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData("", 1)]
    [InlineData("A", 10)]
    [InlineData("a", 10)]
    [InlineData("0xA", 10)]
    [InlineData("10", 16)]
    [InlineData("3E7", 999)]
    [InlineData("3E8", 1)]
    [InlineData("0", 1)]
    [InlineData("ten", 1)]
    public void SamplingInterval_IsReadAsHexadecimalMilliseconds_LikeTheRuntimeReadsIt(string? value, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), ParseOptions.SamplingIntervalFromEnvironmentValue(value));

    [Fact]
    public void EffectiveInterval_RescalesTimeColumnsToTheRealTickSpacing()
    {
        // One thread sampled 100 times over 400 ms: ticks were 4 ms apart, not the nominal 1 ms.
        var builder = new TraceProf.Profiles.ProfileBuilder(TraceProf.Profiles.WellKnownSampleTypes.CpuProfile, 1)
        {
            Period = 1_000_000,
            Duration = TimeSpan.FromMilliseconds(400),
        };
        var frame = builder.InternFrame(new TraceProf.Profiles.ProfileFrame("App.Work", "App"));
        for (var i = 0; i < 100; i++)
        {
            builder.Add([frame], [1, i % 2 == 0 ? 1_000_000 : 0, 1_000_000], [new TraceProf.Profiles.ProfileLabel("thread_id", "7")]);
        }

        var profile = EffectiveSamplingInterval.Apply(builder.Build(), TimeSpan.FromMilliseconds(1));

        Assert.Equal(4_000_000, profile.Period);
        Assert.Equal(100, profile.Total(0));
        Assert.Equal(200_000_000, profile.Total(1));
        Assert.Equal(400_000_000, profile.Total(2));
        Assert.Contains(profile.Comments, c => c.Contains("effective 4.00 ms", StringComparison.Ordinal));
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
