namespace TraceProf.Kinds.Heap;

/// <summary>
/// A heap snapshot's object graph in flat arrays (one entry per object, not one object per node), so that a
/// graph of ten million objects costs about 24 bytes per object plus 4 per reference.
/// </summary>
internal sealed class HeapGraph
{
    internal HeapGraph(
        int nodeCount,
        int[] nodeTypes,
        long[] nodeSizes,
        int[] edgeStarts,
        int[] edgeTargets,
        int[] rootNodes,
        byte[] rootCategories,
        string[] typeNames)
    {
        NodeCount = nodeCount;
        NodeTypes = nodeTypes;
        NodeSizes = nodeSizes;
        EdgeStarts = edgeStarts;
        EdgeTargets = edgeTargets;
        RootNodes = rootNodes;
        RootCategories = rootCategories;
        TypeNames = typeNames;
    }

    /// <summary>Gets the number of objects in the graph.</summary>
    public int NodeCount { get; }

    /// <summary>Gets each object's index into <see cref="TypeNames"/> (the first <see cref="NodeCount"/> entries).</summary>
    public int[] NodeTypes { get; }

    /// <summary>Gets each object's size in bytes, as the runtime reported it (the first <see cref="NodeCount"/> entries).</summary>
    public long[] NodeSizes { get; }

    /// <summary>
    /// Gets where each object's references start in <see cref="EdgeTargets"/>; object <c>i</c>'s references are
    /// <c>EdgeTargets[EdgeStarts[i] .. EdgeStarts[i + 1]]</c> (length <see cref="NodeCount"/> + 1).
    /// </summary>
    public int[] EdgeStarts { get; }

    /// <summary>Gets the referenced objects' indices; -1 where the target is not in the graph (lost or outside the GC heap).</summary>
    public int[] EdgeTargets { get; }

    /// <summary>Gets the rooted objects, in the order the retention walk visits them.</summary>
    public int[] RootNodes { get; }

    /// <summary>Gets each root's <see cref="HeapRootCategory"/>, parallel to <see cref="RootNodes"/>.</summary>
    public byte[] RootCategories { get; }

    /// <summary>Gets the type names, indexed by <see cref="NodeTypes"/>.</summary>
    public string[] TypeNames { get; }

    /// <summary>Gets the number of references in the graph.</summary>
    public int EdgeCount => EdgeStarts[NodeCount];
}

/// <summary>What roots an object, as the first frame of its retention path; the order is the walk's priority.</summary>
internal enum HeapRootCategory : byte
{
    Static = 0,
    StrongHandle,
    PinnedHandle,
    RefCountedHandle,
    SizedRefHandle,
    DependentHandle,
    Stack,
    FinalizerQueue,
    OlderGeneration,
    Other,
    Unreachable,
}

/// <summary>Frame names of the root categories.</summary>
internal static class HeapRootCategories
{
    public const int Count = (int)HeapRootCategory.Unreachable + 1;

    public static string FrameName(HeapRootCategory category) => category switch
    {
        HeapRootCategory.Static => "[static]",
        HeapRootCategory.StrongHandle => "[strong handle]",
        HeapRootCategory.PinnedHandle => "[pinned handle]",
        HeapRootCategory.RefCountedHandle => "[ref-counted handle]",
        HeapRootCategory.SizedRefHandle => "[sized-ref handle]",
        HeapRootCategory.DependentHandle => "[dependent handle]",
        HeapRootCategory.Stack => "[stack]",
        HeapRootCategory.FinalizerQueue => "[finalizer queue]",
        HeapRootCategory.OlderGeneration => "[older generation]",
        HeapRootCategory.Other => "[other root]",
        HeapRootCategory.Unreachable => "[unreachable]",
        _ => throw new ArgumentOutOfRangeException(nameof(category), category, null),
    };

    /// <summary>The category of a GCBulkRootEdge root; null for a root that does not retain (a weak handle).</summary>
    public static HeapRootCategory? Of(GcRootKind kind, GcRootFlags flags)
    {
        if ((flags & GcRootFlags.WeakRef) != 0)
        {
            return null;
        }

        return kind switch
        {
            GcRootKind.Stack => HeapRootCategory.Stack,
            GcRootKind.Finalizer or GcRootKind.NewFinalizerQueue => HeapRootCategory.FinalizerQueue,
            GcRootKind.Handle when (flags & GcRootFlags.Pinning) != 0 => HeapRootCategory.PinnedHandle,
            GcRootKind.Handle when (flags & GcRootFlags.RefCounted) != 0 => HeapRootCategory.RefCountedHandle,
            GcRootKind.Handle => HeapRootCategory.StrongHandle,
            GcRootKind.SizedRef => HeapRootCategory.SizedRefHandle,
            GcRootKind.DependentHandle => HeapRootCategory.DependentHandle,
            GcRootKind.Older => HeapRootCategory.OlderGeneration,
            _ => HeapRootCategory.Other,
        };
    }
}
