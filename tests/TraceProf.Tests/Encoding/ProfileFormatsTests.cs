using TraceProf.Encoding;

namespace TraceProf.Tests.Encoding;

/// <summary><see cref="ProfileFormats"/> parses <c>format=</c> values and names each format's media type and extension.</summary>
public sealed class ProfileFormatsTests
{
    [Theory]
    [InlineData("pprof", ProfileFormat.Pprof)]
    [InlineData("PPROF", ProfileFormat.Pprof)]
    [InlineData("PProf", ProfileFormat.Pprof)]
    [InlineData("speedscope", ProfileFormat.Speedscope)]
    [InlineData("SpeedScope", ProfileFormat.Speedscope)]
    [InlineData("folded", ProfileFormat.Folded)]
    [InlineData("FOLDED", ProfileFormat.Folded)]
    [InlineData("nettrace", ProfileFormat.Nettrace)]
    [InlineData("NetTrace", ProfileFormat.Nettrace)]
    public void ProfileFormats_TryParseAcceptsTheNamesInAnyCase(string value, ProfileFormat expected)
    {
        Assert.True(ProfileFormats.TryParse(value, out var format));
        Assert.Equal(expected, format);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" pprof")]
    [InlineData("pprof ")]
    [InlineData("json")]
    [InlineData("pprof.gz")]
    [InlineData("0")]
    [InlineData("\u0420prof")] // 'P' written as a Cyrillic 'Р' must not slip through a culture-aware comparison.
    public void ProfileFormats_TryParseRejectsOtherValues(string? value)
    {
        Assert.False(ProfileFormats.TryParse(value, out var format));
        Assert.Equal(default, format);
    }

    [Fact]
    public void ProfileFormats_EveryNameParsesBackToItsFormat()
    {
        foreach (var format in Enum.GetValues<ProfileFormat>())
        {
            Assert.True(ProfileFormats.TryParse(ProfileFormats.Name(format), out var parsed));
            Assert.Equal(format, parsed);
        }

        Assert.Equal(["pprof", "speedscope", "folded", "nettrace"], ProfileFormats.Names);
    }

    [Theory]
    [InlineData(ProfileFormat.Pprof, "application/octet-stream", ".pb.gz")]
    [InlineData(ProfileFormat.Speedscope, "application/json", ".speedscope.json")]
    [InlineData(ProfileFormat.Folded, "text/plain; charset=utf-8", ".folded.txt")]
    [InlineData(ProfileFormat.Nettrace, "application/octet-stream", ".nettrace")]
    public void ProfileFormats_NameTheContentTypeAndFileExtension(ProfileFormat format, string contentType, string extension)
    {
        Assert.Equal(contentType, ProfileFormats.ContentType(format));
        Assert.Equal(extension, ProfileFormats.FileExtension(format));
    }

    [Fact]
    public void ProfileFormats_UnknownFormatThrows()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ProfileFormats.ContentType((ProfileFormat)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProfileFormats.FileExtension((ProfileFormat)42));
    }
}
