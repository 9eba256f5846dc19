using System.IO.Compression;
using TraceProf.Encoding;
using TraceProf.Profiles;
using PprofProto = TraceProf.Encoding.Pprof;

namespace TraceProf.Tests.Encoding;

/// <summary>The gzipped profile.proto that <see cref="PprofEncoder"/> writes follows the format's rules.</summary>
public sealed class PprofEncoderTests
{
    private readonly Profile _profile = ShopProfile.Build();
    private readonly PprofProto.Profile _proto;

    public PprofEncoderTests() => _proto = Parse(PprofEncoder.Encode(_profile));

    internal static PprofProto.Profile Parse(byte[] gzipped)
    {
        Assert.True(gzipped.Length > 2 && gzipped[0] == 0x1f && gzipped[1] == 0x8b, "pprof output should be gzipped.");
        using var gzip = new GZipStream(new MemoryStream(gzipped), CompressionMode.Decompress);
        return PprofProto.Profile.Parser.ParseFrom(gzip);
    }

    private string S(long index) => _proto.StringTable[checked((int)index)];

    private string FunctionNameOfLocation(ulong locationId)
    {
        var location = Assert.Single(_proto.Location, l => l.Id == locationId);
        var line = Assert.Single(location.Line);
        return S(Assert.Single(_proto.Function, f => f.Id == line.FunctionId).Name);
    }

    [Fact]
    public void Pprof_MappingZeroIsTheProgram_NotTheFirstModuleSeen()
    {
        var builder = new ProfileBuilder([WellKnownSampleTypes.Samples]) { MainModule = "ShopDemo" };
        builder.Add([new ProfileFrame("System.Threading.Tasks.Task.Wait", "System.Private.CoreLib"), new ProfileFrame("ShopDemo.PricingEngine.QuoteAsync", "ShopDemo")], [1], []);

        var proto = PprofEncoder.ToProto(builder.Build());

        Assert.Equal("ShopDemo", proto.StringTable[(int)proto.Mapping[0].Filename]);
        Assert.Equal(["ShopDemo", "System.Private.CoreLib"], proto.Mapping.Select(m => proto.StringTable[(int)m.Filename]));
        Assert.Equal("ShopDemo", PprofDecoder.Decode(PprofEncoder.Encode(builder.Build())).MainModule);
    }

    [Fact]
    public void Pprof_MappingZeroOfThisProcessesProfile_IsTheEntryAssembly()
    {
        var builder = new ProfileBuilder([WellKnownSampleTypes.Samples]);
        builder.Add([new ProfileFrame("System.Threading.Tasks.Task.Wait", "System.Private.CoreLib")], [1], []);

        var proto = PprofEncoder.ToProto(builder.Build());

        Assert.NotNull(PprofEncoder.EntryModule);
        Assert.Equal(System.Reflection.Assembly.GetEntryAssembly()!.GetName().Name, proto.StringTable[(int)proto.Mapping[0].Filename]);
    }

    [Fact]
    public void Pprof_StringTableStartsEmpty()
    {
        Assert.NotEmpty(_proto.StringTable);
        Assert.Equal("", _proto.StringTable[0]);
    }

    [Fact]
    public void Pprof_StringTableHoldsEachStringOnce()
    {
        var duplicates = _proto.StringTable.GroupBy(s => s, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key);
        Assert.Empty(duplicates);
    }

    [Fact]
    public void Pprof_WritesOneFunctionAndOneLocationPerDistinctFrame()
    {
        Assert.Equal(_profile.Frames.Count, _proto.Function.Count);
        Assert.Equal(_profile.Frames.Count, _proto.Location.Count);
        Assert.Equal(
            _profile.Frames.Select(f => (f.FunctionName, f.ModuleName)).Order(),
            _proto.Function.Select(f => (S(f.Name), S(f.Filename))).Order());
        Assert.Single(_proto.Function, f => S(f.Name) == ShopProfile.HotMethod);
    }

