// One file on purpose (about 670 lines, over our ~400-line guide): the decoders of the heap dump's six bulk event layouts
// (types, nodes, edges, roots, static roots, conditional-weak-table roots), their gap accounting and the end-of-dump
// watch share one cursor state; split across files, each part would read half of a binary format written here by
// hand because TraceEvent has no heap graph (shared/DESIGN.md, "Round 2").

using System.Buffers.Binary;
using System.Text;
using TraceProf.Parsing.Streaming;

namespace TraceProf.Kinds.Heap;

/// <summary>
/// Decodes a heap dump's events as they arrive (a <see cref="NettraceHandler"/> for the live stream) into the
/// flat arrays of a <see cref="HeapGraph"/>, and watches for the end of the induced GC that carries the dump.
/// </summary>
/// <remarks>
/// The runtime walks the heap on one thread and, for each object, adds a node (address, size, type, number of
/// references) to a GCBulkNode batch and its references to a GCBulkEdge batch, each batch sent when full: so the
/// n-th node's references are the next EdgeCount edges of the edge stream. Each bulk event carries its index in
/// its own sequence, so an event the session dropped shows as a gap; a dropped edge batch is skipped by its
/// size (every batch but the last is full), a dropped node batch loses the edges of every later node, since
/// nobody knows how many edges the dropped nodes had.
/// <para>
/// Longer than our ~400-line guide on purpose: the decoders of the six bulk event layouts (types, nodes, edges,
/// roots, static roots, conditional-weak-table roots), their gap accounting and the end-of-dump watch share one
/// cursor state, and split across files each would read half of a binary format written here by hand (TraceEvent
/// has no heap graph, see DESIGN.md "Round 2").
/// </para>
/// </remarks>
internal sealed class HeapGraphBuilder : NettraceHandler
{
    private const int NodeValueBytes = 32; // Address, Size, TypeID, EdgeCount: 8 bytes each
    private const int EdgeValueBytes = 12; // Value (8), ReferencingFieldID (4)
    private const int RootValueBytes = 21; // RootedNodeAddress (8), GCRootKind (1), GCRootFlag (4), GCRootID (8)
    private const int BulkHeaderBytes = 10; // Index (4), Count (4), ClrInstanceID (2)

    private readonly int _maxObjects;
    private readonly int _maxEdges;
    private readonly Dictionary<int, int> _runtimeEvents = [];
    private readonly Dictionary<ulong, int> _typeIndexById = [];
    private readonly List<ulong> _typeIds = [];
    private readonly Dictionary<ulong, (string Name, ulong[] Arguments)> _typeDescriptions = [];

    private readonly TaskCompletionSource _dumpEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ulong[] _addresses = new ulong[1024];
    private int[] _types = new int[1024];
    private long[] _sizes = new long[1024];
    // Each object's number of references; ~count (negative) where its references are unknown (after a dropped
    // node event, or over the cap). Where they start in the edge stream is the sum of the counts before.
    private int[] _edgeCounts = new int[1024];
    private ulong[] _edges = new ulong[4096];
    private int _edgesStored;
    private long _edgeCursor;    // where the next node's edges start in the edge stream
    private long _edgePosition;  // where the next received edge goes in the edge stream
    private bool _edgesMisaligned;

    // Handles someone asked to find (the tasks kind's markers): handle → the address of the object it holds.
    private HashSet<ulong>? _watchedHandles;
    private readonly List<(ulong Handle, ulong Address)> _watchedFound = [];

    private ulong[] _rootAddresses = new ulong[256];
    private byte[] _rootCategories = new byte[256];
    private int _rootCount;

    private long _nextNodeIndex;
    private long _nextEdgeIndex;
    private long _nextRootIndex;
    private int _maxNodesPerEvent;
    private int _maxEdgesPerEvent;
    private bool _dumpEventsSeen;
    private long _suspendTimestamp;

