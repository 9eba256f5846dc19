using System.Globalization;
using System.Runtime.InteropServices;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Heap;

/// <summary>
/// Turns a <see cref="HeapGraph"/> into a live-heap profile: one sample per retention path of types, its leaf the
/// object's type, its callers the types that hold it, root first.
/// </summary>
/// <remarks>
/// <para>
/// The retention tree is the shortest-path tree from the roots: a breadth-first walk from all roots at once
/// (statics, then strong, pinned and other handles, then stacks, then the finalizer queue, then dependent
/// handles' values) gives each object one parent, the first object that reached it. It is well defined (the
/// same graph and root order give the same tree), costs one pass over the references, and names a real chain
/// of references that keeps the object alive: the nearest root that holds it. Dominators (what would free the
/// object if removed) are the other common choice; they cost a Lengauer–Tarjan pass with several more arrays
/// per object, and their parent is often not a type that refers to the object, which reads worse in a path.
/// </para>
/// <para>
/// Paths stay few: consecutive objects of the same type collapse into one frame (a linked list of a million
/// nodes is one <c>Node</c> frame), and a path longer than the depth cap keeps its root side and its object
/// side with one <c>[…]</c> frame between them.
/// </para>
/// </remarks>
internal sealed class HeapProfileBuilder
{
    /// <summary>The sample types of a heap profile.</summary>
    public static readonly SampleType InuseObjects = new("inuse_objects", "count");

    /// <inheritdoc cref="InuseObjects"/>
    public static readonly SampleType InuseSpace = new("inuse_space", "bytes");

    /// <summary>The label with the object's type.</summary>
    public const string ObjectTypeLabel = "object_type";

    /// <summary>The frame between the root side and the object side of a path over the depth cap.</summary>
    public const string FoldFrame = "[…]";

    private const string ModuleName = "heap";

    /// <summary>The retention rule, in the profile's comment.</summary>
    public const string RetentionRule =
        "retention path: shortest path from the GC roots (breadth-first from all roots at once, in the order static, " +
        "strong/pinned/other handles, stack, finalizer queue, dependent handles; each object's parent is the first object " +
        "that reached it); not dominators. Consecutive objects of one type are one frame.";

    private readonly HeapGraph _graph;
    private readonly int _headDepth;
    private readonly int _tailDepth;
    private readonly int _maxDepth;

    // Path states: an interned path of frames (root first). Unfolded states are (parent state, frame); a folded
    // state is (head state, the last _tailDepth frames).
    private readonly List<int> _parent = [];
    private readonly List<int> _frame = [];
    private readonly List<int> _depth = [];
    private readonly List<int[]?> _tails = [];
    private readonly List<int> _heads = [];
    private readonly Dictionary<(int Parent, int Frame), int> _unfolded = [];
    private readonly Dictionary<FoldedKey, int> _folded = [];

    private HeapProfileBuilder(HeapGraph graph, int maxDepth)
    {
        _graph = graph;
        _maxDepth = Math.Max(4, maxDepth);
        _headDepth = (_maxDepth - 1) / 2;
        _tailDepth = _maxDepth - 1 - _headDepth;
    }

