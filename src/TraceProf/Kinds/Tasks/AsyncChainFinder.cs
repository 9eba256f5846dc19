using TraceProf.Kinds.Heap;
using TraceProf.Parsing;

namespace TraceProf.Kinds.Tasks;

/// <summary>
/// Rebuilds the pending async call chains of a process from its heap graph, the way SOS's <c>dumpasync</c> does from
/// a dump, with one difference: the graph has references but no field names (the runtime's GCBulkEdge field ids are
/// 0), so "this box's continuation is that box" cannot be read from <c>m_continuationObject</c>.
/// </summary>
/// <remarks>
/// What stands in for the field: a box B that awaits X holds X in its awaiter (<c>TaskAwaiter.m_task</c>, directly or
/// through its state machine object in a Debug build), and X holds B as its continuation (directly, or through a
/// delegate, an <c>AwaitTaskContinuation</c>, or a <c>List&lt;object&gt;</c>/<c>object[]</c> when several wait).
/// So awaiting shows as a <em>mutual</em> reference through such wrappers, which has no direction by itself; the
/// direction comes from the inner end: a task that is not a state machine box (a <c>TaskCompletionSource</c>'s task,
/// <c>Task.Delay</c>'s promise, a <c>SemaphoreSlim</c> wait node, a socket's awaitable event args, a pipe) cannot
/// await, so the box mutually linked to it is the innermost, the box mutually linked to that one awaits it, and so
/// on outwards. A task awaited by several boxes forks: every outermost box is one chain. Boxes reached from no known
/// awaitable are oriented from an end of their component and say that what they await is unknown.
/// A completed box that something still holds has no awaiter and no continuation, so it forms no link; it is
/// counted as a chain of one only when nothing else explains it (rare: a cached completed task).
/// </remarks>
internal static class AsyncChainFinder
{
    // A task → List<object> → object[] → SynchronizationContextAwaitTaskContinuation → Action → the box: four wrappers.
    private const int MaxWrapperDepth = 5;
    // A task awaited by many (a pile-up on one gate) lists them all in one object[]; 64 k bounds a search through an
    // unrelated large array without cutting a real pile-up short below that.
    private const int MaxVisitsPerSearch = 65_536;

    /// <summary>Finds the pending chains.</summary>
    /// <param name="graph">The heap graph.</param>
    /// <param name="requestMarkers">Node index → marker index (the activities of the requests in flight).</param>
    /// <param name="maxChains">The most chains returned; the rest are counted in <paramref name="omitted"/>.</param>
    /// <param name="omitted">Chains found over <paramref name="maxChains"/>.</param>
    /// <returns>The chains.</returns>
    public static List<AsyncChain> Find(HeapGraph graph, IReadOnlyDictionary<int, int> requestMarkers, int maxChains, out int omitted)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var kinds = Classify(graph.TypeNames);
        var boxes = new List<int>();
        for (var n = 0; n < graph.NodeCount; n++)
        {
            if (kinds[graph.NodeTypes[n]].Kind == NodeKind.Box)
            {
                boxes.Add(n);
            }
        }

        // Mutual links among boxes, and box → the awaitable it waits on.
        var neighbours = new Dictionary<int, List<int>>(boxes.Count);
        var awaited = new Dictionary<int, int>();
        var reach = new Dictionary<int, HashSet<int>>();
        HashSet<int> ReachOf(int node)
        {
            if (!reach.TryGetValue(node, out var set))
            {
                set = Reach(graph, kinds, node);
                reach[node] = set;
            }

            return set;
        }

        foreach (var box in boxes)
        {
            neighbours[box] = [];
        }

        foreach (var box in boxes)
        {
            foreach (var target in ReachOf(box))
            {
                var kind = kinds[graph.NodeTypes[target]].Kind;
                if (kind == NodeKind.Box)
                {
                    if (target > box && ReachOf(target).Contains(box))
                    {
                        neighbours[box].Add(target);
                        neighbours[target].Add(box);
                    }
                }
                else if (kind == NodeKind.Awaitable && !awaited.ContainsKey(box) && ReachOf(target).Contains(box))
                {
                    awaited[box] = target;
                }
            }
        }

        var completionSources = CompletionSourceTasks(graph, kinds, awaited.Values);

