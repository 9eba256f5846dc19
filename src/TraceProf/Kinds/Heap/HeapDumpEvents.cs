using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace TraceProf.Kinds.Heap;

/// <summary>
/// The runtime's GC heap dump vocabulary: keywords, event ids and root kinds of
/// <c>Microsoft-Windows-DotNETRuntime</c>, as the runtime's manifest (ClrEtwAll.man) defines them.
/// </summary>
internal static class HeapDumpEvents
{
    /// <summary>The runtime provider.</summary>
    public const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";

    // GC (0x1): GCStart/GCEnd/suspension events, which bracket the induced GC and give its pause.
    // Type (0x80000): BulkType, the names of the types the walk meets.
    // GCHeapDump (0x100000): the walk itself (nodes, edges, roots).
    // GCHeapCollect (0x800000): enabling a session with it makes the runtime induce one blocking gen2 GC.
    // GCHeapAndTypeNames (0x1000000): type names in BulkType.
    // Together they are what dotnet-gcdump enables (TraceEvent's Keywords.GCHeapSnapshot, 0x1980001).
    public const long GcKeyword = 0x1;
    public const long TypeKeyword = 0x8_0000;
    public const long GcHeapDumpKeyword = 0x10_0000;
    public const long GcHeapCollectKeyword = 0x80_0000;
    public const long GcHeapAndTypeNamesKeyword = 0x100_0000;
    public const long HeapSnapshotKeywords = GcKeyword | TypeKeyword | GcHeapDumpKeyword | GcHeapCollectKeyword | GcHeapAndTypeNamesKeyword;

    public const int GCStart = 1;
    public const int GCEnd = 2;
    public const int GCRestartEEEnd = 3;
    public const int GCHeapStats = 4;
    public const int GCSuspendEEBegin = 9;
    public const int BulkType = 15;
    public const int GCBulkRootEdge = 16;
    public const int GCBulkRootConditionalWeakTableElementEdge = 17;
    public const int GCBulkNode = 18;
    public const int GCBulkEdge = 19;
    public const int GCBulkRootStaticVar = 38;

    /// <summary>GCStart's Depth of a full GC.</summary>
    public const int Gen2 = 2;

    /// <summary>GCStart's Type of a background GC (which never carries a heap walk).</summary>
    public const int BackgroundGcType = 1;

    /// <summary>The providers of a heap snapshot session.</summary>
    public static IReadOnlyList<EventPipeProvider> Providers { get; } =
        [new EventPipeProvider(RuntimeProvider, EventLevel.Verbose, HeapSnapshotKeywords)];
}

/// <summary>GCBulkRootEdge's GCRootKind.</summary>
internal enum GcRootKind : byte
{
    Stack = 0,
    Finalizer = 1,
    Handle = 2,
    Older = 3,
    SizedRef = 4,
    Overflow = 5,
    DependentHandle = 6,
    NewFinalizerQueue = 7,
    Steal = 8,
    Background = 9,
}

/// <summary>GCBulkRootEdge's GCRootFlag.</summary>
[Flags]
internal enum GcRootFlags : uint
{
    None = 0,
    Pinning = 1,
    WeakRef = 2,
    Interior = 4,
    RefCounted = 8,
}
