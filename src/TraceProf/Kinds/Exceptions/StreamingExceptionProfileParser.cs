using System.Runtime.InteropServices;
using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Parsing.Streaming;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Exceptions;

/// <summary>
/// One forward pass over an exceptions capture: each <c>ExceptionThrown_V1</c> is kept as (raw stack, thread,
/// time, type, message); at the end, when load and rundown events have named the code, each distinct stack is
/// named once and the exceptions go to <see cref="ExceptionProfileBuilder"/>.
/// </summary>
/// <remarks>
/// Payload (runtime manifest, version 1): ExceptionType and ExceptionMessage as NUL-terminated UTF-16, then the
/// throwing instruction pointer, HRESULT (4), flags (2), CLR instance id (2).
/// </remarks>
internal sealed class StreamingExceptionProfileParser : ProfilingEventHandler
{
    // Exceptions are not sampled: a storm of them is bounded here, and the profile says how many were left out.
    private const int MaxExceptions = 1_000_000;

    private readonly ParseOptions _options;
    private readonly MethodAddressTable _methods = new();
    private readonly Dictionary<int, int> _stackIds = [];
    private readonly RawStacks _stacks = new();
    private readonly List<(int Stack, int Thread, long Time, string Type, string? Message)> _thrown = [];
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private long _dropped;

    private StreamingExceptionProfileParser(ParseOptions options) => _options = options;

    /// <summary>Parses an exceptions capture.</summary>
    /// <exception cref="InvalidDataException">The file is not a readable nettrace capture.</exception>
    public static Profile Parse(string nettracePath, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken)
    {
        var parser = new StreamingExceptionProfileParser(options);
        var header = NettraceReader.ReadFile(nettracePath, parser, cancellationToken);

        return parser.Build(header, labels, cancellationToken);
    }

    public override void OnStack(int stackId, ReadOnlySpan<byte> addresses) =>
        _stackIds[stackId] = _stacks.Intern(addresses, PointerSize);

    public override void OnSequencePoint() => _stackIds.Clear();

    public override void OnEvent(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        switch (KindOf(header.MetadataId))
        {
            case ProfilingEvent.ExceptionThrown:
                OnException(in header, payload);
                break;
            case ProfilingEvent.MethodLoad:
                _methods.AddMethod(payload);
                break;
            case ProfilingEvent.ILToNativeMap:
                _methods.AddILToNativeMap(payload, rundown: false);
                break;
            case ProfilingEvent.RundownILToNativeMap:
                _methods.AddILToNativeMap(payload, rundown: true);
                break;
            case ProfilingEvent.ModuleLoad:
                _methods.AddModule(payload);
                break;
            default:
                break;
        }
    }

    private void OnException(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        if (_thrown.Count >= MaxExceptions)
        {
            _dropped++;
            return;
        }

        var chars = MemoryMarshal.Cast<byte, char>(payload[..(payload.Length & ~1)]);
        var typeEnd = chars.IndexOf('\0');
        if (typeEnd < 0)
        {
            throw new InvalidDataException("An ExceptionThrown event has no exception type.");
        }

        var rest = chars[(typeEnd + 1)..];
        var messageEnd = rest.IndexOf('\0');
        var type = Intern(chars[..typeEnd]);
        var message = _options.ExceptionMessages && messageEnd >= 0 ? new string(rest[..Math.Min(messageEnd, ExceptionProfileBuilder.MaxMessageLength)]) : null;
        var stack = _stackIds.TryGetValue(header.StackId, out var id) ? id : _stacks.Empty;
        _thrown.Add((stack, (int)header.ThreadId, header.Timestamp, type, message));
    }

    private string Intern(ReadOnlySpan<char> name)
    {
        var lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!lookup.TryGetValue(name, out var interned))
        {
            interned = new string(name);
            _names[interned] = interned;
        }

        return interned;
    }

    private Profile Build(NettraceHeader header, SampleAttributor labels, CancellationToken cancellationToken)
    {
        var profile = new ProfileBuilder(ExceptionProfileBuilder.SampleTypes, 0) { StartTime = header.SyncTime };
        var builder = new ExceptionProfileBuilder(profile, labels, _options.ExceptionMessages);
        _methods.OfThisProcess = OfThisProcess;
        var resolver = new FrameResolver(_methods, profile);
        var frames = new int[]?[_stacks.Count];
        for (var i = 0; i < _thrown.Count; i++)
        {
            if ((i & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var (stack, thread, time, type, message) = _thrown[i];
            builder.Add(frames[stack] ??= resolver.Resolve(_stacks.Get(stack)), thread, time, type, message);
        }

        if (_dropped > 0)
        {
            profile.AddComment($"{_dropped} exceptions past the first {MaxExceptions} were counted out of this profile.");
        }

        profile.AddComment(resolver.Comment());
        return builder.Build();
    }
}
