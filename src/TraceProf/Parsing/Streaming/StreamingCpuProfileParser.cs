using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using TraceProf.Profiles;

namespace TraceProf.Parsing.Streaming;

/// <summary>
/// The fast path for CPU profiles: one forward pass over the nettrace that counts sampler events per (raw stack,
/// thread, managed or not, span), then names each distinct stack once against the method ranges of the load and
/// rundown events. Memory follows the variety of stacks, not the number of events. Gives the same profile as
/// <see cref="CpuProfileParser"/> over <see cref="TraceLogReader"/>.
/// </summary>
internal sealed class StreamingCpuProfileParser : NettraceHandler
{
    private const string SampleProfilerProvider = "Microsoft-DotNETCore-SampleProfiler";
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private const string RundownProvider = "Microsoft-Windows-DotNETRuntimeRundown";
    private const int ManagedSampleType = 2;

    private readonly ParseOptions _options;
    private readonly List<EventKind> _kinds = [];
    private readonly MethodAddressTable _methods = new();
    private readonly Dictionary<int, int> _stackIds = [];
    private readonly RawStacks _stacks = new();
    private readonly Dictionary<SampleKey, long> _counts = [];
    private readonly Dictionary<ProfileLabel[], int> _spanIds = new(ReferenceEqualityComparer.Instance);
    private readonly List<ProfileLabel[]> _spans = [];
    private int _pointerSize = 8;
    private long _samplerEvents;
    private long _missingStacks;
    private long _lastTimestamp;

    private StreamingCpuProfileParser(ParseOptions options) => _options = options;

    private enum EventKind : byte
    {
        Other,
        ThreadSample,
        MethodLoad,
        ModuleLoad,
    }