    public HeapGraphBuilder(int maxObjects)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxObjects, 1);
        _maxObjects = maxObjects;
        _maxEdges = (int)Math.Min(Array.MaxLength, (long)maxObjects * 8);
    }

    /// <summary>Completes when the induced GC that carries the heap dump has ended.</summary>
    public Task DumpEnded => _dumpEnded.Task;

    /// <summary>Gets the trace header.</summary>
    public NettraceHeader Header { get; private set; }

    /// <summary>Gets the number of the induced GC, -1 until it starts.</summary>
    public long GcNumber { get; private set; } = -1;

    /// <summary>Gets the raw timestamps that bracket the induced GC (0 when not seen).</summary>
    public long GcStartTimestamp { get; private set; }

    /// <inheritdoc cref="GcStartTimestamp"/>
    public long GcEndTimestamp { get; private set; }

    /// <summary>Gets the timestamps of the suspension before and the restart after the induced GC (0 when not seen).</summary>
    public long SuspendTimestamp { get; private set; }

    /// <inheritdoc cref="SuspendTimestamp"/>
    public long RestartTimestamp { get; private set; }

    /// <summary>Gets the number of objects the runtime reported (including the ones over the cap).</summary>
    public long ObjectsReported { get; private set; }

    /// <summary>Gets the sum of the sizes of the objects the runtime reported (including the ones over the cap).</summary>
    public long BytesReported { get; private set; }

    /// <summary>Gets the number of objects not kept because of the cap.</summary>
    public long ObjectsOverCap { get; private set; }

    /// <summary>Gets the bulk events the session dropped (gaps in their index sequences).</summary>
    public long NodeEventsLost { get; private set; }

    /// <inheritdoc cref="NodeEventsLost"/>
    public long EdgeEventsLost { get; private set; }

    /// <inheritdoc cref="NodeEventsLost"/>
    public long RootEventsLost { get; private set; }

    /// <summary>Gets the estimated number of objects in dropped node events.</summary>
    public long ObjectsLostEstimate => NodeEventsLost * Math.Max(1, _maxNodesPerEvent);

    /// <summary>Gets the references that could not be attributed (dropped, misaligned after a dropped node event, or over the cap).</summary>
    public long EdgesDiscarded { get; private set; }

    /// <summary>Gets the total number of references the runtime reported for the objects.</summary>
    public long EdgesReported { get; private set; }

    /// <summary>Gets the number of events decoded.</summary>
    public long Events { get; private set; }

    /// <summary>Gets event payloads that were shorter than their counts say (a format this decoder misreads).</summary>
    public long MalformedEvents { get; private set; }

    /// <summary>Gets the payload bytes decoded.</summary>
    public long PayloadBytes { get; private set; }

    /// <summary>Gets the number of GCBulkRootStaticVar entries.</summary>
    public long StaticRoots { get; private set; }

    /// <summary>Gets the number of roots that do not retain (weak handles).</summary>
    public long WeakRootsIgnored { get; private set; }

    /// <summary>Gets the roots whose object is not in the dump (outside the GC heap, or lost); known after <see cref="Build"/>.</summary>
    public long RootsNotInDump { get; private set; }

    /// <summary>Gets whether the dump's GC or any of its bulk events has been read (safe to read from another thread).</summary>
    public bool DumpEventsSeen => Volatile.Read(ref _dumpEventsSeen);

    /// <summary>Gets the number of objects kept.</summary>
    public int NodeCount { get; private set; }

    /// <summary>Gets, after <see cref="Build"/>, the object each watched handle held (handle → node index).</summary>
    public Dictionary<ulong, int> WatchedHandleNodes { get; } = [];

    /// <summary>
    /// Asks the builder to note which object each of these GC handles (<c>GCHandle.ToIntPtr</c>) holds: the dump's
    /// handle roots carry the handle's address as their root id. Call before the stream is read.
    /// </summary>
    /// <param name="handles">The handles.</param>
    public void WatchHandles(IEnumerable<ulong> handles) => _watchedHandles = [.. handles];

    /// <summary>Gets the number of type descriptions (BulkType entries) received.</summary>
    public int TypesDescribed => _typeDescriptions.Count;

    public override void OnTrace(NettraceHeader header) => Header = header;

    public override void OnMetadata(NettraceMetadata metadata)
    {
        if (string.Equals(metadata.ProviderName, HeapDumpEvents.RuntimeProvider, StringComparison.Ordinal))
        {
            _runtimeEvents[metadata.MetadataId] = metadata.EventId;
        }
    }

    public override void OnStack(int stackId, ReadOnlySpan<byte> addresses)
    {
    }

    public override void OnSequencePoint()
    {
    }

    public override void OnEvent(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        if (!_runtimeEvents.TryGetValue(header.MetadataId, out var eventId))
        {
            return;
        }

        Events++;
        PayloadBytes += payload.Length;

        // The walk of the GC this snapshot induced ends with that GC; bulk events stamped after its GCEnd are another
        // GC's walk (another session asked for one), whose objects would count twice (seen: 10,200 of 5,100 objects).
        // By timestamp, not by arrival: a GC thread's buffer may reach the stream after the GCEnd it preceded.
        if (GcEndTimestamp != 0 && header.Timestamp > GcEndTimestamp && eventId is HeapDumpEvents.GCBulkNode or HeapDumpEvents.GCBulkEdge or HeapDumpEvents.GCBulkRootEdge
                or HeapDumpEvents.GCBulkRootConditionalWeakTableElementEdge or HeapDumpEvents.GCBulkRootStaticVar)
        {
            return;
        }

        try
        {
            switch (eventId)
            {
                case HeapDumpEvents.GCBulkNode:
                    OnNodes(payload);
                    break;
                case HeapDumpEvents.GCBulkEdge:
                    OnEdges(payload);
                    break;
                case HeapDumpEvents.GCBulkRootEdge:
                    OnRoots(payload);
                    break;
                case HeapDumpEvents.GCBulkRootConditionalWeakTableElementEdge:
                    OnDependentHandles(payload);
                    break;
                case HeapDumpEvents.GCBulkRootStaticVar:
                    OnStatics(payload);
                    break;
                case HeapDumpEvents.BulkType:
                    OnTypes(payload);
                    break;
                case HeapDumpEvents.GCStart:
                    OnGcStart(header.Timestamp, payload);
                    break;
                case HeapDumpEvents.GCEnd:
                    OnGcEnd(header.Timestamp, payload);
                    break;
                case HeapDumpEvents.GCSuspendEEBegin:
                    if (GcNumber < 0)
                    {
                        _suspendTimestamp = header.Timestamp;
                    }

                    break;
                case HeapDumpEvents.GCRestartEEEnd:
                    if (GcEndTimestamp != 0 && RestartTimestamp == 0)
                    {
                        RestartTimestamp = header.Timestamp;
                    }

                    break;
                default:
                    break;
            }
        }
        catch (ArgumentOutOfRangeException)
        {
            // A payload shorter than its own counts: counted, so the profile says the dump was not decoded whole.
            MalformedEvents++;
        }

    }

    /// <summary>Resolves addresses to object indices and returns the graph; the builder should not be used afterwards.</summary>
    public HeapGraph Build()
    {
        var count = NodeCount;

        // The walk reports objects segment by segment; resolving references needs them in address order.
        var order = new int[count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
        }

        // Sorted in place: from here on an object is found by address, and known by its index in arrival order.
        var sortedAddresses = _addresses;
        Array.Sort(sortedAddresses, order, 0, count);

        var edgeStarts = new int[count + 1];
        var total = 0L;
        for (var i = 0; i < count; i++)
        {
            edgeStarts[i] = (int)total;
            total += Math.Max(0, _edgeCounts[i]);
        }

        edgeStarts[count] = (int)total;
        var targets = new int[total];
        var first = 0L;
        for (var i = 0; i < count; i++)
        {
            var n = _edgeCounts[i];
            var to = edgeStarts[i];
            for (var j = 0; j < n; j++)
            {
                var position = first + j;
                targets[to + j] = position < _edgesStored ? Find(sortedAddresses, count, order, _edges[position]) : -1;
            }

            first += n >= 0 ? n : ~n;
        }

        _edges = [];
        var roots = new List<(int Node, byte Category)>(_rootCount);
        for (var i = 0; i < _rootCount; i++)
        {
            var node = FindContaining(sortedAddresses, count, order, _rootAddresses[i]);
            if (node >= 0)
            {
                roots.Add((node, _rootCategories[i]));
            }
            else
            {
                RootsNotInDump++;
            }
        }

        foreach (var (handle, address) in _watchedFound)
        {
            var node = Find(sortedAddresses, count, order, address);
            if (node >= 0)
            {
                WatchedHandleNodes[handle] = node;
            }
        }

        // The retention walk starts from the roots in category order (statics before handles before stacks), and
        // the sort is stable, so within a category the runtime's order is kept.
        var sortedRoots = roots.OrderBy(r => r.Category).ToArray();
        // Handed over as they are (longer than count): a trimmed copy would hold the largest arrays twice.
        var types = _types;
        var sizes = _sizes;

        // The graph owns what it needs; the rest goes now, so a large heap's graph is not held twice.
        _addresses = [];
        _types = [];
        _sizes = [];
        _edgeCounts = [];
        return new HeapGraph(
            count,
            types,
            sizes,
            edgeStarts,
            targets,
            [.. sortedRoots.Select(r => r.Node)],
            [.. sortedRoots.Select(r => r.Category)],
            TypeNames());
    }

    private static int Find(ulong[] sortedAddresses, int count, int[] order, ulong address)
    {
        if (address == 0)
        {
            return -1;
        }

        var at = Array.BinarySearch(sortedAddresses, 0, count, address);
        return at >= 0 ? order[at] : -1;
    }

    // A stack root may be an interior pointer (a ref into an object or an array element): it roots the object
    // that contains it.
    private int FindContaining(ulong[] sortedAddresses, int count, int[] order, ulong address)
    {
        if (address == 0)
        {
            return -1;
        }

        var at = Array.BinarySearch(sortedAddresses, 0, count, address);
        if (at >= 0)
        {
            return order[at];
        }

        var before = ~at - 1;
        if (before < 0)
        {
            return -1;
        }

        var node = order[before];
        return address - sortedAddresses[before] < (ulong)_sizes[node] ? node : -1;
    }

    private void OnGcStart(long timestamp, ReadOnlySpan<byte> payload)
    {
        var count = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        var depth = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        var type = payload.Length >= 16 ? BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]) : 0;

        // The first blocking gen2 GC after the session starts is the one the GCHeapCollect keyword induced
        // (dotnet-gcdump takes the same rule); a background GC never carries the walk.
        if (GcNumber < 0 && depth == HeapDumpEvents.Gen2 && type != HeapDumpEvents.BackgroundGcType)
        {
            GcNumber = count;
            GcStartTimestamp = timestamp;
            Volatile.Write(ref _dumpEventsSeen, true);
            SuspendTimestamp = _suspendTimestamp;
        }
    }

    private void OnGcEnd(long timestamp, ReadOnlySpan<byte> payload)
    {
        var count = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (GcNumber >= 0 && count == GcNumber && GcEndTimestamp == 0)
        {
            GcEndTimestamp = timestamp;
            _dumpEnded.TrySetResult();
        }
    }

    private static (uint Index, int Count) ReadBulkHeader(ReadOnlySpan<byte> payload, int valueBytes)
    {
        var index = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        var count = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        if (count < 0 || BulkHeaderBytes + ((long)count * valueBytes) > payload.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(payload));
        }

        return (index, count);
    }

    private void OnNodes(ReadOnlySpan<byte> payload)
    {
        var (index, count) = ReadBulkHeader(payload, NodeValueBytes);
        Volatile.Write(ref _dumpEventsSeen, true);
        if (index > _nextNodeIndex)
        {
            NodeEventsLost += index - _nextNodeIndex;
            _edgesMisaligned = true;
        }

        _nextNodeIndex = (long)index + 1;
        _maxNodesPerEvent = Math.Max(_maxNodesPerEvent, count);
        var values = payload[BulkHeaderBytes..];
        for (var i = 0; i < count; i++)
        {
            var value = values.Slice(i * NodeValueBytes, NodeValueBytes);
            var edgeCount = (long)BinaryPrimitives.ReadUInt64LittleEndian(value[24..]);
            ObjectsReported++;
            EdgesReported += edgeCount;
            BytesReported += (long)BinaryPrimitives.ReadUInt64LittleEndian(value[8..]);
            if (NodeCount >= _maxObjects)
            {
                ObjectsOverCap++;
                EdgesDiscarded += edgeCount;
                _edgeCursor += edgeCount;
                continue;
            }

            var n = NodeCount;
            if (n == _addresses.Length)
            {
                Grow(n + (n / 2));
            }

            _addresses[n] = BinaryPrimitives.ReadUInt64LittleEndian(value);
            _sizes[n] = (long)BinaryPrimitives.ReadUInt64LittleEndian(value[8..]);
            _types[n] = TypeIndex(BinaryPrimitives.ReadUInt64LittleEndian(value[16..]));
            if (_edgesMisaligned || _edgeCursor + edgeCount > _maxEdges)
            {
                _edgeCounts[n] = ~(int)edgeCount;
                EdgesDiscarded += edgeCount;
            }
            else
            {
                _edgeCounts[n] = (int)edgeCount;
            }

            _edgeCursor += edgeCount;
            NodeCount = n + 1;
        }
    }

    private void OnEdges(ReadOnlySpan<byte> payload)
    {
        var (index, count) = ReadBulkHeader(payload, EdgeValueBytes);
        if (index > _nextEdgeIndex)
        {
            // Every edge batch but the last is full, so a dropped one held as many edges as the largest seen.
            var lost = index - _nextEdgeIndex;
            EdgeEventsLost += lost;
            var skipped = lost * Math.Max(count, _maxEdgesPerEvent);
            EdgesDiscarded += skipped;
            _edgePosition += skipped;
            for (var p = _edgePosition - skipped; p < Math.Min(_edgePosition, _edgesStored); p++)
            {
                _edges[p] = 0;
            }
        }

        _nextEdgeIndex = (long)index + 1;
        _maxEdgesPerEvent = Math.Max(_maxEdgesPerEvent, count);
        var values = payload[BulkHeaderBytes..];
        for (var i = 0; i < count; i++)
        {
            var position = _edgePosition++;
            if (position >= _maxEdges)
            {
                continue;
            }

            if (position >= _edges.Length)
            {
                Array.Resize(ref _edges, (int)Math.Min(_maxEdges, Math.Max(position + 1, _edges.Length * 2L)));
            }

            // Positions skipped by a dropped batch stay 0, which resolves to "no target".
            _edges[position] = BinaryPrimitives.ReadUInt64LittleEndian(values[(i * EdgeValueBytes)..]);
            _edgesStored = (int)Math.Max(_edgesStored, position + 1);
        }
    }

    private void OnRoots(ReadOnlySpan<byte> payload)
    {
        var (index, count) = ReadBulkHeader(payload, RootValueBytes);
        if (index > _nextRootIndex)
        {
            RootEventsLost += index - _nextRootIndex;
        }

        _nextRootIndex = (long)index + 1;
        var values = payload[BulkHeaderBytes..];
        for (var i = 0; i < count; i++)
        {
            var value = values.Slice(i * RootValueBytes, RootValueBytes);
            var address = BinaryPrimitives.ReadUInt64LittleEndian(value);
            var kind = (GcRootKind)value[8];
            var flags = (GcRootFlags)BinaryPrimitives.ReadUInt32LittleEndian(value[9..]);
            if (kind == GcRootKind.Handle && _watchedHandles is { Count: > 0 } watched && watched.Contains(BinaryPrimitives.ReadUInt64LittleEndian(value[13..])))
            {
                _watchedFound.Add((BinaryPrimitives.ReadUInt64LittleEndian(value[13..]), address));
            }

            var category = HeapRootCategories.Of(kind, flags);
            if (category is null)
            {
                WeakRootsIgnored++;
                continue;
            }

            AddRoot(address, category.Value);
        }
    }

    private void OnDependentHandles(ReadOnlySpan<byte> payload)
    {
        // Key, value, root id (8 bytes each). A dependent handle keeps its value alive while its key is alive;
        // the graph has no key → value edge, so the value is rooted as a dependent handle (after the strong roots,
        // so a value reachable otherwise keeps its real path).
        var (_, count) = ReadBulkHeader(payload, 24);
        var values = payload[BulkHeaderBytes..];
        for (var i = 0; i < count; i++)
        {
            AddRoot(BinaryPrimitives.ReadUInt64LittleEndian(values[((i * 24) + 8)..]), HeapRootCategory.DependentHandle);
        }
    }

    private void OnStatics(ReadOnlySpan<byte> payload)
    {
        // Count (4), AppDomainID (8), ClrInstanceID (2), then per static: GCRootID (8), ObjectID (8), TypeID (8),
        // Flags (4), FieldName (UTF-16, NUL-terminated).
        var count = BinaryPrimitives.ReadInt32LittleEndian(payload);
        var offset = 14;
        for (var i = 0; i < count; i++)
        {
            var objectId = BinaryPrimitives.ReadUInt64LittleEndian(payload[(offset + 8)..]);
            offset += 28;
            _ = NettracePayload.ReadUtf16(payload, ref offset);
            StaticRoots++;
            AddRoot(objectId, HeapRootCategory.Static);
        }
    }

    private void OnTypes(ReadOnlySpan<byte> payload)
    {
        // Count (4), ClrInstanceID (2), then per type: TypeID (8), ModuleID (8), TypeNameID (4), Flags (4),
        // CorElementType (1), Name (UTF-16, NUL-terminated), TypeParameterCount (4), TypeParameters (8 each).
        var count = BinaryPrimitives.ReadInt32LittleEndian(payload);
        var offset = 6;
        for (var i = 0; i < count; i++)
        {
            var typeId = BinaryPrimitives.ReadUInt64LittleEndian(payload[offset..]);
            offset += 25;
            var name = NettracePayload.ReadUtf16(payload, ref offset);
            var parameterCount = BinaryPrimitives.ReadInt32LittleEndian(payload[offset..]);
            offset += 4;
            var arguments = parameterCount > 0 ? new ulong[parameterCount] : [];
            for (var p = 0; p < parameterCount; p++)
            {
                arguments[p] = BinaryPrimitives.ReadUInt64LittleEndian(payload[offset..]);
                offset += 8;
            }

            _typeDescriptions[typeId] = (name, arguments);
        }
    }

    private void AddRoot(ulong address, HeapRootCategory category)
    {
        if (_rootCount == _rootAddresses.Length)
        {
            Array.Resize(ref _rootAddresses, _rootCount * 2);
            Array.Resize(ref _rootCategories, _rootCount * 2);
        }

        _rootAddresses[_rootCount] = address;
        _rootCategories[_rootCount] = (byte)category;
        _rootCount++;
    }

    private int TypeIndex(ulong typeId)
    {
        if (!_typeIndexById.TryGetValue(typeId, out var index))
        {
            index = _typeIds.Count;
            _typeIds.Add(typeId);
            _typeIndexById[typeId] = index;
        }

        return index;
    }

    private void Grow(long capacity)
    {
        var size = (int)Math.Min(capacity, _maxObjects);
        Array.Resize(ref _addresses, size);
        Array.Resize(ref _types, size);
        Array.Resize(ref _sizes, size);
        Array.Resize(ref _edgeCounts, size);
    }

    private string[] TypeNames()
    {
        LoggedTypes.Remember(_typeDescriptions);
        var names = new string[_typeIds.Count];
        var cache = new Dictionary<ulong, string>();
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = TypeName(_typeIds[i], cache, depth: 0);
        }

        return names;
    }

    private string TypeName(ulong typeId, Dictionary<ulong, string> cache, int depth)
    {
        if (cache.TryGetValue(typeId, out var known))
        {
            return known;
        }

        if ((!_typeDescriptions.TryGetValue(typeId, out var description) || description.Name.Length == 0) && !LoggedTypes.TryGet(typeId, out description))
        {
            return $"[type 0x{typeId:x}]";
        }

        var name = HeapTypeNames.Display(description.Name);
        if (description.Arguments.Length > 0 && depth < 8 && !HeapTypeNames.HasArgumentsOrIsArray(name))
        {
            // A generic instantiation's name may be its definition's (List`1); its arguments come as type ids.
            var builder = new StringBuilder(HeapTypeNames.WithoutArity(name)).Append('<');
            for (var i = 0; i < description.Arguments.Length; i++)
            {
                builder.Append(i == 0 ? "" : ", ").Append(TypeName(description.Arguments[i], cache, depth + 1));
            }

            name = builder.Append('>').ToString();
        }

        cache[typeId] = name;
        return name;
    }
}
