using System.Buffers.Binary;
using TraceProf.Capture;
using TraceProf.Kinds;
using TraceProf.Parsing.Streaming;

namespace TraceProf.Tests.Parsing.Streaming;

/// <summary>
/// The streaming reader on damaged input — a real capture cut short, overwritten or given impossible lengths:
/// every read ends, with events or with an <see cref="InvalidDataException"/> (or <see cref="NotSupportedException"/>
/// for a version it does not decode, which sends the parser to TraceLog), and never allocates without bound.
/// </summary>
[Trait("Category", "EventPipe")]
[Collection("EventPipe")]
public sealed class NettraceReaderDamageTests(NettraceReaderDamageTests.Capture capture) : IClassFixture<NettraceReaderDamageTests.Capture>
{
    // Far more than a good read of this small capture needs, far less than a garbled length would ask for.
    private const long AllocationBound = 64L * 1024 * 1024;

    [Fact]
    public void Read_CutShortAnywhere_EndsWithEventsOrInvalidData()
    {
        var bytes = capture.Bytes;
        var cuts = Enumerable.Range(0, 200).Select(i => (int)((long)bytes.Length * i / 200)).Concat([1, 7, 8, 9, 30, bytes.Length - 1]).Distinct();
        var failed = 0;
        foreach (var length in cuts)
        {
            var outcome = Read(bytes.AsSpan(0, length).ToArray());
            Assert.True(outcome.Error is null or InvalidDataException, $"cut at {length}: {outcome.Error}");
            Assert.True(outcome.Allocated < AllocationBound, $"cut at {length} allocated {outcome.Allocated:N0} bytes");
            failed += outcome.Error is null ? 0 : 1;
        }

        // Most cuts land inside an object; those must be refused rather than read as a shorter trace.
        Assert.True(failed > 150, $"{failed} of ~200 cuts were refused");
    }

    [Fact]
    public void Read_RandomBytesOverwritten_EndsWithEventsOrAClearError()
    {
        var random = new Random(12345);
        for (var round = 0; round < 300; round++)
        {
            var bytes = (byte[])capture.Bytes.Clone();
            for (var i = 0; i < 1 + (round % 8); i++)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            var outcome = Read(bytes);
            Assert.True(outcome.Error is null or InvalidDataException or NotSupportedException, $"round {round}: {outcome.Error}");
            Assert.True(outcome.Allocated < AllocationBound, $"round {round} allocated {outcome.Allocated:N0} bytes");
            if (outcome.Error is InvalidDataException error)
            {
                Assert.Contains("capture.nettrace", error.Message, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(NettraceReader.MaxBlockBytes + 1)]
    [InlineData(-5)]
    public void Read_BlockClaimingAnImpossibleSize_IsRefusedBeforeAllocating(int size)
    {
        var bytes = (byte[])capture.Bytes.Clone();
        var offset = FirstBlockSizeOffset(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), size);

        var outcome = Read(bytes);

        var error = Assert.IsType<InvalidDataException>(outcome.Error);
        Assert.Contains("block", error.Message, StringComparison.Ordinal);
        Assert.True(outcome.Allocated < AllocationBound, $"allocated {outcome.Allocated:N0} bytes");
    }

    [Fact]
    public void Read_StackOrEventLengthPointingPastItsBlock_IsInvalidDataNamingTheBlock()
    {
        // Every 4-byte word of the first blocks set to a huge value in turn: lengths inside blocks are among them.
        var offset = FirstBlockSizeOffset(capture.Bytes);
        var damagedBlocks = 0;
        for (var at = offset + 8; at < Math.Min(capture.Bytes.Length - 4, offset + 4096); at += 4)
        {
            var bytes = (byte[])capture.Bytes.Clone();
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), 0x3FFF_FFF0);
            var outcome = Read(bytes);
            Assert.True(outcome.Error is null or InvalidDataException or NotSupportedException, $"word at {at}: {outcome.Error}");
            if (outcome.Error is InvalidDataException { Message: var message } && message.Contains("is damaged", StringComparison.Ordinal))
            {
                damagedBlocks++;
            }
        }

        Assert.True(damagedBlocks > 0, "some lengths inside blocks were reached and refused as damage");
    }

    private static (Exception? Error, long Allocated) Read(byte[] bytes)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            new NettraceReader(stream, "capture.nettrace").Read(new CountingHandler(), CancellationToken.None);
            return (null, GC.GetAllocatedBytesForCurrentThread() - before);
        }
#pragma warning disable CA1031 // The test classifies whatever the reader throws.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return (ex, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    /// <summary>The offset of the first block's size: after the trace object, at the first object that follows it.</summary>
    private static int FirstBlockSizeOffset(byte[] bytes)
    {
        // "Nettrace" + length-prefixed serializer name, then objects; the first block type is named after "Trace".
        var name = "Block"u8;
        var at = bytes.AsSpan().IndexOf(name);
        Assert.True(at > 0, "the capture has a block");

        // After the block's type name: end-of-type tag (1 byte), then the 4-byte size.
        return at + name.Length + 1;
    }

    /// <summary>A handler that only counts, so the test exercises the reader and nothing else.</summary>
    private sealed class CountingHandler : NettraceHandler
    {
        public long Events { get; private set; }

        public override void OnTrace(NettraceHeader header)
        {
        }

        public override void OnMetadata(NettraceMetadata metadata)
        {
        }

        public override void OnStack(int stackId, ReadOnlySpan<byte> addresses)
        {
        }

        public override void OnSequencePoint()
        {
        }

        public override void OnEvent(in NettraceEvent header, ReadOnlySpan<byte> payload) => Events++;
    }

    /// <summary>One real second of CPU capture of this process, read into memory.</summary>
    public sealed class Capture : IDisposable
    {
        private readonly TempFolder _folder = new();

        public Capture()
        {
            using (new HotLoop())
            {
                var result = new EventPipeCaptureSource().CaptureAsync(CaptureKind.Cpu, TimeSpan.FromSeconds(1), _folder.File("capture.nettrace"), CancellationToken.None).GetAwaiter().GetResult();
                Bytes = File.ReadAllBytes(result.NettracePath);
            }
        }

        public byte[] Bytes { get; }

        public void Dispose() => _folder.Dispose();
    }
}
