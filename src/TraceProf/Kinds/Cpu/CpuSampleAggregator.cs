using System.Globalization;
using System.Runtime.InteropServices;
using TraceProf.Parsing.Streaming;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Cpu;

/// <summary>
/// Counts sampler events per (raw stack, thread, span labels, managed or not) and, at the end, names each
/// distinct stack once against a <see cref="MethodAddressTable"/>. Shared by the file parser
/// (<see cref="StreamingCpuProfileParser"/>) and the flight recorder's cuts, so both give the same profile.
/// </summary>
internal sealed class CpuSampleAggregator
{
    private readonly Dictionary<SampleKey, long> _counts = [];
    private readonly Dictionary<ProfileLabel[], int> _spanIds = new(ReferenceEqualityComparer.Instance);
    private readonly List<ProfileLabel[]> _spans = [];

    /// <summary>Gets the distinct raw stacks the samples refer to.</summary>
    public RawStacks Stacks { get; } = new();

    /// <summary>Gets the number of sampler events added.</summary>
    public long SamplerEvents { get; private set; }

    /// <summary>Gets or sets how many sampler events referred to a stack the capture did not contain.</summary>
    public long MissingStacks { get; set; }

    /// <summary>Counts one sampler event.</summary>
    /// <param name="stack">An index into <see cref="Stacks"/>.</param>
    /// <param name="threadId">The sampled OS thread.</param>
    /// <param name="spanLabels">
    /// What the thread worked for, or null. Arrays are told apart by reference: pass the same array for the same
    /// span (a timeline hands out one array per span).
    /// </param>
    /// <param name="managed">Whether the thread was running managed code.</param>
    public void Add(int stack, int threadId, ProfileLabel[]? spanLabels, bool managed)
    {
        SamplerEvents++;
        var span = -1;
        if (spanLabels is not null)
        {
            ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(_spanIds, spanLabels, out var exists);
            if (!exists)
            {
                id = _spans.Count;
                _spans.Add(spanLabels);
            }

            span = id;
        }

        CollectionsMarshal.GetValueRefOrAddDefault(_counts, new SampleKey(stack, threadId, span, managed), out _)++;
    }

    /// <summary>Names the stacks and builds the CPU profile (columns samples, cpu, wall).</summary>
    /// <param name="methods">The method ranges to name frames with.</param>
    /// <param name="startTime">The start of the profiled time.</param>
    /// <param name="duration">Its length.</param>
    /// <param name="samplingInterval">The interval each sample stands for.</param>
    /// <param name="common">Labels added to every sample.</param>
    /// <param name="cancellationToken">Cancels the build.</param>
    /// <param name="rawFrames">Keep every frame (<see cref="Parsing.ParseOptions.RawFrames"/>).</param>
    /// <param name="threadLabels">A thread's labels (<see cref="Attribution.SampleAttributor.ThreadLabels"/>); null for <c>thread_id</c> only.</param>
    /// <returns>The profile.</returns>
    public Profile Build(MethodAddressTable methods, DateTimeOffset startTime, TimeSpan duration, TimeSpan samplingInterval, IReadOnlyList<ProfileLabel> common, CancellationToken cancellationToken, bool rawFrames = false, Func<int, ProfileLabel[]>? threadLabels = null)
    {
        var periodNs = (long)samplingInterval.TotalNanoseconds;
        var builder = new ProfileBuilder(WellKnownSampleTypes.CpuProfile, WellKnownSampleTypes.CpuProfileDefaultIndex)
        {
            PeriodType = WellKnownSampleTypes.Cpu,
            Period = periodNs,
            StartTime = startTime,
            Duration = duration,
        };

        var resolver = new FrameResolver(methods, builder, rawFrames);
        var frameStacks = new int[]?[Stacks.Count];
        var threadIds = new Dictionary<int, ProfileLabel[]>();
        var labels = new List<ProfileLabel>();
        var values = new long[3];
        var checkedKeys = 0;
        foreach (var (key, count) in _counts)
        {
            if ((++checkedKeys & 0x3FF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var frames = frameStacks[key.Stack] ??= resolver.Resolve(Stacks.Get(key.Stack));
            if (!threadIds.TryGetValue(key.ThreadId, out var threadLabel))
            {
                threadLabel = threadLabels?.Invoke(key.ThreadId) ?? [new ProfileLabel("thread_id", key.ThreadId.ToString(CultureInfo.InvariantCulture))];
                threadIds[key.ThreadId] = threadLabel;
            }

            labels.Clear();
            labels.AddRange(threadLabel);
            if (key.Span >= 0)
            {
                labels.AddRange(_spans[key.Span]);
            }

            labels.AddRange(common);
            values[0] = count;
            values[1] = key.Managed ? count * periodNs : 0;
            values[2] = count * periodNs;
            builder.Add(frames, values, CollectionsMarshal.AsSpan(labels));
        }

        builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf CPU profile: {SamplerEvents} sampler events, sampling interval {samplingInterval.TotalMilliseconds} ms; cpu = samples of threads running managed code, wall = all samples."));
        builder.AddComment(resolver.Comment());
        if (MissingStacks > 0)
        {
            builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"{MissingStacks} sampler events referred to a stack the capture did not contain."));
        }

        return builder.Build();
    }

    /// <summary>Counts are kept per raw stack, thread, span and whether the thread ran managed code.</summary>
    private readonly record struct SampleKey(int Stack, int ThreadId, int Span, bool Managed);
}
