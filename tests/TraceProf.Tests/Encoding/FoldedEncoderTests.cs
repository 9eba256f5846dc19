using System.Globalization;
using System.Text;
using TraceProf.Encoding;
using TraceProf.Profiles;

namespace TraceProf.Tests.Encoding;

/// <summary><see cref="FoldedEncoder"/> writes one <c>root;…;leaf value</c> line per distinct stack.</summary>
public sealed class FoldedEncoderTests
{
    private static string Encode(Profile profile, int? sampleTypeIndex = null)
    {
        using var stream = new MemoryStream();
        FoldedEncoder.Write(profile, stream, sampleTypeIndex);
        return new UTF8Encoding(false).GetString(stream.ToArray());
    }

    /// <summary>Splits lines the way flamegraph.pl does: the value after the last space, frames split on ';'.</summary>
    private static List<(string[] Frames, long Value)> Parse(string folded)
    {
        Assert.EndsWith("\n", folded, StringComparison.Ordinal);
        return [.. folded.TrimEnd('\n').Split('\n').Select(line =>
        {
            var space = line.LastIndexOf(' ');
            Assert.True(space > 0, $"No value in line '{line}'.");
            return (line[..space].Split(';'), long.Parse(line[(space + 1)..], NumberStyles.None, CultureInfo.InvariantCulture));
        })];
    }

    private static string[] RootFirst(ProfileFrame[] leafFirst) => [.. leafFirst.Reverse().Select(f => f.FunctionName)];

    [Fact]
    public void Folded_WritesRootFirstLinesWithValues()
    {
        var lines = Parse(Encode(ShopProfile.Build()));
        Assert.Contains(lines, l => l.Frames.SequenceEqual(RootFirst(ShopProfile.CartStack)) && l.Value == 30 * ShopProfile.Period);
        Assert.All(lines, l => Assert.NotEqual(ShopProfile.HotMethod, l.Frames[0]));
    }

    [Fact]
    public void Folded_SumsOneLinePerStackOverLabels()
    {
        var lines = Parse(Encode(ShopProfile.Build()));
        var order = Assert.Single(lines, l => l.Frames.SequenceEqual(RootFirst(ShopProfile.OrderStack)));
        Assert.Equal(50 * ShopProfile.Period, order.Value);
        Assert.Equal(lines.Count, lines.Select(l => string.Join(';', l.Frames)).Distinct().Count());
    }

    [Fact]
    public void Folded_UsesTheDefaultSampleTypeAndSkipsZeroValues()
    {
        var profile = ShopProfile.Build();
        var lines = Parse(Encode(profile));
        Assert.Equal(profile.Total(WellKnownSampleTypes.CpuProfileDefaultIndex), lines.Sum(l => l.Value));
        Assert.DoesNotContain(lines, l => l.Frames[^1] == ShopProfile.BlockedMethod);
        Assert.All(lines, l => Assert.True(l.Value > 0));
    }

    [Fact]
    public void Folded_RespectsTheChosenSampleType()
    {
        var profile = ShopProfile.Build();
        var lines = Parse(Encode(profile, sampleTypeIndex: 0));
        Assert.Equal(profile.Total(0), lines.Sum(l => l.Value));
        Assert.Equal(RootFirst(ShopProfile.WaitStack), lines[0].Frames);
        Assert.Equal(200, lines[0].Value);
    }

    [Fact]
    public void Folded_SortsByValueDescending()
    {
        var values = Parse(Encode(ShopProfile.Build(), sampleTypeIndex: 2)).Select(l => l.Value).ToList();
        Assert.Equal(4, values.Count);
        Assert.Equal(values.OrderDescending(), values);
    }

    [Fact]
    public void Folded_RejectsAnUnknownSampleType() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode(ShopProfile.Build(), sampleTypeIndex: 3));

    [Fact]
    public void Folded_SanitizesSemicolonsAndLineBreaksInFrameNames()
    {
        var builder = ShopProfile.NewBuilder();
        var odd = new ProfileFrame("Shop.Odd.Name;With\nBreaks\r\nInside", "Shop.dll");
        builder.Add([odd, ShopProfile.Host], ShopProfile.Ticks(7, 7), []);

        var lines = Parse(Encode(builder.Build()));

        var line = Assert.Single(lines);
        Assert.Equal(2, line.Frames.Length);
        Assert.Equal(ShopProfile.Host.FunctionName, line.Frames[0]);
        Assert.StartsWith("Shop.Odd.Name", line.Frames[1], StringComparison.Ordinal);
        Assert.DoesNotContain('\r', line.Frames[1]);
        Assert.Equal(7 * ShopProfile.Period, line.Value);
    }

    [Fact]
    public void Folded_KeepsSpacesInFrameNames()
    {
        var builder = ShopProfile.NewBuilder();
        builder.Add([new ProfileFrame("Shop.Pricing.ComputeTotals(Shop.Cart, System.Decimal)", "Shop.dll")], ShopProfile.Ticks(1, 1), []);
        var line = Assert.Single(Parse(Encode(builder.Build())));
        Assert.Equal(["Shop.Pricing.ComputeTotals(Shop.Cart, System.Decimal)"], line.Frames);
    }

    [Fact]
    public void Folded_WritesNothingForAnEmptyProfile()
    {
        using var stream = new MemoryStream();
        FoldedEncoder.Write(ShopProfile.NewBuilder().Build(), stream);
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void Folded_LeavesTheStreamOpen()
    {
        using var stream = new MemoryStream();
        FoldedEncoder.Write(ShopProfile.Build(), stream);
        Assert.True(stream.CanWrite);
        Assert.True(stream.Length > 0);
    }

    [Fact]
    public void Folded_FramesDifferingOnlyInSystemName_AreOneLine()
    {
        var builder = new ProfileBuilder([WellKnownSampleTypes.Samples]);
        var caller = new ProfileFrame("Shop.Orders.Place", "Shop");
        builder.Add([new ProfileFrame("System.Threading.Tasks.Task.Wait", "System.Private.CoreLib") { SystemName = "System.Threading.Tasks.Task.Wait()" }, caller], [3], []);
        builder.Add([new ProfileFrame("System.Threading.Tasks.Task.Wait", "System.Private.CoreLib") { SystemName = "System.Threading.Tasks.Task.Wait(int32,value class System.Threading.CancellationToken)" }, caller], [4], []);

        Assert.Equal("Shop.Orders.Place;System.Threading.Tasks.Task.Wait 7\n", Encode(builder.Build()));
    }
}