    [Fact]
    public void Pprof_IdsAreNonZeroAndUnique()
    {
        foreach (var ids in new[] { _proto.Function.Select(f => f.Id), _proto.Location.Select(l => l.Id), _proto.Mapping.Select(m => m.Id) })
        {
            var list = ids.ToList();
            Assert.DoesNotContain(0UL, list);
            Assert.Equal(list.Count, list.Distinct().Count());
        }
    }

    [Fact]
    public void Pprof_EveryReferenceResolves()
    {
        var locations = _proto.Location.Select(l => l.Id).ToHashSet();
        var functions = _proto.Function.Select(f => f.Id).ToHashSet();
        var mappings = _proto.Mapping.Select(m => m.Id).ToHashSet();
        Assert.All(_proto.Sample, s => Assert.All(s.LocationId, id => Assert.Contains(id, locations)));
        Assert.All(_proto.Location, l => Assert.Contains(l.MappingId, mappings));
        Assert.All(_proto.Location, l => Assert.All(l.Line, line => Assert.Contains(line.FunctionId, functions)));
    }

    [Fact]
    public void Pprof_MappingsSayFunctionsAreAlreadyNamed()
    {
        // Without has_functions pprof would try to symbolize managed addresses against a binary it cannot find.
        Assert.NotEmpty(_proto.Mapping);
        Assert.All(_proto.Mapping, m => Assert.True(m.HasFunctions));
    }

    [Fact]
    public void Pprof_WritesSampleTypesInOrder()
    {
        Assert.Equal(
            ["samples/count", "cpu/nanoseconds", "wall/nanoseconds"],
            _proto.SampleType.Select(t => $"{S(t.Type)}/{S(t.Unit)}"));
    }

    [Fact]
    public void Pprof_DefaultSampleTypeNamesCpu() => Assert.Equal("cpu", S(_proto.DefaultSampleType));

