using System.IO.Compression;
using Google.Protobuf;
using TraceProf.Encoding;
using TraceProf.Profiles;
using PprofProto = TraceProf.Encoding.Pprof;

namespace TraceProf.Tests.Encoding;

/// <summary><see cref="PprofDecoder"/> reads back what <see cref="PprofEncoder"/> writes and refuses anything else.</summary>
public sealed class PprofDecoderTests
{
    private readonly Profile _profile = ShopProfile.Build();

    /// <summary>A sample as a comparable string: frame names (leaf first), values and labels in a stable order.</summary>
    private static string Describe(Profile profile, ProfileSample sample) =>
        string.Join(";", sample.Stack.Select(id => profile.Frames[id].FunctionName + "@" + profile.Frames[id].ModuleName))
        + " = " + string.Join(",", sample.Values)
        + " {" + string.Join(",", sample.Labels.Select(l => l.Key + "=" + l.Value).Order(StringComparer.Ordinal)) + "}";

    private static List<string> SampleMultiset(Profile profile) =>
        [.. profile.Samples.Select(s => Describe(profile, s)).Order(StringComparer.Ordinal)];

    private static void AssertEquivalent(Profile expected, Profile actual)
    {
        Assert.Equal(expected.Frames, actual.Frames);
        Assert.Equal(SampleMultiset(expected), SampleMultiset(actual));
        Assert.Equal(expected.SampleTypes, actual.SampleTypes);
        Assert.Equal(expected.DefaultSampleTypeIndex, actual.DefaultSampleTypeIndex);
        for (var i = 0; i < expected.SampleTypes.Count; i++)
        {
            Assert.Equal(expected.Total(i), actual.Total(i));
        }

        Assert.Equal(expected.PeriodType, actual.PeriodType);
        Assert.Equal(expected.Period, actual.Period);
        Assert.Equal(expected.StartTime.UtcTicks, actual.StartTime.UtcTicks);
        Assert.Equal(expected.Duration, actual.Duration);
        Assert.Equal(expected.Comments, actual.Comments);
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return buffer.ToArray();
    }

    [Fact]
    public void Pprof_RoundTripKeepsEverything() =>
        AssertEquivalent(_profile, PprofDecoder.Decode(PprofEncoder.Encode(_profile)));

    [Fact]
    public void Pprof_RoundTripKeepsStartTimeToTheTick()
    {
        var builder = ShopProfile.NewBuilder();
        builder.StartTime = new DateTimeOffset(2025, 6, 1, 14, 0, 0, TimeSpan.FromHours(2)).AddTicks(1_234_567);
        builder.Duration = TimeSpan.FromTicks(20_000_001);
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(2, 1), ShopProfile.Labels(7));
        var profile = builder.Build();

        var decoded = PprofDecoder.Decode(PprofEncoder.Encode(profile));

