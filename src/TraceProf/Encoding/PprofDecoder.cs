using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using Google.Protobuf;
using TraceProf.Profiles;
using Proto = TraceProf.Encoding.Pprof;

namespace TraceProf.Encoding;

/// <summary>Reads gzipped (or plain) <c>profile.proto</c> back into a <see cref="Profile"/>.</summary>
public static class PprofDecoder
{
    /// <summary>Decodes a profile.</summary>
    /// <param name="source">The bytes, gzipped or not.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="InvalidDataException">The bytes are not a pprof profile.</exception>
    public static Profile Decode(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var buffer = new MemoryStream();
        source.CopyTo(buffer);
        return Decode(buffer.ToArray());
    }

    /// <summary>Decodes a profile.</summary>
    /// <param name="bytes">The bytes, gzipped or not.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="InvalidDataException">The bytes are not a pprof profile.</exception>
    public static Profile Decode(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Proto.Profile proto;
        try
        {
            if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
            {
                proto = Proto.Profile.Parser.ParseFrom(Gunzip(bytes));
            }
            else
            {
                proto = Proto.Profile.Parser.ParseFrom(bytes);
            }
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"Not a pprof profile: {ex.Message}", ex);
        }

        return FromProto(proto);
    }

    private static byte[] Gunzip(byte[] gzipped)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(gzipped), CompressionMode.Decompress))
        {
            gzip.CopyTo(output);
        }

        // GZipStream stops quietly where a cut-off stream ends, and a protobuf cut at a field boundary still parses,
        // so a truncated download would decode as a smaller profile. The gzip trailer catches that: CRC-32 and length
        // (mod 2^32, both little-endian) of the last member, whose data is the end of the output.
        var data = output.GetBuffer().AsSpan(0, (int)output.Length);
        var crc = gzipped.Length >= 18 ? BinaryPrimitives.ReadUInt32LittleEndian(gzipped.AsSpan(gzipped.Length - 8)) : 0;
        var size = gzipped.Length >= 18 ? BinaryPrimitives.ReadUInt32LittleEndian(gzipped.AsSpan(gzipped.Length - 4)) : uint.MaxValue;
        if (size > (uint)data.Length || System.IO.Hashing.Crc32.HashToUInt32(data[^(int)size..]) != crc)
        {
            throw new InvalidDataException("Not a pprof profile: the gzip stream is truncated or corrupt (its trailer does not match the data).");
        }

        return output.ToArray();
    }

    private static Dictionary<ulong, T> ById<T>(IEnumerable<T> items, Func<T, ulong> id, string what)
    {
        var byId = new Dictionary<ulong, T>();
        foreach (var item in items)
        {
            // 0 means "none" wherever an id is referenced, as go tool pprof's own validation insists.
            if (id(item) == 0)
            {
                throw new InvalidDataException($"Not a pprof profile: a {what} has id 0, which means \"none\".");
            }

            // A duplicate id would make every reference to it ambiguous.
            if (!byId.TryAdd(id(item), item))
            {
                throw new InvalidDataException($"Not a pprof profile: two {what}s have id {id(item)}.");
            }
        }

        return byId;
    }

    private static Profile FromProto(Proto.Profile proto)
    {
        var table = proto.StringTable;
        if (table.Count == 0 || table[0].Length != 0 || proto.SampleType.Count == 0)
        {
            throw new InvalidDataException("Not a pprof profile: the string table must start with \"\" and there must be at least one sample type.");
        }

        string S(long index) => index >= 0 && index < table.Count
            ? table[(int)index]
            : throw new InvalidDataException($"Not a pprof profile: string index {index} is outside the table of {table.Count}.");

        var sampleTypes = proto.SampleType.Select(t => new SampleType(S(t.Type), S(t.Unit))).ToArray();

        // pprof's rule: without default_sample_type the last sample type is the default.
        var defaultIndex = proto.DefaultSampleType == 0
            ? sampleTypes.Length - 1
            : Math.Max(0, Array.FindIndex(sampleTypes, t => t.Type == S(proto.DefaultSampleType)));
        var builder = new ProfileBuilder(sampleTypes, defaultIndex)
        {
            Period = proto.Period,
            // time_nanos 0 is "not known", which the model spells as an unset start.
            StartTime = proto.TimeNanos == 0 ? default : DateTimeOffset.UnixEpoch.AddTicks(proto.TimeNanos / TimeSpan.NanosecondsPerTick),
            Duration = TimeSpan.FromTicks(proto.DurationNanos / TimeSpan.NanosecondsPerTick),
        };
        if (proto.PeriodType is not null)
        {
            builder.PeriodType = new SampleType(S(proto.PeriodType.Type), S(proto.PeriodType.Unit));
        }

        foreach (var comment in proto.Comment)
        {
            builder.AddComment(S(comment));
        }

        // Mapping 0 is the main binary in profile.proto; the encoder puts the program's module there.
        if (proto.Mapping.Count > 0 && proto.Mapping[0].Filename != 0)
        {
            builder.MainModule = S(proto.Mapping[0].Filename);
        }

        var functions = ById(proto.Function, f => f.Id, "function");
        var mappings = ById(proto.Mapping, m => m.Id, "mapping");
        var locations = new Dictionary<ulong, int[]>();
        foreach (var location in proto.Location)
        {
            // Line[0] is the innermost (inlined) frame; a location with no line keeps its address.
            var frameIds = location.Line.Count == 0
                ? [builder.InternFrame(new ProfileFrame(string.Create(CultureInfo.InvariantCulture, $"0x{location.Address:x}"), mappings.TryGetValue(location.MappingId, out var m) ? S(m.Filename) : ""))]
                : location.Line.Select(line => functions.TryGetValue(line.FunctionId, out var f)
                    ? builder.InternFrame(Frame(f, line.Line_, mappings.TryGetValue(location.MappingId, out var lm) ? S(lm.Filename) : null, S))
                    : throw new InvalidDataException($"Not a pprof profile: location {location.Id} names unknown function {line.FunctionId}.")).ToArray();
            if (location.Id == 0)
            {
                throw new InvalidDataException("Not a pprof profile: a location has id 0, which means \"none\".");
            }

            if (!locations.TryAdd(location.Id, frameIds))
            {
                throw new InvalidDataException($"Not a pprof profile: two locations have id {location.Id}.");
            }
        }

        var stack = new List<int>();
        foreach (var sample in proto.Sample)
        {
            if (sample.Value.Count != sampleTypes.Length)
            {
                throw new InvalidDataException($"Not a pprof profile: a sample has {sample.Value.Count} values for {sampleTypes.Length} sample types.");
            }

            stack.Clear();
            foreach (var locationId in sample.LocationId)
            {
                stack.AddRange(locations.TryGetValue(locationId, out var frames)
                    ? frames
                    : throw new InvalidDataException($"Not a pprof profile: a sample names unknown location {locationId}."));
            }

            var labels = sample.Label
                .Select(l => new ProfileLabel(S(l.Key), LabelValue(l, S)))
                .ToArray();
            builder.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(stack), sample.Value.ToArray(), labels);
        }

        return builder.Build();
    }

    // A function named only by its system name is shown by it; a system name equal to the name adds nothing. The
    // module is the location's mapping; the function's file is a source file when a line is given (PprofEncoder writes
    // the module there otherwise, and profiles without mappings have only that).
    private static ProfileFrame Frame(Proto.Function function, long line, string? module, Func<long, string> s)
    {
        var systemName = s(function.SystemName);
        var name = function.Name != 0 ? s(function.Name) : systemName;
        var file = s(function.Filename);
        var withLine = line > 0 && line <= int.MaxValue && file.Length > 0 && file != module;
        return new ProfileFrame(name, module ?? file)
        {
            SystemName = systemName == name ? "" : systemName,
            SourceFile = withLine ? file : "",
            SourceLine = withLine ? (int)line : 0,
        };
    }

    // An empty string value is index 0, the same as "no string"; a label that is neither a string nor a number
    // is therefore the empty string (what PprofEncoder writes for it), not the number 0.
    private static string LabelValue(Proto.Label label, Func<long, string> s) =>
        label.Str != 0 ? s(label.Str)
        : label.Num != 0 || label.NumUnit != 0 ? label.Num.ToString(CultureInfo.InvariantCulture)
        : "";
}
