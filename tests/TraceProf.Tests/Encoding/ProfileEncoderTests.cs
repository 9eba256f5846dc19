using TraceProf.Encoding;

namespace TraceProf.Tests.Encoding;

/// <summary><see cref="ProfileEncoder"/> dispatches to the encoder of each format and refuses nettrace.</summary>
public sealed class ProfileEncoderTests
{
    private static byte[] Write(ProfileFormat format)
    {
        using var stream = new MemoryStream();
        ProfileEncoder.Write(ShopProfile.Build(), format, stream, "shop");
        return stream.ToArray();
    }

    [Fact]
    public void ProfileEncoder_NettraceThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Write(ProfileFormat.Nettrace));
        Assert.Equal("format", ex.ParamName);
    }

    [Fact]
    public void ProfileEncoder_UnknownFormatThrows() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Write((ProfileFormat)42));

    [Fact]
    public void ProfileEncoder_NullProfileOrDestinationThrowsEvenForNettrace()
    {
        using var stream = new MemoryStream();
        Assert.Throws<ArgumentNullException>(() => ProfileEncoder.Write(null!, ProfileFormat.Nettrace, stream, "shop"));
        Assert.Throws<ArgumentNullException>(() => ProfileEncoder.Write(ShopProfile.Build(), ProfileFormat.Nettrace, null!, "shop"));
    }

    [Fact]
    public void ProfileEncoder_PprofIsTheGzippedPprofEncoding() =>
        Assert.Equal(PprofEncoder.Encode(ShopProfile.Build()), Write(ProfileFormat.Pprof));

    [Fact]
    public void ProfileEncoder_SpeedscopeIsSpeedscopeJson()
    {
        using var document = System.Text.Json.JsonDocument.Parse(Write(ProfileFormat.Speedscope));
        Assert.Equal(SpeedscopeEncoder.Schema, document.RootElement.GetProperty("$schema").GetString());
        Assert.Equal("shop", document.RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public void ProfileEncoder_FoldedIsFoldedStacks()
    {
        using var expected = new MemoryStream();
        FoldedEncoder.Write(ShopProfile.Build(), expected);
        Assert.Equal(expected.ToArray(), Write(ProfileFormat.Folded));
    }
}