        // Orient from the inner ends outwards: inner[b] is the box b awaits (or -1 at the innermost).
        var inner = new Dictionary<int, int>(boxes.Count);
        var queue = new Queue<int>();
        foreach (var box in boxes)
        {
            if (awaited.ContainsKey(box))
            {
                inner[box] = -1;
                queue.Enqueue(box);
            }
        }

        Spread(neighbours, inner, queue);
        foreach (var box in boxes.OrderBy(b => neighbours[b].Count))
        {
            if (!inner.ContainsKey(box))
            {
                inner[box] = -1;
                queue.Enqueue(box);
                Spread(neighbours, inner, queue);
            }
        }

        var hasOuter = new HashSet<int>();
        foreach (var (box, to) in inner)
        {
            if (to >= 0)
            {
                hasOuter.Add(to);
            }
        }

        var chains = new List<AsyncChain>();
        omitted = 0;
        var markerOfBox = new Dictionary<int, int>();
        foreach (var outermost in boxes)
        {
            if (hasOuter.Contains(outermost))
            {
                continue;
            }

            if (chains.Count >= maxChains)
            {
                omitted++;
                continue;
            }

            var path = new List<int>();
            for (var b = outermost; b >= 0 && path.Count <= boxes.Count; b = inner[b])
            {
                path.Add(b);
            }

            path.Reverse(); // innermost first
            var innermost = path[0];
            string? awaits = null;
            if (awaited.TryGetValue(innermost, out var awaitable))
            {
                awaits = completionSources.Contains(awaitable) ? "TaskCompletionSource" : kinds[graph.NodeTypes[awaitable]].Display;
            }

            var marker = -1;
            for (var i = path.Count - 1; i >= 0 && marker < 0; i--)
            {
                if (!markerOfBox.TryGetValue(path[i], out marker))
                {
                    marker = RequestOf(graph, kinds, path[i], requestMarkers);
                    markerOfBox[path[i]] = marker;
                }
            }

            chains.Add(new AsyncChain(
                [.. path.Select(b => kinds[graph.NodeTypes[b]].Display)],
                [.. path.Select(b => kinds[graph.NodeTypes[b]].StateMachine)],
                awaits,
                marker));
        }