    /// <summary>Builds the profile.</summary>
    /// <param name="graph">The object graph.</param>
    /// <param name="stats">The snapshot's figures, for the comment; <see cref="HeapSnapshotStats.Unreachable"/> is filled in.</param>
    /// <param name="maxPathDepth">The most frames of a path.</param>
    /// <returns>The profile and the stats with the number of unreachable objects.</returns>
    public static (Profile Profile, HeapSnapshotStats Stats) Build(HeapGraph graph, HeapSnapshotStats stats, int maxPathDepth)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(stats);
        return new HeapProfileBuilder(graph, maxPathDepth).Run(stats);
    }

    private int TypeCount => _graph.TypeNames.Length;

    private int RootFrame(HeapRootCategory category) => TypeCount + (int)category;

    private int FoldFrameId => TypeCount + HeapRootCategories.Count;

    private (Profile, HeapSnapshotStats) Run(HeapSnapshotStats stats)
    {
        var graph = _graph;
        var n = graph.NodeCount;
        var state = new int[n];
        Array.Fill(state, -1);
        var rootStates = new int[HeapRootCategories.Count];
        for (var c = 0; c < rootStates.Length; c++)
        {
            rootStates[c] = Intern(-1, RootFrame((HeapRootCategory)c), 1);
        }

        var queue = new int[n];
        int head = 0, tail = 0;
        for (var r = 0; r < graph.RootNodes.Length; r++)
        {
            var node = graph.RootNodes[r];
            if (state[node] < 0)
            {
                state[node] = Extend(rootStates[graph.RootCategories[r]], graph.NodeTypes[node]);
                queue[tail++] = node;
            }
        }

        var starts = graph.EdgeStarts;
        var targets = graph.EdgeTargets;
        while (head < tail)
        {
            var from = queue[head++];
            var fromState = state[from];
            for (var e = starts[from]; e < starts[from + 1]; e++)
            {
                var to = targets[e];
                if (to >= 0 && state[to] < 0)
                {
                    state[to] = Extend(fromState, graph.NodeTypes[to]);
                    queue[tail++] = to;
                }
            }
        }

        queue = [];
        long unreachable = 0;
        for (var i = 0; i < n; i++)
        {
            if (state[i] < 0)
            {
                unreachable++;
                state[i] = Extend(rootStates[(int)HeapRootCategory.Unreachable], graph.NodeTypes[i]);
            }
        }

        var counts = new long[_frame.Count];
        var bytes = new long[_frame.Count];
        for (var i = 0; i < n; i++)
        {
            counts[state[i]]++;
            bytes[state[i]] += graph.NodeSizes[i];
        }

        stats = stats with { Unreachable = unreachable };
        var builder = new ProfileBuilder([InuseObjects, InuseSpace], defaultSampleTypeIndex: 1)
        {
            StartTime = stats.StartedAt,
            Duration = stats.Elapsed,
        };
        foreach (var comment in Comments(stats))
        {
            builder.AddComment(comment);
        }

        var frameIds = new int[FoldFrameId + 1];
        Array.Fill(frameIds, -1);
        var path = new List<int>();
        Span<long> values = stackalloc long[2];
        for (var s = 0; s < counts.Length; s++)
        {
            if (counts[s] == 0)
            {
                continue;
            }

            path.Clear();
            FramesLeafFirst(s, path);
            var stack = CollectionsMarshal.AsSpan(path);
            for (var i = 0; i < stack.Length; i++)
            {
                var frame = stack[i];
                if (frameIds[frame] < 0)
                {
                    frameIds[frame] = builder.InternFrame(new ProfileFrame(FrameName(frame), ModuleName));
                }

                stack[i] = frameIds[frame];
            }

            values[0] = counts[s];
            values[1] = bytes[s];
            builder.Add(stack, values, [new ProfileLabel(ObjectTypeLabel, FrameName(path.Count > 0 ? LastFrame(s) : 0))]);
        }

        return (builder.Build(), stats);
    }

    /// <summary>The comment lines of a heap profile: what was measured, and whether and how much is missing.</summary>
    internal static IEnumerable<string> Comments(HeapSnapshotStats stats)
    {
        var c = CultureInfo.InvariantCulture;
        var pause = stats.GcPause > TimeSpan.Zero
            ? string.Create(c, $"GC pause {stats.GcPause.TotalMilliseconds:0.0} ms from suspension to restart, heap walk included")
            : "GC pause not measured (its events were lost)";
        yield return string.Create(c, $"heap snapshot: one induced blocking gen2 GC (#{stats.GcNumber}), so only live objects; {pause} (GC.GetTotalPauseDuration grew {stats.TotalPauseDelta.TotalMilliseconds:0.0} ms: it leaves the walk out); snapshot took {stats.Elapsed.TotalMilliseconds:0} ms");
        yield return string.Create(c, $"heap: {stats.HeapBytesBefore} bytes before, {stats.HeapBytesAfter} bytes after the GC ({stats.HeapLiveBytesAfter} live); the dump reported {stats.ObjectsReported} objects of {stats.BytesReported} bytes ({stats.Coverage * 100:0.#} % of the live bytes); in this profile {stats.Objects} objects ({stats.ObjectBytes} bytes), {stats.Edges} references, {stats.Roots} roots, {stats.Unreachable} unreachable from the roots; session buffer {stats.BufferMegabytes} MB");
        yield return RetentionRule;
        if (stats.Complete)
        {
            yield return "complete: every object and reference the runtime reported is in this profile; no events were lost";
            yield break;
        }

        var missing = new List<string>();
        if (!stats.DumpEnded)
        {
            missing.Add("the induced GC's end event was not read (the session's buffer overflowed, or the snapshot was stopped)");
        }

        if (stats.CutShort || (!stats.DumpEnded && stats.HeapLiveBytesAfter > 0))
        {
            missing.Add(string.Create(c, $"the dump reported {stats.BytesReported} of the heap's {stats.HeapLiveBytesAfter} live bytes ({stats.Coverage * 100:0.#} %); events dropped when the session's buffer of {stats.BufferMegabytes} MB filled leave no gap at the end of the stream, so this is the measure of what is missing; raise the buffer limit"));
        }

        if (stats.NodeEventsLost > 0)
        {
            missing.Add(string.Create(c, $"{stats.NodeEventsLost} node events lost (about {stats.ObjectsLostEstimate} objects, {Percent(stats.ObjectsLostEstimate, stats.ObjectsReported + stats.ObjectsLostEstimate)} of the heap's objects, are missing; references of objects after the first loss are unknown, so they sit under [unreachable])"));
        }

        if (stats.EdgeEventsLost > 0 || stats.EdgesDiscarded > 0)
        {
            missing.Add(string.Create(c, $"{stats.EdgeEventsLost} reference events lost; {stats.EdgesDiscarded} references not attributed"));
        }

        if (stats.RootEventsLost > 0)
        {
            missing.Add(string.Create(c, $"{stats.RootEventsLost} root events lost"));
        }

        if (stats.ObjectsOverCap > 0)
        {
            missing.Add(string.Create(c, $"{stats.ObjectsOverCap} objects over the cap of {stats.ObjectsReported - stats.ObjectsOverCap} (MaxObjects) counted but not in the profile"));
        }

        if (stats.MalformedEvents > 0)
        {
            missing.Add(string.Create(c, $"{stats.MalformedEvents} events did not decode"));
        }

        yield return "INCOMPLETE heap snapshot: " + string.Join("; ", missing);
    }

    private static string Percent(long part, long whole) =>
        whole <= 0 ? "?" : string.Create(CultureInfo.InvariantCulture, $"{100.0 * part / whole:0.#} %");

    private string FrameName(int frame)
    {
        if (frame < TypeCount)
        {
            return _graph.TypeNames[frame];
        }

        return frame == FoldFrameId ? FoldFrame : HeapRootCategories.FrameName((HeapRootCategory)(frame - TypeCount));
    }

    private int LastFrame(int state) => _tails[state] is { } t ? t[^1] : _frame[state];

    private int Extend(int state, int type)
    {
        if (LastFrame(state) == type)
        {
            return state;
        }

        var depth = _depth[state];
        if (_tails[state] is null && depth < _maxDepth)
        {
            return Intern(state, type, depth + 1);
        }

        // Over the cap: keep the first _headDepth frames and the last _tailDepth.
        int headState;
        var newTail = new int[_tailDepth];
        if (_tails[state] is { } oldTail)
        {
            headState = _heads[state];
            Array.Copy(oldTail, 1, newTail, 0, _tailDepth - 1);
        }
        else
        {
            var chain = new int[depth];
            for (int s = state, i = depth - 1; s >= 0; s = _parent[s], i--)
            {
                chain[i] = s;
            }

            headState = chain[_headDepth - 1];
            for (var i = 0; i < _tailDepth - 1; i++)
            {
                newTail[i] = _frame[chain[depth - (_tailDepth - 1) + i]];
            }
        }

        newTail[^1] = type;
        var key = new FoldedKey(headState, newTail);
        if (!_folded.TryGetValue(key, out var folded))
        {
            folded = _frame.Count;
            _parent.Add(headState);
            _frame.Add(type);
            _depth.Add(_maxDepth);
            _tails.Add(newTail);
            _heads.Add(headState);
            _folded[key] = folded;
        }

        return folded;
    }

    private int Intern(int parent, int frame, int depth)
    {
        ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(_unfolded, (parent, frame), out var exists);
        if (!exists)
        {
            id = _frame.Count;
            _parent.Add(parent);
            _frame.Add(frame);
            _depth.Add(depth);
            _tails.Add(null);
            _heads.Add(-1);
        }

        return id;
    }

    private void FramesLeafFirst(int state, List<int> frames)
    {
        if (_tails[state] is { } tail)
        {
            for (var i = tail.Length - 1; i >= 0; i--)
            {
                frames.Add(tail[i]);
            }

            frames.Add(FoldFrameId);
            state = _heads[state];
        }

        for (var s = state; s >= 0; s = _parent[s])
        {
            frames.Add(_frame[s]);
        }
    }

    private readonly struct FoldedKey(int head, int[] tail) : IEquatable<FoldedKey>
    {
        public int Head { get; } = head;

        public int[] Tail { get; } = tail;

        public bool Equals(FoldedKey other) => Head == other.Head && Tail.AsSpan().SequenceEqual(other.Tail);

        public override bool Equals(object? obj) => obj is FoldedKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = default(HashCode);
            hash.Add(Head);
            foreach (var frame in Tail)
            {
                hash.Add(frame);
            }

            return hash.ToHashCode();
        }
    }
}
