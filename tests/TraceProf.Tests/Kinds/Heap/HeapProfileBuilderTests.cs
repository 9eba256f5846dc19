using TraceProf.Kinds.Heap;
using static TraceProf.Tests.Kinds.Heap.HeapProfiles;

namespace TraceProf.Tests.Kinds.Heap;

/// <summary>The retention tree and the paths, on graphs built by hand.</summary>
public sealed class HeapProfileBuilderTests
{
    [Fact]
    public void LinkedList_CollapsesIntoOneFrame()
    {
        // [static] → Head → Node → Node → Node → Leaf
        var g = new Graph("Head", "Node", "Leaf");
        var head = g.Node("Head", 16);
        var nodes = Enumerable.Range(0, 3).Select(_ => g.Node("Node", 24)).ToArray();
        var leaf = g.Node("Leaf", 100);
        g.Edge(head, nodes[0]).Edge(nodes[0], nodes[1]).Edge(nodes[1], nodes[2]).Edge(nodes[2], leaf).Root(head, HeapRootCategory.Static);

        var profile = Build(g);

        Assert.Equal(["[static]", "Head", "Node", "Leaf"], Assert.Single(Paths(profile, "Leaf")));
        Assert.Equal(["[static]", "Head", "Node"], Assert.Single(Paths(profile, "Node")));
        Assert.Equal(3, Leaf(profile, "Node", Objects));
        Assert.Equal(72, Leaf(profile, "Node", Space));
    }

    [Fact]
    public void ShortestPath_WinsOverRootOrder_AndRootOrderBreaksTies()
    {
        // [static] → Cache → Item; [stack] → Item (shorter). Shared is one step from Cache and one from Item.
        var g = new Graph("Cache", "Item", "Shared");
        var cache = g.Node("Cache", 10);
        var item = g.Node("Item", 10);
        var shared = g.Node("Shared", 10);
        g.Edge(cache, item).Edge(item, shared).Edge(cache, shared);
        g.Root(cache, HeapRootCategory.Static).Root(item, HeapRootCategory.Stack);

        var profile = Build(g);

        Assert.Equal(["[stack]", "Item"], Assert.Single(Paths(profile, "Item")));
        Assert.Equal(["[static]", "Cache", "Shared"], Assert.Single(Paths(profile, "Shared")));
    }

    [Fact]
    public void DeepPath_KeepsItsRootSideAndObjectSide_WithAFoldBetween()
    {
        var names = Enumerable.Range(0, 40).Select(i => $"T{i}").ToArray();
        var g = new Graph(names);
        var chain = names.Select(n => g.Node(n, 8)).ToArray();
        for (var i = 1; i < chain.Length; i++)
        {
            g.Edge(chain[i - 1], chain[i]);
        }

        g.Root(chain[0], HeapRootCategory.StrongHandle);
        var profile = Build(g, maxDepth: 32);

        var path = Assert.Single(Paths(profile, "T39"));
        Assert.Equal(32, path.Length);
        Assert.Equal(["[strong handle]", "T0", "T1"], path[..3]);
        Assert.Equal(HeapProfileBuilder.FoldFrame, path[15]);
        Assert.Equal(["T37", "T38", "T39"], path[^3..]);
        Assert.Equal(40, profile.Total(Objects));
    }

    [Fact]
    public void ObjectsNoRootReaches_AreUnderUnreachable_AndCounted()
    {
        var g = new Graph("Kept", "Garbage");
        g.Root(g.Node("Kept", 10), HeapRootCategory.Stack);
        g.Node("Garbage", 20);

        var (profile, stats) = HeapProfileBuilder.Build(g.Build(), new HeapSnapshotStats { DumpEnded = true }, 32);

        Assert.Equal(["[unreachable]", "Garbage"], Assert.Single(Paths(profile, "Garbage")));
        Assert.Equal(1, stats.Unreachable);
        Assert.Contains(profile.Comments, c => c.StartsWith("complete:", StringComparison.Ordinal));
    }

    [Fact]
    public void LostEvents_AreSaidInTheComment_WithHowMuch()
    {
        var g = new Graph("A");
        g.Root(g.Node("A", 10), HeapRootCategory.Stack);
        var stats = new HeapSnapshotStats { DumpEnded = true, NodeEventsLost = 3, ObjectsLostEstimate = 6000, ObjectsReported = 4000 };

        var (profile, _) = HeapProfileBuilder.Build(g.Build(), stats, 32);

        var line = Assert.Single(profile.Comments, c => c.StartsWith("INCOMPLETE", StringComparison.Ordinal));
        Assert.Contains("3 node events lost (about 6000 objects, 60 %", line, StringComparison.Ordinal);
    }