        Assert.Equal(profile.StartTime.UtcTicks, decoded.StartTime.UtcTicks);
        Assert.Equal(profile.StartTime, decoded.StartTime);
        Assert.Equal(TimeSpan.FromTicks(20_000_001), decoded.Duration);
    }

    [Fact]
    public void Pprof_RoundTripKeepsANonDefaultDefaultSampleType()
    {
        var builder = ShopProfile.NewBuilder();
        builder.DefaultSampleTypeIndex = 0;
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(2, 1), []);
        var profile = builder.Build();
        AssertEquivalent(profile, PprofDecoder.Decode(PprofEncoder.Encode(profile)));
    }

    [Fact]
    public void Pprof_RoundTripKeepsEmptyStacksAndUnlabelledSamples()
    {
        var builder = ShopProfile.NewBuilder();
        builder.Add(Array.Empty<ProfileFrame>(), ShopProfile.Ticks(3, 3), []);
        builder.Add(ShopProfile.WaitStack, ShopProfile.Ticks(4, 0), []);
        var profile = builder.Build();
        AssertEquivalent(profile, PprofDecoder.Decode(PprofEncoder.Encode(profile)));
    }

    [Fact]
    public void Pprof_RoundTripKeepsAnEmptyLabelValue()
    {
        // An empty string is index 0 in the string table, the same as "no string": it must not come back as a number.
        var builder = ShopProfile.NewBuilder();
        builder.Add(ShopProfile.OrderStack, ShopProfile.Ticks(2, 2), [new("thread_id", "11"), new("capture_trace_id", "")]);
        var profile = builder.Build();
        AssertEquivalent(profile, PprofDecoder.Decode(PprofEncoder.Encode(profile)));
    }

    [Fact]
    public void Pprof_RoundTripKeepsAnUnsetStartTimeUnset()
    {
        var builder = new ProfileBuilder([WellKnownSampleTypes.Samples]);
        builder.Add([ShopProfile.Hot], [1], []);
        var profile = builder.Build();
        Assert.Equal(default, profile.StartTime);
        AssertEquivalent(profile, PprofDecoder.Decode(PprofEncoder.Encode(profile)));
    }

    [Fact]
    public void Pprof_DecodesAFunctionNamedOnlyBySystemName()
    {
        var proto = PprofEncoder.ToProto(_profile);
        // Another tool's profile may name a function only by its system name.
        foreach (var function in proto.Function)
        {
            function.SystemName = function.Name;
            function.Name = 0;
        }

        Assert.Equal(_profile.Frames, PprofDecoder.Decode(proto.ToByteArray()).Frames);
    }

    [Fact]
    public void Pprof_RoundTripKeepsTheSystemNameApartFromTheDisplayName()
    {
        var builder = new ProfileBuilder([new SampleType("samples", "count")]);
        var frame = new ProfileFrame("Shop.PricingEngine.QuoteAsync", "Shop") { SystemName = "Shop.PricingEngine+<QuoteAsync>d__4.MoveNext()" };
        builder.Add([frame], [1], []);

        var proto = PprofEncoder.ToProto(builder.Build());
        Assert.Equal("Shop.PricingEngine.QuoteAsync", proto.StringTable[(int)proto.Function[0].Name]);
        Assert.Equal("Shop.PricingEngine+<QuoteAsync>d__4.MoveNext()", proto.StringTable[(int)proto.Function[0].SystemName]);
        Assert.Equal(frame, PprofDecoder.Decode(proto.ToByteArray()).Frames.Single());
    }

    [Fact]
    public void Pprof_DecodesPlainProtobuf()
    {
        var plain = PprofEncoder.ToProto(_profile).ToByteArray();
        Assert.False(plain[0] == 0x1f && plain[1] == 0x8b);
        AssertEquivalent(_profile, PprofDecoder.Decode(plain));
    }

    [Fact]
    public void Pprof_DecodesFromAStream()
    {
        using var stream = new MemoryStream(PprofEncoder.Encode(_profile));
        AssertEquivalent(_profile, PprofDecoder.Decode(stream));
    }

    [Fact]
    public void Pprof_DecodesNumericLabelsAsTheirNumber()
    {
        var proto = PprofEncoder.ToProto(_profile);
        var key = proto.StringTable.IndexOf("thread_id");
        foreach (var sample in proto.Sample)
        {
            sample.Label.Single(l => l.Key == key).Str = 0;
            sample.Label.Single(l => l.Key == key).Num = 42;
        }

        var decoded = PprofDecoder.Decode(proto.ToByteArray());

        Assert.All(decoded.Samples, s => Assert.Contains(new ProfileLabel("thread_id", "42"), s.Labels));
        Assert.Equal(_profile.Total(1), decoded.Total(1));
    }

    [Fact]
    public void Pprof_WithoutDefaultSampleTypeTheLastIsDefault()
    {
        var proto = PprofEncoder.ToProto(_profile);
        proto.DefaultSampleType = 0;
        Assert.Equal(2, PprofDecoder.Decode(proto.ToByteArray()).DefaultSampleTypeIndex);
    }

    [Fact]
    public void PprofDecoder_RejectsRandomBytes()
    {
        var random = new Random(20250601);
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(1, 512)];
            random.NextBytes(bytes);
            Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(bytes));
        }
    }

    [Fact]
    public void PprofDecoder_RejectsEmptyInput() =>
        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode([]));

    [Fact]
    public void PprofDecoder_RejectsGzipHeaderFollowedByGarbage()
    {
        byte[] bytes = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02];
        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(bytes));
    }

    [Fact]
    public void PprofDecoder_RejectsTruncatedGzip()
    {
        var full = PprofEncoder.Encode(_profile);
        var accepted = new List<string>();
        for (var length = 2; length < full.Length; length++)
        {
            var truncated = full.AsSpan(0, length).ToArray();
            var ex = Record.Exception(() => PprofDecoder.Decode(truncated));
            if (ex is not InvalidDataException)
            {
                accepted.Add($"{length}: {ex?.GetType().Name ?? "no exception"}");
            }
        }

        Assert.True(accepted.Count == 0, $"Of {full.Length} bytes, these prefixes were not rejected: {string.Join(", ", accepted)}");
    }

    [Fact]
    public void PprofDecoder_RejectsGzipWithCorruptChecksum()
    {
        var bytes = PprofEncoder.Encode(_profile);
        bytes[^8] ^= 0x01;
        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(bytes));
    }

    [Fact]
    public void Pprof_DecodesGzipWithSeveralMembers()
    {
        // gzip allows concatenated members (Go's reader and GZipStream read them as one stream); the trailer check
        // must look at the last member only.
        var plain = PprofEncoder.ToProto(_profile).ToByteArray();
        var half = plain.Length / 2;
        byte[] bytes = [.. Gzip(plain[..half]), .. Gzip(plain[half..])];
        AssertEquivalent(_profile, PprofDecoder.Decode(bytes));
    }

    [Fact]
    public void PprofDecoder_RejectsStringTableWithoutLeadingEmptyString()
    {
        var proto = PprofEncoder.ToProto(_profile);
        proto.StringTable[0] = "not empty";
        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(Gzip(proto.ToByteArray())));
    }

    [Fact]
    public void PprofDecoder_RejectsEmptyStringTable()
    {
        var proto = PprofEncoder.ToProto(_profile);
        proto.StringTable.Clear();
        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(proto.ToByteArray()));
    }

    [Fact]
    public void PprofDecoder_RejectsStringIndexOutsideTheTable()
    {
        var proto = PprofEncoder.ToProto(_profile);
        proto.Function[0].Name = proto.StringTable.Count;
        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(proto.ToByteArray()));
    }

    [Fact]
    public void PprofDecoder_RejectsUnknownLocation()
    {
        var proto = PprofEncoder.ToProto(_profile);
        proto.Sample[0].LocationId.Add(999);
        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(proto.ToByteArray()));
    }

    [Fact]
    public void PprofDecoder_RejectsWrongValueCount()
    {
        var proto = PprofEncoder.ToProto(_profile);
        proto.Sample[0].Value.Add(1);
        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(proto.ToByteArray()));
    }

    [Fact]
    public void PprofDecoder_RejectsDuplicateFunctionIds()
    {
        var proto = PprofEncoder.ToProto(_profile);
        proto.Function[1].Id = proto.Function[0].Id;
        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(proto.ToByteArray()));
    }

    [Fact]
    public void PprofDecoder_RejectsDuplicateMappingIds()
    {
        var proto = PprofEncoder.ToProto(_profile);
        Assert.True(proto.Mapping.Count > 1);
        proto.Mapping[1].Id = proto.Mapping[0].Id;
        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(proto.ToByteArray()));
    }

    [Fact]
    public void PprofDecoder_RejectsIdZero()
    {
        // 0 means "none" in every reference; go tool pprof refuses such profiles too.
        var location = PprofEncoder.ToProto(_profile);
        location.Location[0].Id = 0;
        var function = PprofEncoder.ToProto(_profile);
        function.Function[0].Id = 0;
        var mapping = PprofEncoder.ToProto(_profile);
        mapping.Mapping[0].Id = 0;

        foreach (var proto in new[] { location, function, mapping })
        {
            var ex = Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(proto.ToByteArray()));
            Assert.Contains("id 0", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void PprofDecoder_RejectsDuplicateLocationIds()
    {
        // Which of the two would a sample mean? Guessing would silently misattribute time.
        var proto = PprofEncoder.ToProto(_profile);
        var (kept, lost) = (proto.Location[0].Id, proto.Location[1].Id);
        proto.Location[1].Id = kept;
        foreach (var sample in proto.Sample)
        {
            for (var i = 0; i < sample.LocationId.Count; i++)
            {
                sample.LocationId[i] = sample.LocationId[i] == lost ? kept : sample.LocationId[i];
            }
        }

        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(proto.ToByteArray()));
    }

    [Fact]
    public void PprofDecoder_RejectsProfileWithoutSampleTypes()
    {
        var proto = new PprofProto.Profile { StringTable = { "" } };
        Assert.Throws<InvalidDataException>(() => PprofDecoder.Decode(proto.ToByteArray()));
    }
}
