using System.Buffers.Binary;
using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Parsing.Streaming;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Cpu;

/// <summary>
/// The fast path for CPU profiles: one forward pass over the nettrace that counts sampler events per (raw stack,
/// thread, managed or not, span), then names each distinct stack once against the method ranges of the load and
/// rundown events. Memory follows the variety of stacks, not the number of events. Gives the same profile as
/// <see cref="CpuProfileParser"/> over <see cref="TraceLogReader"/>.
/// </summary>
internal sealed class StreamingCpuProfileParser : ProfilingEventHandler
{
    private const int ManagedSampleType = 2;

    private readonly ParseOptions _options;
    private readonly SampleAttributor _labels;
    private readonly MethodAddressTable _methods = new();
    private readonly Dictionary<int, int> _stackIds = [];
    private readonly CpuSampleAggregator _samples = new();
    private long _lastTimestamp;

    private StreamingCpuProfileParser(ParseOptions options, SampleAttributor labels)
    {
        _options = options;
        _labels = labels;
    }

    /// <summary>Parses a CPU capture.</summary>
    /// <exception cref="InvalidDataException">The file is not a readable nettrace capture.</exception>
    /// <exception cref="NotSupportedException">The nettrace version is not one this parser decodes.</exception>
    public static Profile Parse(string nettracePath, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(nettracePath);
        ArgumentNullException.ThrowIfNull(options);
        var parser = new StreamingCpuProfileParser(options, labels);
        var header = NettraceReader.ReadFile(nettracePath, parser, cancellationToken);

        return parser.Build(header, cancellationToken);
    }

    public override void OnStack(int stackId, ReadOnlySpan<byte> addresses) =>
        _stackIds[stackId] = _samples.Stacks.Intern(addresses, PointerSize);

    public override void OnSequencePoint() => _stackIds.Clear();

    public override void OnEvent(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        _lastTimestamp = Math.Max(_lastTimestamp, header.Timestamp);
        var kind = KindOf(header.MetadataId);
        switch (kind)
        {
            case ProfilingEvent.ThreadSample:
                OnSample(in header, payload);
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

    private void OnSample(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        if (!_stackIds.TryGetValue(header.StackId, out var stack))
        {
            // No stack (id 0) or one the file never sent: counted with an empty stack, as TraceLog does.
            stack = _samples.Stacks.Empty;
            if (header.StackId != 0)
            {
                _samples.MissingStacks++;
            }
        }

        var threadId = (int)header.ThreadId;
        var managed = payload.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(payload) == ManagedSampleType;
        _samples.Add(stack, threadId, _labels.SpanLabelsAt(threadId, header.Timestamp), managed);
    }

    private Profile Build(NettraceHeader header, CancellationToken cancellationToken)
    {
        var duration = _lastTimestamp > header.SyncTimestamp && header.TimestampFrequency > 0
            ? TimeSpan.FromSeconds((_lastTimestamp - header.SyncTimestamp) / (double)header.TimestampFrequency)
            : TimeSpan.Zero;
        _methods.OfThisProcess = OfThisProcess;
        return _samples.Build(_methods, header.SyncTime, duration, _options.SamplingInterval, _labels.Common, cancellationToken, _options.RawFrames, _labels.ThreadLabels);
    }
}
