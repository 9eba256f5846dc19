using System.Buffers.Binary;
using TraceProf.Kinds.Heap;
using TraceProf.Parsing.Streaming;

namespace TraceProf.Tests.Kinds.Heap;

/// <summary>The heap dump decoder on event payloads laid out as the runtime's manifest defines them.</summary>
public sealed class HeapGraphBuilderTests
{
    [Fact]
    public void DroppedNodeEvent_IsCounted_AndLaterObjectsGetNoMisattributedReferences()
    {
        var builder = new HeapGraphBuilder(maxObjects: 100);
        foreach (var id in new[] { HeapDumpEvents.GCStart, HeapDumpEvents.GCEnd, HeapDumpEvents.GCBulkNode, HeapDumpEvents.GCBulkEdge, HeapDumpEvents.GCBulkRootEdge, HeapDumpEvents.BulkType })
        {
            builder.OnMetadata(new NettraceMetadata(id, HeapDumpEvents.RuntimeProvider, id, 0));
        }

        Send(builder, HeapDumpEvents.GCStart, Bytes(w => w.U32(7).U32(2).U32(1).U32(0).U16(0).U64(0)));
        Send(builder, HeapDumpEvents.BulkType, Bytes(w => w.U32(1).U16(0).U64(1).U64(0).U32(0).U32(0).U8(0).Utf16("Shop.Order").U32(0)));
        Send(builder, HeapDumpEvents.GCBulkRootEdge, Bulk(0, [(0x1000UL, (byte)GcRootKind.Handle, 0u)]));
        Send(builder, HeapDumpEvents.GCBulkNode, Nodes(0, [(0x1000UL, 24UL, 1UL, 1UL), (0x2000UL, 24UL, 1UL, 1UL)]));
        Send(builder, HeapDumpEvents.GCBulkEdge, Edges(0, [0x2000UL, 0x3000UL]));
        Send(builder, HeapDumpEvents.GCBulkNode, Nodes(2, [(0x3000UL, 24UL, 1UL, 1UL)])); // node event 1 dropped
        Send(builder, HeapDumpEvents.GCBulkEdge, Edges(1, [0x1000UL]));
        Send(builder, HeapDumpEvents.GCEnd, Bytes(w => w.U32(7).U32(2).U16(0)));

        Assert.True(builder.DumpEnded.IsCompleted);
        Assert.Equal(7, builder.GcNumber);
        Assert.Equal(1, builder.NodeEventsLost);
        Assert.Equal(2, builder.ObjectsLostEstimate);
        Assert.Equal(1, builder.EdgesDiscarded);
        Assert.Equal(0, builder.MalformedEvents);

        var graph = builder.Build();
        Assert.Equal(3, graph.NodeCount);
        Assert.Equal(2, graph.EdgeCount);
        Assert.Equal(["Shop.Order"], graph.TypeNames);
        Assert.Equal([HeapRootCategory.StrongHandle], graph.RootCategories.Select(c => (HeapRootCategory)c));
    }

    [Fact]
    public void ShortPayload_IsCountedAsMalformed_NotThrown()
    {
        var builder = new HeapGraphBuilder(maxObjects: 100);
        builder.OnMetadata(new NettraceMetadata(1, HeapDumpEvents.RuntimeProvider, HeapDumpEvents.GCBulkNode, 0));

        // Says 5 nodes, carries one.
        var payload = Nodes(0, [(0x1000UL, 24UL, 1UL, 0UL)]);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4), 5);
        Send(builder, HeapDumpEvents.GCBulkNode, payload, metadataId: 1);

        Assert.Equal(1, builder.MalformedEvents);
        Assert.Equal(0, builder.NodeCount);
    }

    private static void Send(HeapGraphBuilder builder, int eventId, byte[] payload, int? metadataId = null)
    {
        var header = new NettraceEvent { MetadataId = metadataId ?? eventId, PayloadSize = payload.Length, Timestamp = 1 };
        builder.OnEvent(in header, payload);
    }

    private static byte[] Nodes(uint index, (ulong Address, ulong Size, ulong Type, ulong Edges)[] nodes) =>
        Bytes(w =>
        {
            w.U32(index).U32((uint)nodes.Length).U16(0);
            foreach (var n in nodes)
            {
                w.U64(n.Address).U64(n.Size).U64(n.Type).U64(n.Edges);
            }
        });

    private static byte[] Edges(uint index, ulong[] targets) =>
        Bytes(w =>
        {
            w.U32(index).U32((uint)targets.Length).U16(0);
            foreach (var t in targets)
            {
                w.U64(t).U32(0);
            }
        });

    private static byte[] Bulk(uint index, (ulong Address, byte Kind, uint Flags)[] roots) =>
        Bytes(w =>
        {
            w.U32(index).U32((uint)roots.Length).U16(0);
            foreach (var r in roots)
            {
                w.U64(r.Address).U8(r.Kind).U32(r.Flags).U64(0);
            }
        });

    private static byte[] Bytes(Action<Writer> write)
    {
        using var writer = new Writer();
        write(writer);
        return writer.ToArray();
    }

    private sealed class Writer : IDisposable
    {
        private readonly MemoryStream _stream = new();

        public Writer U8(byte v)
        {
            _stream.WriteByte(v);
            return this;
        }

        public Writer U16(ushort v) => Put(BitConverter.GetBytes(v));

        public Writer U32(uint v) => Put(BitConverter.GetBytes(v));

        public Writer U64(ulong v) => Put(BitConverter.GetBytes(v));

        public Writer Utf16(string s) => Put(System.Text.Encoding.Unicode.GetBytes(s + "\0"));

        public byte[] ToArray() => _stream.ToArray();

        public void Dispose() => _stream.Dispose();

        private Writer Put(byte[] bytes)
        {
            _stream.Write(bytes);
            return this;
        }
    }
}
