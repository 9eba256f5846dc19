using System.Text.Json;
using TraceProf.Encoding;
using TraceProf.Profiles;

namespace TraceProf.Tests.Encoding;

/// <summary><see cref="SpeedscopeEncoder"/> writes speedscope's file format, root-first, one profile per sample type.</summary>
public sealed class SpeedscopeEncoderTests : IDisposable
{
    private readonly Profile _profile = ShopProfile.Build();
    private readonly JsonDocument _document;

    public SpeedscopeEncoderTests() => _document = Encode(_profile);

    private JsonElement Root => _document.RootElement;

    private JsonElement[] Profiles => [.. Root.GetProperty("profiles").EnumerateArray()];

    public void Dispose() => _document.Dispose();

    private static JsonDocument Encode(Profile profile)
    {
        using var stream = new MemoryStream();
        SpeedscopeEncoder.Write(profile, stream, "shop cpu");
        return JsonDocument.Parse(stream.ToArray());
    }

    private string[] FrameNames => [.. Root.GetProperty("shared").GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("name").GetString()!)];

    private static long[] Weights(JsonElement profile) => [.. profile.GetProperty("weights").EnumerateArray().Select(w => w.GetInt64())];

    private static int[][] Samples(JsonElement profile) =>
        [.. profile.GetProperty("samples").EnumerateArray().Select(s => s.EnumerateArray().Select(i => i.GetInt32()).ToArray())];

    [Fact]
    public void Speedscope_DeclaresTheSchema() =>
        Assert.Equal("https://www.speedscope.app/file-format-schema.json", Root.GetProperty("$schema").GetString());

    [Fact]
    public void Speedscope_ActiveProfileIndexIsZero() => Assert.Equal(0, Root.GetProperty("activeProfileIndex").GetInt32());

    [Fact]
    public void Speedscope_SharedFramesHaveNamesAndFiles()
    {
        var frames = Root.GetProperty("shared").GetProperty("frames").EnumerateArray().ToArray();
        Assert.Equal(_profile.Frames.Count, frames.Length);
        for (var i = 0; i < frames.Length; i++)
        {
            Assert.Equal(_profile.Frames[i].FunctionName, frames[i].GetProperty("name").GetString());
            Assert.Equal(_profile.Frames[i].ModuleName, frames[i].GetProperty("file").GetString());
        }
    }

    [Fact]
    public void Speedscope_LeavesOutFileWhenTheModuleIsUnknown()
    {
        var builder = ShopProfile.NewBuilder();
        builder.Add([new ProfileFrame("0x7f00dead", "")], ShopProfile.Ticks(1, 1), []);
        using var document = Encode(builder.Build());
        var frame = Assert.Single(document.RootElement.GetProperty("shared").GetProperty("frames").EnumerateArray());
        Assert.Equal("0x7f00dead", frame.GetProperty("name").GetString());
        Assert.False(frame.TryGetProperty("file", out _));
    }

    [Fact]
    public void Speedscope_WritesOneSampledProfilePerSampleTypeWithTheDefaultFirst()
    {
        Assert.Equal(3, Profiles.Length);
        Assert.All(Profiles, p => Assert.Equal("sampled", p.GetProperty("type").GetString()));
        Assert.Equal(
            ["shop cpu (cpu/nanoseconds)", "shop cpu (samples/count)", "shop cpu (wall/nanoseconds)"],
            Profiles.Select(p => p.GetProperty("name").GetString()));
    }

    [Fact]
    public void Speedscope_UsesNanosecondsAndNoneAsUnits() =>
        Assert.Equal(["nanoseconds", "none", "nanoseconds"], Profiles.Select(p => p.GetProperty("unit").GetString()));

    [Fact]
    public void Speedscope_WeightsSumToTheTotalOfTheirColumn()
    {
        int[] columns = [1, 0, 2];
        for (var i = 0; i < columns.Length; i++)
        {
            var total = _profile.Total(columns[i]);
            Assert.Equal(total, Weights(Profiles[i]).Sum());
            Assert.Equal(0, Profiles[i].GetProperty("startValue").GetInt64());
            Assert.Equal(total, Profiles[i].GetProperty("endValue").GetInt64());
            Assert.Equal(Samples(Profiles[i]).Length, Weights(Profiles[i]).Length);
        }
    }

    [Fact]
    public void Speedscope_SamplesAreRootFirst()
    {
        var names = FrameNames;
        var stacks = Samples(Profiles[0]).Select(s => s.Select(i => names[i]).ToArray()).ToList();
        Assert.Contains(stacks, s => s.SequenceEqual(ShopProfile.OrderStack.Reverse().Select(f => f.FunctionName)));
        Assert.Contains(stacks, s => s.SequenceEqual(ShopProfile.CartStack.Reverse().Select(f => f.FunctionName)));
        Assert.All(stacks, s => Assert.Equal(ShopProfile.Host.FunctionName, s[0]));
    }

    [Fact]
    public void Speedscope_MergesSamplesThatDifferOnlyInLabels()
    {
        var names = FrameNames;
        var cpu = Profiles[0];
        var samples = Samples(cpu);
        var order = Array.FindIndex(samples, s => s.Select(i => names[i]).SequenceEqual(ShopProfile.OrderStack.Reverse().Select(f => f.FunctionName)));
        Assert.Equal(1, samples.Count(s => s.SequenceEqual(samples[order])));
        Assert.Equal(50 * ShopProfile.Period, Weights(cpu)[order]);
    }

    [Fact]
    public void Speedscope_LeavesOutZeroWeightSamples()
    {
        var names = FrameNames;
        var cpuStacks = Samples(Profiles[0]).Select(s => names[s[^1]]);
        var wallStacks = Samples(Profiles[2]).Select(s => names[s[^1]]);
        Assert.DoesNotContain(ShopProfile.BlockedMethod, cpuStacks);
        Assert.Contains(ShopProfile.BlockedMethod, wallStacks);
        Assert.All(Profiles, p => Assert.All(Weights(p), w => Assert.True(w > 0)));
    }

    [Fact]
    public void Speedscope_RefusesANullName()
    {
        // The schema requires "name" to be a string; a JSON null would make speedscope reject the file.
        using var stream = new MemoryStream();
        Assert.Throws<ArgumentNullException>(() => SpeedscopeEncoder.Write(_profile, stream, null!));
    }

    [Fact]
    public void Speedscope_EscapesFrameNames()
    {
        var builder = ShopProfile.NewBuilder();
        builder.Add([new ProfileFrame("Shop.Text.Quote(\"a\\b\")\n", "Shop.dll")], ShopProfile.Ticks(1, 1), []);
        using var document = Encode(builder.Build());
        var frame = Assert.Single(document.RootElement.GetProperty("shared").GetProperty("frames").EnumerateArray());
        Assert.Equal("Shop.Text.Quote(\"a\\b\")\n", frame.GetProperty("name").GetString());
    }

    [Fact]
    public void Speedscope_FramesDifferingOnlyInSystemName_AreOneFrame()
    {
        var builder = new ProfileBuilder([WellKnownSampleTypes.Samples]);
        var caller = new ProfileFrame("Shop.Orders.Place", "Shop");
        builder.Add([new ProfileFrame("Shop.PriceList<T>.Add", "Shop") { SystemName = "Shop.PriceList`1[System.__Canon].Add(!0)" }, caller], [3], []);
        builder.Add([new ProfileFrame("Shop.PriceList<T>.Add", "Shop") { SystemName = "Shop.PriceList`1[System.Int32].Add(!0)" }, caller], [4], []);

        using var json = Encode(builder.Build());
        var frames = json.RootElement.GetProperty("shared").GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
        Assert.Equal(["Shop.PriceList<T>.Add", "Shop.Orders.Place"], frames);
        var samples = json.RootElement.GetProperty("profiles")[0].GetProperty("samples").EnumerateArray()
            .Select(s => string.Join(',', s.EnumerateArray().Select(i => i.GetInt32()))).ToList();
        Assert.Equal(["1,0", "1,0"], samples);
    }
}
