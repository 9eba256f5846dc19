using System.Diagnostics;
using TraceProf.Profiles;

namespace TraceProf.Attribution;

/// <summary>
/// Records, while at least one capture listens, what each thread is working for: every time the current
/// <see cref="Activity"/> or the app labels change on a thread — including each execution-context switch at an
/// <c>await</c> — it appends (timestamp, activity, labels) to that thread's bounded buffer. EventPipe's samples
/// carry no trace context; joining them with this timeline on (OS thread, time) is how samples get their span.
/// </summary>
/// <remarks>
/// Idle cost: none for activities (the handler is subscribed only while recording), one volatile read for app
/// label changes. While recording: a few tenths of a microsecond per context switch.
/// </remarks>
internal static class TimelineRecorder
{
    /// <summary>Entries kept per thread; older entries are overwritten and the loss is reported.</summary>
    public const int EntriesPerThread = 32 * 1024;

    // What the current async flow works for: the mirrored Activity.Current and the app labels. Its change handler
    // runs on every execution-context switch (each await resumption, on whatever thread), which Activity.Current's
    // own CurrentChanged event does not: that one fires only when Current is set.
    private static readonly AsyncLocal<TrackedContext?> s_context = new(OnContextChanged);
    private static readonly Lock s_gate = new();
    private static readonly List<ThreadBuffer> s_buffers = [];
    private static readonly HashSet<string> s_activitySources = new(StringComparer.Ordinal);
    private static int s_recorders;
    private static int s_generation;
    private static volatile bool s_recording;
    private static ActivityListener? s_listener;

    [ThreadStatic]
    private static ThreadBuffer? t_buffer;

    /// <summary>Gets whether a capture is listening.</summary>
    public static bool IsRecording => s_recording;

    internal static LabelContext? Labels
    {
        get => s_context.Value?.Labels;
        set => s_context.Value = value is null && !s_recording ? null : new TrackedContext(s_recording ? s_context.Value?.Span ?? SpanRef.Of(Activity.Current) : null, value);
    }

    /// <summary>
    /// Tells the recorder that the current request's description (<see cref="RequestDescription"/>) was just
    /// attached, so entries from now on carry its method and route. Costs nothing while not recording.
    /// </summary>
    public static void RequestDescribed()
    {
        if (s_recording)
        {
            s_context.Value = new TrackedContext(SpanRef.Of(Activity.Current), s_context.Value?.Labels);
        }
    }

    /// <summary>
    /// Names an <see cref="ActivitySource"/> whose activities must exist while recording even when nothing else
    /// listens (ASP.NET Core's <c>Microsoft.AspNetCore</c>, so that requests have trace ids without OpenTelemetry).
    /// </summary>
    /// <param name="name">The source name.</param>
    public static void EnsureActivitiesFrom(string name)
    {
        lock (s_gate)
        {
            s_activitySources.Add(name);
        }
    }

    /// <summary>Starts recording; dispose the result to stop. Recordings nest (one per running capture).</summary>
    /// <returns>The recording.</returns>
    public static IDisposable Start()
    {
        lock (s_gate)
        {
            if (s_recorders++ == 0)
            {
                s_buffers.Clear();
                s_generation++;
                s_recording = true;
                Activity.CurrentChanged += OnActivityChanged;
                if (s_activitySources.Count > 0)
                {
                    var sources = s_activitySources.ToHashSet(StringComparer.Ordinal);
                    s_listener = new ActivityListener
                    {
                        ShouldListenTo = source => sources.Contains(source.Name),
                        Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
                        SampleUsingParentId = static (ref ActivityCreationOptions<string> _) => ActivitySamplingResult.PropagationData,
                    };
                    ActivitySource.AddActivityListener(s_listener);
                }

                // What the current thread already works for; other threads report at their next switch.
                Record(SpanRef.Of(Activity.Current), s_context.Value?.Labels);
            }

            return new Recording();
        }
    }

    /// <summary>Freezes the entries between two timestamps (plus each thread's last entry before the start).</summary>
    /// <param name="from">Start, on the <see cref="Stopwatch.GetTimestamp"/> clock.</param>
    /// <param name="to">End, on the same clock.</param>
    /// <returns>The timeline, with labels resolved.</returns>
    public static SpanTimeline Snapshot(long from, long to)
    {
        ThreadBuffer[] buffers;
        lock (s_gate)
        {
            buffers = [.. s_buffers];
        }

        var labelCache = new Dictionary<(SpanRef?, LabelContext?), ProfileLabel[]?>();
        var threads = new Dictionary<int, IReadOnlyList<(long, ProfileLabel[]?)>>();
        var overflowed = 0;
        foreach (var buffer in buffers)
        {
            var entries = buffer.Copy(from, out var lost);
            overflowed += lost ? 1 : 0;
            var kept = new List<(long, ProfileLabel[]?)>();
            for (var i = 0; i < entries.Count; i++)
            {
                var (time, span, labels) = entries[i];
                var isLastBeforeStart = time < from && (i + 1 == entries.Count || entries[i + 1].Time >= from);
                if (time > to || (time < from && !isLastBeforeStart))
                {
                    continue;
                }

                if (!labelCache.TryGetValue((span, labels), out var resolved))
                {
                    resolved = Resolve(span, labels);
                    labelCache[(span, labels)] = resolved;
                }

                kept.Add((time, resolved));
            }

            if (kept.Count > 0)
            {
                threads[buffer.OsThreadId] = kept;
            }
        }

        return new SpanTimeline(threads, overflowed);
    }

