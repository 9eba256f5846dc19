using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Parsing;
using TraceProf.Parsing.Streaming;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Cpu;

/// <summary>
/// The samples of one on-demand perf_event capture, held until the capture ends: (time, thread, stack) with stacks
/// interned, at most <see cref="MaxSamples"/> (the rest counted). Written by the sampler's drain thread, read after the
/// sampler is disposed (its thread joined), so it needs no lock. Building names the stacks against the
/// method load and rundown events of the light EventPipe session that ran beside the sampler.
/// </summary>
internal sealed class PerfCpuSamples : IPerfSampleSink
{
    /// <summary>The most samples one capture keeps: 300 s at 100 Hz on 64 busy threads is about 2 M.</summary>
    public const int MaxSamples = 2_000_000;

    private readonly RawStacks _stacks = new();
    private readonly List<(long Time, int Thread, int Stack)> _samples = [];

    /// <summary>Gets the samples kept.</summary>
    public int Count => _samples.Count;

    /// <summary>Gets the samples over <see cref="MaxSamples"/>, dropped.</summary>
    public long Dropped { get; private set; }

    /// <inheritdoc />
    public void OnSample(int threadId, long timestamp, ReadOnlySpan<ulong> frames)
    {
        if (_samples.Count >= MaxSamples)
        {
            Dropped++;
            return;
        }

        _samples.Add((timestamp, threadId, _stacks.Intern(frames)));
    }

    /// <summary>Names, attributes and aggregates the samples into the CPU profile (samples/count, cpu/nanoseconds).</summary>
    /// <param name="nettracePath">The light session's capture: method load and rundown events (no sampler events).</param>
    /// <param name="figures">The sampler's period and figures.</param>
    /// <param name="startTime">When the capture started.</param>
    /// <param name="duration">How long it ran.</param>
    /// <param name="options">Frame options.</param>
    /// <param name="labels">The attribution stage.</param>
    /// <param name="cancellationToken">Cancels the build.</param>
    /// <returns>The profile.</returns>
    public Profile Build(string nettracePath, PerfCpuFigures figures, DateTimeOffset startTime, TimeSpan duration, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(figures);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(labels);
        var names = new MethodNames();
        NettraceReader.ReadFile(nettracePath, names, cancellationToken);
        return Build(names.Methods, figures, startTime, duration, options.RawFrames, labels, cancellationToken);
    }

    /// <summary>Names, attributes and aggregates the samples against a method table already read.</summary>
    internal Profile Build(MethodAddressTable methods, PerfCpuFigures figures, DateTimeOffset startTime, TimeSpan duration, bool rawFrames, SampleAttributor labels, CancellationToken cancellationToken)
    {
        var aggregator = new CpuSampleAggregator();
        var remap = new int[_stacks.Count];
        for (var i = 0; i < remap.Length; i++)
        {
            remap[i] = aggregator.Stacks.Intern(_stacks.Get(i));
        }

        foreach (var (time, thread, stack) in _samples)
        {
            aggregator.Add(remap[stack], thread, labels.SpanLabelsAt(thread, time), managed: true);
        }

        var profile = aggregator.BuildOnCpu(methods, startTime, duration, figures, labels.Common, cancellationToken, rawFrames, labels.ThreadLabels);
        return profile;
    }

    /// <summary>Reads only method and module names (and the methods' IL-to-native maps, for source lines) from a capture.</summary>
    private sealed class MethodNames : ProfilingEventHandler
    {
        public MethodAddressTable Methods { get; } = new();

        public override void OnStack(int stackId, ReadOnlySpan<byte> addresses)
        {
        }

        public override void OnSequencePoint()
        {
        }

        public override void OnEvent(in NettraceEvent header, ReadOnlySpan<byte> payload)
        {
            switch (KindOf(header.MetadataId))
            {
                case ProfilingEvent.MethodLoad:
                    Methods.AddMethod(payload);
                    break;
                case ProfilingEvent.ILToNativeMap:
                    Methods.AddILToNativeMap(payload, rundown: false);
                    break;
                case ProfilingEvent.RundownILToNativeMap:
                    // Source lines, as the EventPipe path gives them (go tool pprof -list).
                    Methods.AddILToNativeMap(payload, rundown: true);
                    break;
                case ProfilingEvent.ModuleLoad:
                    Methods.AddModule(payload);
                    break;
                default:
                    break;
            }
        }
    }
}