    [Fact]
    public void DumpCutShortAtTheEnd_IsSaidInTheComment_FromTheHeapsOwnSize()
    {
        // Events dropped at the end of the stream leave no index gap; the heap's live bytes show what is missing.
        var g = new Graph("A");
        g.Root(g.Node("A", 10), HeapRootCategory.Stack);
        var stats = new HeapSnapshotStats { DumpEnded = false, HeapLiveBytesAfter = 1000L << 20, BytesReported = 600L << 20 };

        var (profile, _) = HeapProfileBuilder.Build(g.Build(), stats, 32);

        Assert.False(stats.Complete);
        Assert.True(stats.CutShort);
        var line = Assert.Single(profile.Comments, c => c.StartsWith("INCOMPLETE", StringComparison.Ordinal));
        Assert.Contains("(60 %)", line, StringComparison.Ordinal);
        Assert.Contains("end event was not read", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_SubtractsTheBase_ByStackAndLabels_WithNegativesForWhatShrank()
    {
        var a = new Graph("Grows", "Shrinks", "Same");
        var b = new Graph("Grows", "Shrinks", "Same");
        foreach (var (graph, grows, shrinks) in new[] { (a, 1, 5), (b, 4, 2) })
        {
            var holder = graph.Node("Same", 8);
            graph.Root(holder, HeapRootCategory.Static);
            for (var i = 0; i < grows; i++)
            {
                graph.Edge(holder, graph.Node("Grows", 10));
            }

            for (var i = 0; i < shrinks; i++)
            {
                graph.Edge(holder, graph.Node("Shrinks", 10));
            }
        }

        var diff = HeapProfileDiff.Subtract(Build(a), Build(b));

        Assert.Equal(3, Leaf(diff, "Grows", Objects));
        Assert.Equal(30, Leaf(diff, "Grows", Space));
        Assert.Equal(-3, Leaf(diff, "Shrinks", Objects));
        Assert.DoesNotContain(diff.Samples, s => diff.Frames[s.Stack[0]].FunctionName == "Same");
    }

    [Theory]
    [InlineData("System.String", "System.String")]
    [InlineData("System.Byte[]", "System.Byte[]")]
    [InlineData("System.Int32[,]", "System.Int32[,]")]
    [InlineData("System.Collections.Generic.List`1[Shop.Order]", "System.Collections.Generic.List<Shop.Order>")]
    [InlineData("System.Collections.Generic.Dictionary`2[System.String,System.Collections.Generic.List`1[Shop.Order]]", "System.Collections.Generic.Dictionary<System.String, System.Collections.Generic.List<Shop.Order>>")]
    [InlineData("Entry[System.String,Shop.Order][]", "Entry<System.String, Shop.Order>[]")]
    [InlineData("System.Collections.Generic.List`1[[Shop.Order, Shop]]", "System.Collections.Generic.List<Shop.Order>")]
    public void TypeNames_ReadAsCSharp(string runtime, string display) => Assert.Equal(display, HeapTypeNames.Display(runtime));

    private static TraceProf.Profiles.Profile Build(Graph g, int maxDepth = 32) =>
        HeapProfileBuilder.Build(g.Build(), new HeapSnapshotStats { DumpEnded = true }, maxDepth).Profile;

    /// <summary>A graph built by hand, in the arrays <see cref="HeapGraph"/> holds.</summary>
    private sealed class Graph(params string[] types)
    {
        private readonly List<(int Type, long Size)> _nodes = [];
        private readonly List<(int From, int To)> _edges = [];
        private readonly List<(int Node, HeapRootCategory Category)> _roots = [];

        public int Node(string type, long size)
        {
            _nodes.Add((Array.IndexOf(types, type), size));
            return _nodes.Count - 1;
        }

        public Graph Edge(int from, int to)
        {
            _edges.Add((from, to));
            return this;
        }

        public Graph Root(int node, HeapRootCategory category)
        {
            _roots.Add((node, category));
            return this;
        }

        public HeapGraph Build()
        {
            var starts = new int[_nodes.Count + 1];
            var targets = new List<int>();
            for (var i = 0; i < _nodes.Count; i++)
            {
                starts[i] = targets.Count;
                targets.AddRange(_edges.Where(e => e.From == i).Select(e => e.To));
            }

            starts[_nodes.Count] = targets.Count;
            var roots = _roots.OrderBy(r => r.Category).ToArray();
            return new HeapGraph(
                _nodes.Count,
                [.. _nodes.Select(n => n.Type)],
                [.. _nodes.Select(n => n.Size)],
                starts,
                [.. targets],
                [.. roots.Select(r => r.Node)],
                [.. roots.Select(r => (byte)r.Category)],
                types);
        }
    }
}