    /// <summary>
    /// What each recording thread works for now: its latest entry, as (OS thread id, trace id, local root span id),
    /// for the threads whose latest entry is a span. A thread that went back to the pool recorded "nothing" at the
    /// switch, so it is not listed; a thread blocked inside a request still is (it is on a thread, just not running).
    /// </summary>
    /// <returns>The threads and what they work for; empty while not recording.</returns>
    public static List<(int OsThreadId, ActivityTraceId TraceId, ActivitySpanId RootSpanId)> CurrentSpans()
    {
        ThreadBuffer[] buffers;
        lock (s_gate)
        {
            buffers = [.. s_buffers];
        }

        var result = new List<(int, ActivityTraceId, ActivitySpanId)>();
        foreach (var buffer in buffers)
        {
            if (buffer.IsAlive && buffer.Latest() is { } span)
            {
                result.Add((buffer.OsThreadId, span.TraceId, span.RootSpanId));
            }
        }

        return result;
    }

    internal static ProfileLabel[]? Resolve(Activity? activity, LabelContext? labels) => Resolve(SpanRef.Of(activity), labels);

    private static ProfileLabel[]? Resolve(SpanRef? span, LabelContext? labels)
    {
        var result = new List<ProfileLabel>(8);
        if (span is not null)
        {
            result.Add(new ProfileLabel(SpanLabels.TraceId, span.TraceId.ToHexString()));
            result.Add(new ProfileLabel(SpanLabels.SpanId, span.SpanId.ToHexString()));
            result.Add(new ProfileLabel(SpanLabels.LocalRootSpanId, span.RootSpanId.ToHexString()));
            if (span.Request is { } request)
            {
                result.Add(new ProfileLabel(SpanLabels.HttpMethod, request.Method));
                if (request.Route is { } route)
                {
                    result.Add(new ProfileLabel(SpanLabels.HttpRoute, route));
                }

                // The request span's own start and end, as the tracking middleware saw them: what the span table
                // shows as its duration. Inner spans are not tracked; their table rows use first-to-last sample.
                if (span.IsRequestSpan && request.StartTimestamp != 0)
                {
                    result.Add(new ProfileLabel(SpanLabels.SpanStart, SampleClock.FormatSpanTime(request.StartTimestamp)));
                    if (request.EndTimestamp != 0)
                    {
                        result.Add(new ProfileLabel(SpanLabels.SpanEnd, SampleClock.FormatSpanTime(request.EndTimestamp)));
                    }
                }
            }
        }

        if (labels is not null)
        {
            result.AddRange(labels.Labels);
        }

        return result.Count == 0 ? null : [.. result];
    }

    private static void OnActivityChanged(object? sender, ActivityChangedEventArgs e)
    {
        // Mirror into our flow-tracking local; its change handler records the entry.
        s_context.Value = new TrackedContext(SpanRef.Of(e.Current), s_context.Value?.Labels);
    }

    private static void OnContextChanged(AsyncLocalValueChangedArgs<TrackedContext?> e)
    {
        if (s_recording)
        {
            // A flow that began before the recording has no mirrored activity yet; Activity.Current (already the
            // new context's value during a switch) is the best knowledge of it.
            var context = e.CurrentValue;
            Record(context is null ? SpanRef.Of(Activity.Current) : context.Span, context?.Labels);
        }
    }

    private static void Record(SpanRef? span, LabelContext? labels)
    {
        var buffer = t_buffer;
        if (buffer is null || buffer.Generation != Volatile.Read(ref s_generation))
        {
            buffer = Register(buffer);
        }

        buffer.Add(Stopwatch.GetTimestamp(), span, labels);
    }

    private static ThreadBuffer Register(ThreadBuffer? reuse)
    {
        // A thread keeps its buffer between recordings; it is emptied and joins the new recording.
        var buffer = reuse ?? new ThreadBuffer(OsThreadId.Current, Thread.CurrentThread);
        lock (s_gate)
        {
            buffer.Reset(s_generation);
            if (s_recording)
            {
                // A recording can last as long as the process (the flight recorder), while pool threads come and
                // go: a new thread's arrival is when the buffers of threads that have ended are let go.
                s_buffers.RemoveAll(static b => !b.IsAlive);
                s_buffers.Add(buffer);
            }
        }

        t_buffer = buffer;
        return buffer;
    }

