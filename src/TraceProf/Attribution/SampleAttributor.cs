using System.Globalization;
using TraceProf.Profiles;

namespace TraceProf.Attribution;

/// <summary>
/// The attribution stage: turns a decoded event's (OS thread id, timestamp) into its labels — <c>thread_id</c>,
/// the span the thread worked for at that moment (from the <see cref="SpanTimeline"/>), the event's own labels,
/// then labels common to the whole profile. Runs after decoding and before a kind's builder aggregates, because
/// aggregation forgets thread and time (see docs/architecture.md, "Attribution order").
/// </summary>
/// <remarks>
/// With a scope trace id (the flight recorder's cut of one request), every event also gets
/// <see cref="ScopeLabel"/> = <c>trace</c> when its span belongs to that trace and <c>process</c> otherwise, so the
/// request and what else the process did at the time are both visible and can be told apart.
/// </remarks>
internal sealed class SampleAttributor
{
    /// <summary>The label that tells a cut's own trace (<c>trace</c>) from the rest of the process (<c>process</c>).</summary>
    public const string ScopeLabel = "scope";

    private static readonly ProfileLabel InTrace = new(ScopeLabel, "trace");
    private static readonly ProfileLabel InProcess = new(ScopeLabel, "process");
    private static readonly ProfileLabel[] ProcessOnly = [InProcess];

    /// <summary>The label on events of TraceProf's own threads (names starting <c>TraceProf</c>).</summary>
    private static readonly ProfileLabel OwnThread = new("thread_role", "traceprof");

    private readonly SpanTimeline? _timeline;
    private readonly ProfileLabel[] _common;
    private readonly string? _scopeTraceId;
    private readonly Func<int, string?>? _threadName;
    private readonly Dictionary<int, ProfileLabel> _threadIds = [];
    private readonly Dictionary<int, ProfileLabel[]> _threadLabels = [];
    private readonly Dictionary<ProfileLabel[], (ProfileLabel[] Labels, bool InTrace)> _scoped = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(ProfileLabel[] Span, long Bucket), ProfileLabel[]> _bucketed = new(BucketKeyComparer.Instance);
    private readonly Dictionary<long, ProfileLabel> _buckets = [];
    private readonly List<ProfileLabel> _buffer = [];

    /// <summary>Creates an attributor.</summary>
    /// <param name="timeline">The span timeline recorded while the events happened, or null (no span labels).</param>
    /// <param name="common">Labels added to every event.</param>
    /// <param name="scopeTraceId">The trace a cut is for (32 hex), or null for no scope label.</param>
    /// <param name="threadName">Thread names by OS thread id, to tell TraceProf's own threads; null when unknown.</param>
    public SampleAttributor(SpanTimeline? timeline, IReadOnlyList<ProfileLabel>? common = null, string? scopeTraceId = null, Func<int, string?>? threadName = null)
    {
        _timeline = timeline;
        _common = common is null ? [] : [.. common];
        _scopeTraceId = scopeTraceId;
        _threadName = threadName;
    }

    /// <summary>An attributor that only adds the thread's labels and <paramref name="common"/>.</summary>
    /// <param name="common">Labels added to every event.</param>
    /// <param name="threadName">Thread names by OS thread id, or null.</param>
    /// <returns>The attributor.</returns>
    public static SampleAttributor WithoutSpans(IReadOnlyList<ProfileLabel>? common = null, Func<int, string?>? threadName = null) => new(null, common, threadName: threadName);

    /// <summary>Gets the labels added to every event.</summary>
    public IReadOnlyList<ProfileLabel> Common => _common;

    /// <summary>Gets how many events were joined to a span.</summary>
    public long Attributed { get; private set; }

    /// <summary>Gets how many events belonged to the scope trace.</summary>
    public long InScope { get; private set; }

