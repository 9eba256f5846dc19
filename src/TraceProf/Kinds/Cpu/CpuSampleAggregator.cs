using System.Globalization;
using System.Runtime.InteropServices;
using TraceProf.Parsing;
using TraceProf.Parsing.Streaming;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Cpu;

/// <summary>What a perf_event capture adds to its profile: the period, what was lost, and how native frames are named.</summary>
/// <param name="Period">CPU time per sample.</param>
/// <param name="LostSamples">Samples the kernel dropped (<c>PERF_RECORD_LOST</c>).</param>
/// <param name="ThreadsAttached">Threads sampled.</param>
/// <param name="ThreadsFailed">Threads that could not be.</param>
/// <param name="ThreadsOverCap">Threads over the sampler's cap.</param>
/// <param name="NativeNames">Names native code.</param>
internal sealed record PerfCpuFigures(TimeSpan Period, long LostSamples, long ThreadsAttached, long ThreadsFailed, long ThreadsOverCap, NativeFrameNames NativeNames)
{
    /// <summary>Gets the samples dropped because the capture's own bound was reached.</summary>
    public long DroppedOverCap { get; init; }
}

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
    public Profile Build(MethodAddressTable methods, DateTimeOffset startTime, TimeSpan duration, TimeSpan samplingInterval, IReadOnlyList<ProfileLabel> common, CancellationToken cancellationToken, bool rawFrames = false, Func<int, ProfileLabel[]>? threadLabels = null) =>
        BuildCore(methods, startTime, duration, samplingInterval, common, rawFrames, threadLabels, perf: null, cancellationToken);

    /// <summary>
    /// Names the stacks and builds the CPU profile of the perf_event sampler: columns samples and cpu (no wall: a
    /// thread is sampled only while on a CPU), native frames named by their mapped file.
    /// </summary>
    /// <param name="methods">The method ranges to name frames with.</param>
    /// <param name="startTime">The start of the profiled time.</param>
    /// <param name="duration">Its length.</param>
    /// <param name="perf">The sampler's period, figures and native frame names.</param>
    /// <param name="common">Labels added to every sample.</param>
    /// <param name="cancellationToken">Cancels the build.</param>
    /// <param name="rawFrames">Keep every frame.</param>
    /// <param name="threadLabels">A thread's labels; null for <c>thread_id</c> only.</param>
    /// <returns>The profile.</returns>
    public Profile BuildOnCpu(MethodAddressTable methods, DateTimeOffset startTime, TimeSpan duration, PerfCpuFigures perf, IReadOnlyList<ProfileLabel> common, CancellationToken cancellationToken, bool rawFrames = false, Func<int, ProfileLabel[]>? threadLabels = null)
    {
        ArgumentNullException.ThrowIfNull(perf);
        return BuildCore(methods, startTime, duration, perf.Period, common, rawFrames, threadLabels, perf, cancellationToken);
    }

    private Profile BuildCore(MethodAddressTable methods, DateTimeOffset startTime, TimeSpan duration, TimeSpan samplingInterval, IReadOnlyList<ProfileLabel> common, bool rawFrames, Func<int, ProfileLabel[]>? threadLabels, PerfCpuFigures? perf, CancellationToken cancellationToken)
    {
        var periodNs = (long)samplingInterval.TotalNanoseconds;
        var builder = new ProfileBuilder(perf is null ? WellKnownSampleTypes.CpuProfile : OnCpuSampleTypes, WellKnownSampleTypes.CpuProfileDefaultIndex)
        {
            PeriodType = WellKnownSampleTypes.Cpu,
            Period = periodNs,
            StartTime = startTime,
            Duration = duration,
        };

        var resolver = new FrameResolver(methods, builder, rawFrames, perf?.NativeNames);
        var frameStacks = new int[]?[Stacks.Count];
        var unresolvedStacks = new bool[Stacks.Count];
        var restoredStacks = perf is null ? null : new bool[Stacks.Count];
        var splice = perf is null ? [] : new ulong[256];
        long unresolvedSamples = 0;
        long restoredSamples = 0;
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

            if (frameStacks[key.Stack] is null)
            {
                var raw = Stacks.Get(key.Stack);
                if (restoredStacks is not null)
                {
                    // The perf sampler's caller candidates of a native leaf: the method table picks one or none.
                    raw = NativeLeafCallers.Splice(raw, methods, ref splice, out restoredStacks[key.Stack]);
                }

                frameStacks[key.Stack] = resolver.Resolve(raw);
                unresolvedStacks[key.Stack] = resolver.LastHadUnresolved;
            }

            if (restoredStacks is not null && restoredStacks[key.Stack])
            {
                restoredSamples += count;
            }

            var frames = frameStacks[key.Stack]!;
            if (unresolvedStacks[key.Stack])
            {
                unresolvedSamples += count;
            }

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
            builder.Add(frames, perf is null ? values : values.AsSpan(0, 2), CollectionsMarshal.AsSpan(labels));
        }

        if (perf is not null)
        {
            builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf CPU profile (perf_event sampler): {SamplerEvents} samples, one per {samplingInterval.TotalMilliseconds} ms of a thread's CPU time in user space; cpu = on-CPU time (managed and native code), no wall column."));
            builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"{perf.LostSamples} samples lost (a thread's ring was full), {perf.ThreadsFailed} threads could not be sampled, {perf.ThreadsOverCap} over the thread cap; {perf.ThreadsAttached} threads sampled; {perf.DroppedOverCap} dropped over the capture's bound."));
            builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"{resolver.UnresolvedAddresses} distinct frame addresses could not be resolved ({unresolvedSamples} of {SamplerEvents} samples have one); {resolver.NativeAddresses} named from native modules (symbols, unwind tables, ready-to-run images)."));
            builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"{restoredSamples} samples of a native leaf got back the managed caller the kernel's frame-pointer walk skips, found on the leaf's stack (docs/frames.md)."));
            return builder.Build();
        }

        builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"TraceProf CPU profile: {SamplerEvents} sampler events, sampling interval {samplingInterval.TotalMilliseconds} ms; cpu = samples of threads running managed code, wall = all samples."));
        builder.AddComment(resolver.Comment());
        if (MissingStacks > 0)
        {
            builder.AddComment(string.Create(CultureInfo.InvariantCulture, $"{MissingStacks} sampler events referred to a stack the capture did not contain."));
        }

        return builder.Build();
    }

    /// <summary>The columns of a perf_event CPU profile: samples, cpu (default, index 1).</summary>
    public static IReadOnlyList<SampleType> OnCpuSampleTypes { get; } = [WellKnownSampleTypes.Samples, WellKnownSampleTypes.Cpu];

    /// <summary>Counts are kept per raw stack, thread, span and whether the thread ran managed code.</summary>
    private readonly record struct SampleKey(int Stack, int ThreadId, int Span, bool Managed);
}