    private static void Stop()
    {
        lock (s_gate)
        {
            if (--s_recorders == 0)
            {
                s_recording = false;
                Activity.CurrentChanged -= OnActivityChanged;
                s_listener?.Dispose();
                s_listener = null;

                // Buffers hold activities; let them go with the recording.
                foreach (var buffer in s_buffers)
                {
                    buffer.Reset(generation: 0);
                }

                s_buffers.Clear();
            }
        }
    }

    private sealed record TrackedContext(SpanRef? Span, LabelContext? Labels);

    /// <summary>
    /// What the timeline keeps of an activity: its ids and its request, not the activity itself, so that a
    /// long-running recorder does not keep every recent request's activity (tags, events, baggage) alive.
    /// </summary>
    private sealed class SpanRef
    {
        private SpanRef(ActivityTraceId traceId, ActivitySpanId spanId, ActivitySpanId rootSpanId, RequestDescription? request)
        {
            IsRequestSpan = spanId == rootSpanId;
            TraceId = traceId;
            SpanId = spanId;
            RootSpanId = rootSpanId;
            Request = request;
        }

        public ActivityTraceId TraceId { get; }

        public ActivitySpanId SpanId { get; }

        public ActivitySpanId RootSpanId { get; }

        public RequestDescription? Request { get; }

        /// <summary>Gets whether this is the local root span, the one the request description's times belong to.</summary>
        public bool IsRequestSpan { get; }

        public static SpanRef? Of(Activity? activity)
        {
            if (activity is null || activity.IdFormat != ActivityIdFormat.W3C)
            {
                return null;
            }

            var root = activity;
            while (root.Parent is { } parent)
            {
                root = parent;
            }

            return new SpanRef(activity.TraceId, activity.SpanId, root.SpanId, root.GetCustomProperty(RequestDescription.PropertyName) as RequestDescription);
        }
    }

    private sealed class Recording : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Stop();
            }
        }
    }

    /// <summary>One thread's ring of entries; written by its thread, copied by a capture.</summary>
    private sealed class ThreadBuffer(int osThreadId, Thread owner)
    {
        private readonly WeakReference<Thread> _owner = new(owner);

        private const int InitialEntries = 256;
        private readonly Lock _lock = new();

        // Grows by doubling up to EntriesPerThread, then wraps: memory follows how busy the thread really is.
        private (long Time, SpanRef? Span, LabelContext? Labels)[] _ring = new (long, SpanRef?, LabelContext?)[InitialEntries];
        private long _count;

        public int OsThreadId { get; } = osThreadId;

        /// <summary>Gets whether the thread that writes this buffer still runs.</summary>
        public bool IsAlive => _owner.TryGetTarget(out var thread) && thread.IsAlive;

        public int Generation { get; private set; }

        public void Reset(int generation)
        {
            lock (_lock)
            {
                // Back to the small initial size: a thread keeps its buffer between recordings, and a busy
                // recording must not leave every thread holding a full ring afterwards.
                _ring = new (long, SpanRef?, LabelContext?)[InitialEntries];
                _count = 0;
                Generation = generation;
            }
        }

        public void Add(long time, SpanRef? span, LabelContext? labels)
        {
            lock (_lock)
            {
                if (_count > 0)
                {
                    var last = _ring[(_count - 1) % _ring.Length];
                    if (ReferenceEquals(last.Span, span) && ReferenceEquals(last.Labels, labels))
                    {
                        return;
                    }
                }

                if (_count == _ring.Length && _ring.Length < EntriesPerThread)
                {
                    Array.Resize(ref _ring, Math.Min(EntriesPerThread, _ring.Length * 2));
                }

                _ring[_count % _ring.Length] = (time, span, labels);
                _count++;
            }
        }

        /// <summary>The span of the latest entry, or null.</summary>
        public SpanRef? Latest()
        {
            lock (_lock)
            {
                return _count == 0 ? null : _ring[(_count - 1) % _ring.Length].Span;
            }
        }

        /// <summary>The entries from the last one before <paramref name="from"/> on, oldest first.</summary>
        public List<(long Time, SpanRef? Span, LabelContext? Labels)> Copy(long from, out bool lost)
        {
            lock (_lock)
            {
                var first = Math.Max(0, _count - _ring.Length);

                // A long-running recording keeps full rings; a cut needs only its span and the entry before it.
                var start = _count - 1;
                while (start > first && _ring[start % _ring.Length].Time >= from)
                {
                    start--;
                }

                start = Math.Max(start, first);

                // Entries were lost for this cut only when the ring wrapped past its start.
                lost = _count > _ring.Length && start == first && (_count == 0 || _ring[first % _ring.Length].Time > from);
                var copy = new List<(long, SpanRef?, LabelContext?)>((int)(_count - start));
                for (var i = start; i < _count; i++)
                {
                    copy.Add(_ring[i % _ring.Length]);
                }

                return copy;
            }
        }
    }
}