    [Fact]
    public void Pprof_DefaultSampleTypeFollowsTheProfile()
    {
        var builder = ShopProfile.NewBuilder();
        builder.DefaultSampleTypeIndex = 2;
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(1, 1), []);
        var proto = Parse(PprofEncoder.Encode(builder.Build()));
        Assert.Equal("wall", proto.StringTable[(int)proto.DefaultSampleType]);
    }

    [Fact]
    public void Pprof_WritesPeriodTypeAndPeriod()
    {
        Assert.NotNull(_proto.PeriodType);
        Assert.Equal("cpu", S(_proto.PeriodType.Type));
        Assert.Equal("nanoseconds", S(_proto.PeriodType.Unit));
        Assert.Equal(ShopProfile.Period, _proto.Period);
    }

    [Fact]
    public void Pprof_WritesStartTimeAndDurationInNanoseconds()
    {
        Assert.Equal(ShopProfile.StartTime.ToUnixTimeMilliseconds() * 1_000_000, _proto.TimeNanos);
        Assert.Equal(5_000_000_000, _proto.DurationNanos);
    }

    [Fact]
    public void Pprof_KeepsSubMillisecondStartTime()
    {
        var builder = ShopProfile.NewBuilder();
        builder.StartTime = ShopProfile.StartTime.AddTicks(1_234_567);
        builder.Duration = TimeSpan.FromTicks(12_345);
        var proto = Parse(PprofEncoder.Encode(builder.Build()));
        Assert.Equal((ShopProfile.StartTime.ToUnixTimeMilliseconds() * 1_000_000) + 123_456_700, proto.TimeNanos);
        Assert.Equal(1_234_500, proto.DurationNanos);
    }

    [Fact]
    public void Pprof_WritesComments() =>
        Assert.Equal(["captured by TraceProf tests", "period: 10ms"], _proto.Comment.Select(S));

    [Fact]
    public void Pprof_WritesLabelsAsStringLabels()
    {
        Assert.Equal(_profile.Samples.Count, _proto.Sample.Count);
        Assert.All(_proto.Sample, sample =>
        {
            Assert.Equal(2, sample.Label.Count);
            Assert.All(sample.Label, l =>
            {
                Assert.NotEqual(0, l.Str);
                Assert.Equal(0, l.Num);
                Assert.Equal(0, l.NumUnit);
            });
            Assert.Equal(ShopProfile.TraceId, S(Assert.Single(sample.Label, l => S(l.Key) == "capture_trace_id").Str));
        });
        var threads = _proto.Sample.Select(s => S(Assert.Single(s.Label, l => S(l.Key) == "thread_id").Str)).ToHashSet();
        Assert.Equal(["11", "12", "13"], threads.Order());
    }

    [Fact]
    public void Pprof_KeepsLeafFirstOrder()
    {
        var stacks = _proto.Sample.Select(s => s.LocationId.Select(FunctionNameOfLocation).ToArray()).ToList();
        Assert.Contains(stacks, s => s.SequenceEqual(ShopProfile.OrderStack.Select(f => f.FunctionName)));
        Assert.Contains(stacks, s => s.SequenceEqual(ShopProfile.CartStack.Select(f => f.FunctionName)));
        Assert.Contains(stacks, s => s.SequenceEqual(ShopProfile.WaitStack.Select(f => f.FunctionName)));
        Assert.All(stacks, s => Assert.NotEqual(ShopProfile.Host.FunctionName, s[0]));
    }

    [Fact]
    public void Pprof_WritesValuesPerSample()
    {
        var byThread = _proto.Sample
            .Where(s => FunctionNameOfLocation(s.LocationId[0]) == ShopProfile.HotMethod && FunctionNameOfLocation(s.LocationId[1]) == "Shop.Checkout.PlaceOrder")
            .ToDictionary(s => S(s.Label.Single(l => S(l.Key) == "thread_id").Str), s => s.Value.ToArray());
        Assert.Equal(ShopProfile.Ticks(30, 30), byThread["11"]);
        Assert.Equal(ShopProfile.Ticks(20, 20), byThread["12"]);
        Assert.Equal(_profile.Total(1), _proto.Sample.Sum(s => s.Value[1]));
    }

    [Fact]
    public void Pprof_OmitsPeriodTypeWhenTheProfileHasNone()
    {
        var builder = new ProfileBuilder([WellKnownSampleTypes.Samples]);
        builder.Add([ShopProfile.Hot], [1], []);
        var proto = Parse(PprofEncoder.Encode(builder.Build()));
        Assert.Null(proto.PeriodType);
        Assert.Equal(0, proto.Period);
    }

    [Fact]
    public void Pprof_WritesAnUnsetStartTimeAsUnknown()
    {
        // profile.proto's "not known" is 0; year 1 in Unix nanoseconds does not fit in an int64 and used to wrap.
        var builder = new ProfileBuilder([WellKnownSampleTypes.Samples]);
        builder.Add([ShopProfile.Hot], [1], []);
        var proto = Parse(PprofEncoder.Encode(builder.Build()));
        Assert.Equal(0, proto.TimeNanos);
        Assert.Equal(0, proto.DurationNanos);
    }

    [Fact]
    public void Pprof_RefusesAStartTimeBeyondInt64Nanoseconds()
    {
        var builder = ShopProfile.NewBuilder();
        builder.StartTime = new DateTimeOffset(2300, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var profile = builder.Build();
        Assert.Throws<OverflowException>(() => PprofEncoder.Encode(profile));
    }

    [Fact]
    public void Pprof_WriteLeavesTheStreamOpen()
    {
        using var stream = new MemoryStream();
        PprofEncoder.Write(_profile, stream);
        Assert.True(stream.CanWrite);
        Assert.Equal(PprofEncoder.Encode(_profile), stream.ToArray());
    }
}
