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
public static class TimelineRecorder
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
        set => s_context.Value = value is null && !s_recording ? null : new TrackedContext(s_recording ? Activity.Current : null, value);
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
                Record(Activity.Current, s_context.Value?.Labels);
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

        var labelCache = new Dictionary<(Activity?, LabelContext?), ProfileLabel[]?>();
        var threads = new Dictionary<int, IReadOnlyList<(long, ProfileLabel[]?)>>();
        var overflowed = 0;
        foreach (var buffer in buffers)
        {
            var entries = buffer.Copy(out var lost);
            overflowed += lost ? 1 : 0;
            var kept = new List<(long, ProfileLabel[]?)>();
            for (var i = 0; i < entries.Count; i++)
            {
                var (time, activity, labels) = entries[i];
                var isLastBeforeStart = time < from && (i + 1 == entries.Count || entries[i + 1].Time >= from);
                if (time > to || (time < from && !isLastBeforeStart))
                {
                    continue;
                }

                if (!labelCache.TryGetValue((activity, labels), out var resolved))
                {
                    resolved = Resolve(activity, labels);
                    labelCache[(activity, labels)] = resolved;
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

    internal static ProfileLabel[]? Resolve(Activity? activity, LabelContext? labels)
    {
        var result = new List<ProfileLabel>(8);
        if (activity is not null && activity.IdFormat == ActivityIdFormat.W3C)
        {
            var root = activity;
            while (root.Parent is { } parent)
            {
                root = parent;
            }

            result.Add(new ProfileLabel(SpanLabels.TraceId, activity.TraceId.ToHexString()));
            result.Add(new ProfileLabel(SpanLabels.SpanId, activity.SpanId.ToHexString()));
            result.Add(new ProfileLabel(SpanLabels.LocalRootSpanId, root.SpanId.ToHexString()));
            if (root.GetCustomProperty(RequestDescription.PropertyName) is RequestDescription request)
            {
                result.Add(new ProfileLabel(SpanLabels.HttpMethod, request.Method));
                if (request.Route is { } route)
                {
                    result.Add(new ProfileLabel(SpanLabels.HttpRoute, route));
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
        s_context.Value = new TrackedContext(e.Current, s_context.Value?.Labels);
    }

    private static void OnContextChanged(AsyncLocalValueChangedArgs<TrackedContext?> e)
    {
        if (s_recording)
        {
            // A flow that began before the recording has no mirrored activity yet; Activity.Current (already the
            // new context's value during a switch) is the best knowledge of it.
            var context = e.CurrentValue;
            Record(context?.Activity ?? Activity.Current, context?.Labels);
        }
    }

    private static void Record(Activity? activity, LabelContext? labels)
    {
        var buffer = t_buffer;
        if (buffer is null || buffer.Generation != Volatile.Read(ref s_generation))
        {
            buffer = Register(buffer);
        }

        buffer.Add(Stopwatch.GetTimestamp(), activity, labels);
    }

    private static ThreadBuffer Register(ThreadBuffer? reuse)
    {
        // A thread keeps its buffer between recordings; it is emptied and joins the new recording.
        var buffer = reuse ?? new ThreadBuffer(OsThreadId.Current);
        lock (s_gate)
        {
            buffer.Reset(s_generation);
            if (s_recording)
            {
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

    private sealed record TrackedContext(Activity? Activity, LabelContext? Labels);

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
    private sealed class ThreadBuffer(int osThreadId)
    {
        private const int InitialEntries = 256;
        private readonly Lock _lock = new();

        // Grows by doubling up to EntriesPerThread, then wraps: memory follows how busy the thread really is.
        private (long Time, Activity? Activity, LabelContext? Labels)[] _ring = new (long, Activity?, LabelContext?)[InitialEntries];
        private long _count;

        public int OsThreadId { get; } = osThreadId;

        public int Generation { get; private set; }

        public void Reset(int generation)
        {
            lock (_lock)
            {
                // Back to the small initial size: a thread keeps its buffer between recordings, and a busy
                // recording must not leave every thread holding a full ring afterwards.
                _ring = new (long, Activity?, LabelContext?)[InitialEntries];
                _count = 0;
                Generation = generation;
            }
        }

        public void Add(long time, Activity? activity, LabelContext? labels)
        {
            lock (_lock)
            {
                if (_count > 0)
                {
                    var last = _ring[(_count - 1) % _ring.Length];
                    if (ReferenceEquals(last.Activity, activity) && ReferenceEquals(last.Labels, labels))
                    {
                        return;
                    }
                }

                if (_count == _ring.Length && _ring.Length < EntriesPerThread)
                {
                    Array.Resize(ref _ring, Math.Min(EntriesPerThread, _ring.Length * 2));
                }

                _ring[_count % _ring.Length] = (time, activity, labels);
                _count++;
            }
        }

        public List<(long Time, Activity? Activity, LabelContext? Labels)> Copy(out bool lost)
        {
            lock (_lock)
            {
                lost = _count > _ring.Length;
                var first = Math.Max(0, _count - _ring.Length);
                var copy = new List<(long, Activity?, LabelContext?)>((int)(_count - first));
                for (var i = first; i < _count; i++)
                {
                    copy.Add(_ring[i % _ring.Length]);
                }

                return copy;
            }
        }
    }
}