        return chains;
    }

    private static void Spread(Dictionary<int, List<int>> neighbours, Dictionary<int, int> inner, Queue<int> queue)
    {
        while (queue.TryDequeue(out var box))
        {
            foreach (var next in neighbours[box])
            {
                if (inner.TryAdd(next, box))
                {
                    queue.Enqueue(next);
                }
            }
        }
    }

    // The boxes and awaitables a node reaches through wrappers (delegates, continuations, object lists, a Debug
    // build's state machine object), at most MaxWrapperDepth references away.
    private static HashSet<int> Reach(HeapGraph graph, NodeInfo[] kinds, int start)
    {
        var found = new HashSet<int>();
        var frontier = new List<int> { start };
        var seen = new HashSet<int> { start };
        for (var depth = 0; depth < MaxWrapperDepth && frontier.Count > 0 && seen.Count < MaxVisitsPerSearch; depth++)
        {
            var next = new List<int>();
            foreach (var node in frontier)
            {
                for (var e = graph.EdgeStarts[node]; e < graph.EdgeStarts[node + 1] && seen.Count < MaxVisitsPerSearch; e++)
                {
                    var target = graph.EdgeTargets[e];
                    if (target < 0 || !seen.Add(target))
                    {
                        continue;
                    }

                    switch (kinds[graph.NodeTypes[target]].Kind)
                    {
                        case NodeKind.Box or NodeKind.Awaitable:
                            found.Add(target);
                            break;
                        case NodeKind.Wrapper:
                            next.Add(target);
                            break;
                        default:
                            break;
                    }
                }
            }

            frontier = next;
        }

        return found;
    }

    // Awaitables that a TaskCompletionSource holds: their Task is the TCS's, which names what is awaited better.
    private static HashSet<int> CompletionSourceTasks(HeapGraph graph, NodeInfo[] kinds, IEnumerable<int> awaitables)
    {
        var wanted = awaitables.ToHashSet();
        var result = new HashSet<int>();
        if (wanted.Count == 0)
        {
            return result;
        }

        for (var n = 0; n < graph.NodeCount; n++)
        {
            if (!kinds[graph.NodeTypes[n]].IsCompletionSource)
            {
                continue;
            }

            for (var e = graph.EdgeStarts[n]; e < graph.EdgeStarts[n + 1]; e++)
            {
                if (graph.EdgeTargets[e] is var t and >= 0 && wanted.Contains(t))
                {
                    result.Add(t);
                }
            }
        }

        return result;
    }

    // The request whose activity the box's captured execution context holds: box → ExecutionContext → its async-local
    // map (→ an array of pairs) → Activity (→ its parents), found among the marked activities.
    private static int RequestOf(HeapGraph graph, NodeInfo[] kinds, int box, IReadOnlyDictionary<int, int> markers)
    {
        if (markers.Count == 0)
        {
            return -1;
        }

        for (var e = graph.EdgeStarts[box]; e < graph.EdgeStarts[box + 1]; e++)
        {
            var context = graph.EdgeTargets[e];
            if (context < 0 || !kinds[graph.NodeTypes[context]].IsExecutionContext)
            {
                continue;
            }

            var frontier = new List<int> { context };
            var seen = new HashSet<int> { context };
            for (var depth = 0; depth < 8 && frontier.Count > 0; depth++)
            {
                var next = new List<int>();
                foreach (var node in frontier)
                {
                    for (var f = graph.EdgeStarts[node]; f < graph.EdgeStarts[node + 1]; f++)
                    {
                        var target = graph.EdgeTargets[f];
                        if (target < 0 || !seen.Add(target))
                        {
                            continue;
                        }

                        if (markers.TryGetValue(target, out var marker))
                        {
                            return marker;
                        }

                        if (kinds[graph.NodeTypes[target]].IsContextPath)
                        {
                            next.Add(target);
                        }
                    }
                }

                frontier = next;
            }
        }

        return -1;
    }

    private static NodeInfo[] Classify(string[] typeNames)
    {
        var result = new NodeInfo[typeNames.Length];
        for (var i = 0; i < typeNames.Length; i++)
        {
            result[i] = NodeInfo.Of(typeNames[i]);
        }

        return result;
    }

    internal enum NodeKind : byte
    {
        Other,
        Box,
        Awaitable,
        Wrapper,
    }

    internal readonly record struct NodeInfo(NodeKind Kind, string Display, string StateMachine, bool IsCompletionSource, bool IsExecutionContext, bool IsContextPath)
    {
        public static NodeInfo Of(string typeName)
        {
            var isCompletionSource = typeName.StartsWith("System.Threading.Tasks.TaskCompletionSource", StringComparison.Ordinal);
            var isContext = typeName == "System.Threading.ExecutionContext";
            // Nested runtime types come by their own name: "OneElementAsyncLocalValueMap", "MultiElementAsyncLocalValueMap".
            var isContextPath = typeName.Contains("AsyncLocalValueMap", StringComparison.Ordinal)
                || typeName.StartsWith("System.Diagnostics.Activity", StringComparison.Ordinal)
                || typeName.StartsWith("System.Collections.Generic.KeyValuePair", StringComparison.Ordinal)
                || typeName.StartsWith("System.Collections.Generic.Dictionary<System.Threading.IAsyncLocal", StringComparison.Ordinal);
            if (AsyncMethodNames.TryBoxStateMachine(typeName, out var stateMachine))
            {
                return new(NodeKind.Box, AsyncMethodNames.MethodOf(stateMachine), stateMachine, false, false, false);
            }

            if (AsyncMethodNames.AwaitableName(typeName) is { } awaitable)
            {
                return new(NodeKind.Awaitable, awaitable, "", isCompletionSource, false, false);
            }

            if (IsWrapper(typeName))
            {
                // An object[] is a wrapper (a task's continuation list) and on the context path (the async-local map's pairs).
                return new(NodeKind.Wrapper, typeName, "", isCompletionSource, false, typeName.EndsWith("[]", StringComparison.Ordinal));
            }

            return new(NodeKind.Other, typeName, "", isCompletionSource, isContext, isContextPath || typeName.EndsWith("[]", StringComparison.Ordinal));
        }

        private static bool IsWrapper(string typeName) =>
            typeName is "System.Object[]" or "System.Collections.Generic.List<System.Object>"
            || typeName.StartsWith("System.Action", StringComparison.Ordinal)
            || typeName.StartsWith("System.Func", StringComparison.Ordinal)
            || (typeName.Contains("Continuation", StringComparison.Ordinal) && !typeName.Contains("TaskCompletionSource", StringComparison.Ordinal))
            || AsyncMethodNames.IsStateMachineType(typeName);
    }
}
