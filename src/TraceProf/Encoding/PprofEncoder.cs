using Google.Protobuf;
using System.IO.Compression;
using TraceProf.Profiles;
using Proto = TraceProf.Encoding.Pprof;

namespace TraceProf.Encoding;

/// <summary>Writes a <see cref="Profile"/> as gzipped <c>profile.proto</c>, the format of <c>go tool pprof</c> and Pyroscope.</summary>
internal static class PprofEncoder
{
    /// <summary>Writes the profile, gzipped, to a stream (left open).</summary>
    /// <param name="profile">The profile.</param>
    /// <param name="destination">Where to write.</param>
    public static void Write(Profile profile, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(destination);
        using var gzip = new GZipStream(destination, CompressionLevel.Fastest, leaveOpen: true);
        ToProto(profile).WriteTo(gzip);
    }

    /// <summary>Encodes the profile into gzipped bytes.</summary>
    /// <param name="profile">The profile.</param>
    /// <returns>The bytes.</returns>
    public static byte[] Encode(Profile profile)
    {
        using var buffer = new MemoryStream();
        Write(profile, buffer);
        return buffer.ToArray();
    }

    internal static Proto.Profile ToProto(Profile profile)
    {
        var proto = new Proto.Profile();
        var strings = new StringTable(proto);

        foreach (var type in profile.SampleTypes)
        {
            proto.SampleType.Add(new Proto.ValueType { Type = strings[type.Type], Unit = strings[type.Unit] });
        }

        proto.DefaultSampleType = strings[profile.SampleTypes[profile.DefaultSampleTypeIndex].Type];
        if (profile.PeriodType.Type is not null)
        {
            proto.PeriodType = new Proto.ValueType { Type = strings[profile.PeriodType.Type], Unit = strings[profile.PeriodType.Unit] };
        }

        proto.Period = profile.Period;
        // time_nanos 0 means "not known" in profile.proto; an unset start (year 1) would not fit in int64 nanoseconds.
        proto.TimeNanos = profile.StartTime == default ? 0 : ToNanoseconds(profile.StartTime - DateTimeOffset.UnixEpoch);
        proto.DurationNanos = ToNanoseconds(profile.Duration);
        foreach (var comment in profile.Comments)
        {
            proto.Comment.Add(strings[comment]);
        }

        // One mapping per module that says "functions are already named", so pprof never tries to symbolize
        // managed addresses (which mean nothing outside the process). Mapping 0 is the main binary in
        // profile.proto (go tool pprof's "File:"): the program's module, not whichever module came first.
        var mappings = new Dictionary<string, ulong>(StringComparer.Ordinal);
        if ((profile.MainModule ?? EntryModule) is { Length: > 0 } main)
        {
            mappings[main] = 1;
            proto.Mapping.Add(new Proto.Mapping { Id = 1, Filename = strings[main], HasFunctions = true });
        }

        // A function is a method in a file; a location is one frame, so one line of a function (a method sampled at
        // several lines is one function with several locations: go tool pprof -list shows each line's time).
        // A method's frames without a line (its prolog, an address the IL map does not cover) belong to the same
        // function as its frames with one, so the function's file is the source file any of its frames has.
        var functions = new Dictionary<(string Name, string SystemName, string Module), ulong>();
        var sourceFiles = new Dictionary<(string Name, string SystemName, string Module), string>();
        foreach (var frame in profile.Frames)
        {
            if (frame.SourceFile.Length > 0)
            {
                sourceFiles.TryAdd((frame.FunctionName, frame.SystemName, frame.ModuleName), frame.SourceFile);
            }
        }

        for (var i = 0; i < profile.Frames.Count; i++)
        {
            var frame = profile.Frames[i];
            if (!mappings.TryGetValue(frame.ModuleName, out var mappingId))
            {
                mappingId = (ulong)mappings.Count + 1;
                mappings[frame.ModuleName] = mappingId;
                proto.Mapping.Add(new Proto.Mapping { Id = mappingId, Filename = strings[frame.ModuleName], HasFunctions = true });
            }

            // pprof rewrites a name that equals its system name as if it were C++ (dropping <…> and (…)), which is
            // what made C# async names unreadable; a display name distinct from the system name is shown as it is.
            // A frame without a runtime signature (a type of the heap, allocation or exceptions profiles, a GC root) gets an
            // empty system_name: go tool pprof simplifies a name that equals its system_name as C++ (dropping <...>),
            // which would merge List<Order> with List<Customer>.
            // Function.filename is the source file when the PDB gave one (what -list and weblist read), else the module.
            var key = (frame.FunctionName, frame.SystemName, frame.ModuleName);
            var file = sourceFiles.GetValueOrDefault(key, frame.ModuleName);
            ref var functionId = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(functions, key, out var known);
            if (!known)
            {
                // Ids start at 1: 0 means "none" in profile.proto.
                functionId = (ulong)functions.Count;
                proto.Function.Add(new Proto.Function { Id = functionId, Name = strings[frame.FunctionName], SystemName = strings[frame.SystemName], Filename = strings[file] });
            }

            proto.Location.Add(new Proto.Location { Id = (ulong)i + 1, MappingId = mappingId, Line = { new Proto.Line { FunctionId = functionId, Line_ = frame.SourceLine } } });
        }

        foreach (var sample in profile.Samples)
        {
            var pbSample = new Proto.Sample();
            foreach (var frameId in sample.Stack)
            {
                pbSample.LocationId.Add((ulong)frameId + 1);
            }

            pbSample.Value.Add(sample.Values);
            foreach (var label in sample.Labels)
            {
                pbSample.Label.Add(new Proto.Label { Key = strings[label.Key], Str = strings[label.Value] });
            }

            proto.Sample.Add(pbSample);
        }

        return proto;
    }

    /// <summary>Gets the entry assembly's name: the program whose own profiles this process encodes.</summary>
    internal static string? EntryModule { get; } = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name;

    // int64 nanoseconds span ±292 years; a time beyond that is a bug upstream, not something to wrap silently.
    private static long ToNanoseconds(TimeSpan span) => checked(span.Ticks * TimeSpan.NanosecondsPerTick);

    /// <summary>The profile's string table: every string once, and "" at index 0 as the format requires.</summary>
    private sealed class StringTable
    {
        private readonly Dictionary<string, long> _index = new(StringComparer.Ordinal);
        private readonly Proto.Profile _proto;

        public StringTable(Proto.Profile proto)
        {
            _proto = proto;
            _ = this[""];
        }

        public long this[string value]
        {
            get
            {
                if (!_index.TryGetValue(value, out var index))
                {
                    index = _proto.StringTable.Count;
                    _proto.StringTable.Add(value);
                    _index[value] = index;
                }

                return index;
            }
        }
    }
}