    /// <summary>Parses a CPU capture.</summary>
    /// <exception cref="InvalidDataException">The file is not a readable nettrace capture.</exception>
    /// <exception cref="NotSupportedException">The nettrace version is not one this parser decodes.</exception>
    public static Profile Parse(string nettracePath, ParseOptions options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(nettracePath);
        ArgumentNullException.ThrowIfNull(options);
        var parser = new StreamingCpuProfileParser(options);
        NettraceHeader header;
        try
        {
            using var stream = new FileStream(nettracePath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
            var reader = new NettraceReader(stream, Path.GetFileName(nettracePath));
            reader.Read(parser, cancellationToken);
            header = reader.Header;
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or IndexOutOfRangeException or IOException)
        {
            // A length or offset that points outside its block (a damaged file), or no file: the TraceLog path
            // reports both as InvalidDataException too.
            throw new InvalidDataException($"'{Path.GetFileName(nettracePath)}' is not a readable nettrace capture: {ex.Message}", ex);
        }

        return parser.Build(header, cancellationToken);
    }

    public override void OnTrace(NettraceHeader header)
    {
        if (header.PointerSize is not (4 or 8))
        {
            throw new InvalidDataException($"Unsupported pointer size {header.PointerSize}.");
        }

        _pointerSize = header.PointerSize;
    }

    public override void OnMetadata(NettraceMetadata metadata)
    {
        var kind = (metadata.ProviderName, metadata.EventId) switch
        {
            (SampleProfilerProvider, 0) => EventKind.ThreadSample,
            (RuntimeProvider, 143) or (RundownProvider, 143 or 144) => EventKind.MethodLoad,
            (RuntimeProvider, 152) or (RundownProvider, 153 or 154) => EventKind.ModuleLoad,
            _ => EventKind.Other,
        };
        var id = metadata.MetadataId;
        if (id < 0)
        {
            throw new InvalidDataException($"Negative metadata id {id}.");
        }

        while (_kinds.Count <= id)
        {
            _kinds.Add(EventKind.Other);
        }

        _kinds[id] = kind;
    }

    public override void OnStack(int stackId, ReadOnlySpan<byte> addresses) =>
        _stackIds[stackId] = _stacks.Intern(addresses, _pointerSize);

    public override void OnSequencePoint() => _stackIds.Clear();

    public override void OnEvent(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        _lastTimestamp = Math.Max(_lastTimestamp, header.Timestamp);
        var kind = (uint)header.MetadataId < (uint)_kinds.Count ? _kinds[header.MetadataId] : EventKind.Other;
        switch (kind)
        {
            case EventKind.ThreadSample:
                OnSample(in header, payload);
                break;
            case EventKind.MethodLoad:
                _methods.AddMethod(payload);
                break;
            case EventKind.ModuleLoad:
                _methods.AddModule(payload);
                break;
            default:
                break;
        }
    }

    private void OnSample(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        _samplerEvents++;
        if (!_stackIds.TryGetValue(header.StackId, out var stack))
        {
            // No stack (id 0) or one the file never sent: counted with an empty stack, as TraceLog does.
            stack = _stacks.Empty;
            if (header.StackId != 0)
            {
                _missingStacks++;
            }
        }

        var threadId = (int)header.ThreadId;
        var span = -1;
        if (_options.Timeline?.LabelsAt(threadId, header.Timestamp) is { } labels)
        {
            ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(_spanIds, labels, out var exists);
            if (!exists)
            {
                id = _spans.Count;
                _spans.Add(labels);
            }

            span = id;
        }

        var managed = payload.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(payload) == ManagedSampleType;
        CollectionsMarshal.GetValueRefOrAddDefault(_counts, new SampleKey(stack, threadId, span, managed), out _)++;
    }

    private Profile Build(NettraceHeader header, CancellationToken cancellationToken)
    {
        var periodNs = (long)_options.SamplingInterval.TotalNanoseconds;
        var builder = new ProfileBuilder(WellKnownSampleTypes.CpuProfile, WellKnownSampleTypes.CpuProfileDefaultIndex)
        {
            PeriodType = WellKnownSampleTypes.Cpu,
            Period = periodNs,
            StartTime = header.SyncTime,
            Duration = _lastTimestamp > header.SyncTimestamp && header.TimestampFrequency > 0
                ? TimeSpan.FromSeconds((_lastTimestamp - header.SyncTimestamp) / (double)header.TimestampFrequency)
                : TimeSpan.Zero,
        };

        var resolver = new FrameResolver(_methods, builder);
        var frameStacks = new int[]?[_stacks.Count];
        var threadIds = new Dictionary<int, ProfileLabel>();
        var labels = new List<ProfileLabel>();
        var values = new long[3];
        var checkedKeys = 0;
        foreach (var (key, count) in _counts)
        {
            if ((++checkedKeys & 0x3FF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var frames = frameStacks[key.Stack] ??= resolver.Resolve(_stacks.Get(key.Stack));
            if (!threadIds.TryGetValue(key.ThreadId, out var threadLabel))
            {
                threadLabel = new ProfileLabel("thread_id", key.ThreadId.ToString(CultureInfo.InvariantCulture));
                threadIds[key.ThreadId] = threadLabel;
            }

            labels.Clear();
            labels.Add(threadLabel);
            if (key.Span >= 0)
            {
                labels.AddRange(_spans[key.Span]);
            }

            labels.AddRange(_options.ExtraLabels);
            values[0] = count;
            values[1] = key.Managed ? count * periodNs : 0;
            values[2] = count * periodNs;
            builder.Add(frames, values, CollectionsMarshal.AsSpan(labels));
        }

        builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf CPU profile: {_samplerEvents} sampler events, sampling interval {_options.SamplingInterval.TotalMilliseconds} ms; cpu = samples of threads running managed code, wall = all samples."));
        builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"{resolver.UnresolvedAddresses} distinct frame addresses could not be resolved to a method."));
        if (_missingStacks > 0)
        {
            builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"{_missingStacks} sampler events referred to a stack the capture did not contain."));
        }

        return builder.Build();
    }

    /// <summary>Counts are kept per raw stack, thread, span and whether the thread ran managed code.</summary>
    private readonly record struct SampleKey(int Stack, int ThreadId, int Span, bool Managed);
}