    /// <summary>
    /// The span labels (with the scope label, when scoped) of what a thread worked for at a moment, or null when it
    /// worked for no span and there is no scope. A span's labels end with its <see cref="SpanLabels.TimeBucket"/>. The
    /// same span in the same bucket gives the same array, so callers may key on it.
    /// </summary>
    /// <param name="threadId">The OS thread id.</param>
    /// <param name="timestamp">The event's timestamp (Stopwatch clock).</param>
    /// <returns>The labels, or null.</returns>
    public ProfileLabel[]? SpanLabelsAt(int threadId, long timestamp)
    {
        var span = _timeline?.LabelsAt(threadId, timestamp);
        if (span is not null)
        {
            Attributed++;
        }

        if (_scopeTraceId is null)
        {
            return span is null ? null : WithBucket(span, timestamp);
        }

        if (span is null)
        {
            return ProcessOnly;
        }

        if (!_scoped.TryGetValue(span, out var entry))
        {
            var belongs = Array.Exists(span, l => l.Key == SpanLabels.TraceId && l.Value == _scopeTraceId);
            entry = ([.. span, belongs ? InTrace : InProcess], belongs);
            _scoped[span] = entry;
        }

        if (entry.InTrace)
        {
            InScope++;
        }

        return WithBucket(entry.Labels, timestamp);
    }

    // A span's samples carry their 10 ms bucket, so merged views can keep one copy of a bucket that two snapshots
    // both hold. Only span samples: trace views are the only merges, and the rest of a profile keeps its rows.
    private ProfileLabel[] WithBucket(ProfileLabel[] span, long timestamp)
    {
        var bucket = SampleClock.BucketOf(timestamp);
        ref var labels = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_bucketed, (span, bucket), out var exists);
        if (!exists)
        {
            if (!_buckets.TryGetValue(bucket, out var label))
            {
                label = new ProfileLabel(SpanLabels.TimeBucket, bucket.ToString(CultureInfo.InvariantCulture));
                _buckets[bucket] = label;
            }

            labels = [.. span, label];
        }

        return labels!;
    }

    /// <summary>The <c>thread_id</c> label of a thread (one instance per thread).</summary>
    /// <param name="threadId">The OS thread id.</param>
    /// <returns>The label.</returns>
    public ProfileLabel ThreadLabel(int threadId)
    {
        if (!_threadIds.TryGetValue(threadId, out var label))
        {
            label = new ProfileLabel("thread_id", threadId.ToString(CultureInfo.InvariantCulture));
            _threadIds[threadId] = label;
        }

        return label;
    }

    /// <summary>
    /// The labels of a thread (one array per thread): <c>thread_id</c>, and <c>thread_role=traceprof</c> when the
    /// thread is TraceProf's own (its name starts with <c>TraceProf</c>, such as the flight recorder's reader), so
    /// what the profiler itself costs can be told from the application (<c>-tagignore thread_role=traceprof</c>).
    /// </summary>
    /// <param name="threadId">The OS thread id.</param>
    /// <returns>The labels.</returns>
    public ProfileLabel[] ThreadLabels(int threadId)
    {
        if (!_threadLabels.TryGetValue(threadId, out var labels))
        {
            labels = _threadName?.Invoke(threadId) is { } name && name.StartsWith("TraceProf", StringComparison.Ordinal)
                ? [ThreadLabel(threadId), OwnThread]
                : [ThreadLabel(threadId)];
            _threadLabels[threadId] = labels;
        }

        return labels;
    }

    /// <summary>All labels of one event: the thread's (<see cref="ThreadLabels"/>), its span's, <paramref name="extra"/>, then the common ones.</summary>
    /// <param name="threadId">The OS thread id.</param>
    /// <param name="timestamp">The event's timestamp (Stopwatch clock).</param>
    /// <param name="extra">The event's own labels.</param>
    /// <returns>A new array.</returns>
    public ProfileLabel[] For(int threadId, long timestamp, params ReadOnlySpan<ProfileLabel> extra)
    {
        _buffer.Clear();
        _buffer.AddRange(ThreadLabels(threadId));
        if (SpanLabelsAt(threadId, timestamp) is { } span)
        {
            _buffer.AddRange(span);
        }

        foreach (var label in extra)
        {
            _buffer.Add(label);
        }

        _buffer.AddRange(_common);
        return [.. _buffer];
    }
}

/// <summary>Keys a span's label array by reference and its bucket by value.</summary>
file sealed class BucketKeyComparer : IEqualityComparer<(ProfileLabel[] Span, long Bucket)>
{
    public static readonly BucketKeyComparer Instance = new();

    public bool Equals((ProfileLabel[] Span, long Bucket) x, (ProfileLabel[] Span, long Bucket) y) => ReferenceEquals(x.Span, y.Span) && x.Bucket == y.Bucket;

    public int GetHashCode((ProfileLabel[] Span, long Bucket) obj) => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Span), obj.Bucket);
}
