using System.Buffers.Binary;
using System.Runtime.InteropServices;
using TraceProf.Capture;

namespace TraceProf.Tests.Capture;

/// <summary>
/// The ring records' decoding on records built byte by byte in the kernel's layout (perf_event_open(2)), so the
/// native-leaf caller rule (docs/frames.md) is checked on exact stacks the real sampler cannot pin down; the mappings
/// are given as /proc/self/maps lines. The real sampler runs in <see cref="PerfEventCpuSamplerTests"/>.
/// </summary>
public sealed class PerfRecordDecoderTests
{
    // An ELF library's code (native) and an anonymous executable mapping (jitted code: managed-capable).
    private const ulong LibmStart = 0x7f00_0000_0000;
    private const ulong JitStart = 0x7e00_0000_0000;
    private const ulong Leaf = LibmStart + 0x100;
    private const ulong Caller = JitStart + 0x300;       // the method whose time it is: the walk skips it
    private const ulong CallersCaller = JitStart + 0x500; // what the kernel's frame-pointer walk gives after the leaf
    private const ulong Stale = JitStart + 0x900;         // a return address of an earlier, deeper call, left in the leaf's frame
    private const ulong Sp = 0x7ffd_0000_1000;

    private static readonly string[] Maps =
    [
        $"{LibmStart:x}-{LibmStart + 0x10_0000:x} r-xp 00000000 08:01 1234   /usr/lib/x86_64-linux-gnu/libm.so.6",
        $"{JitStart:x}-{JitStart + 0x10_0000:x} r-xp 00000000 00:00 0 ",
        "7ffd00000000-7ffd00100000 rw-p 00000000 00:00 0   [stack]",
    ];

    [Fact]
    public void Parse_NativeLeafKeepingNoFramePointer_PutsTheManagedWordNearestTheFramePointerFirst()
    {
        // The leaf's frame (just above SP) still holds a stale return address in slot 1; the caller's return address
        // is in slot 7, just below the frame pointer (SP + 64), which the caller set.
        var stack = new ulong[64];
        stack[1] = Stale;
        stack[7] = Caller;
        stack[8] = Sp + 0x100; // the saved frame pointer: a stack address, not code
        stack[9] = CallersCaller;
        var (sink, decoder) = Decoder();

        decoder.Parse(Sample(tid: 42, chain: [Leaf, CallersCaller], fp: Sp + 64, stack));

        var sample = Assert.Single(sink.Samples);
        Assert.Equal(42, sample.ThreadId);
        Assert.Equal([Leaf, PerfEventNative.CallerCandidatesMarker + 2, Caller, Stale, CallersCaller], sample.Frames);
        Assert.Equal(1, decoder.NativeLeaves);
        Assert.Equal(1, decoder.CallerCandidatesFound);
        Assert.Equal(64, decoder.DeepestCandidateBytes);
    }

    [Fact]
    public void Parse_FramePointerOutsideTheStackCopy_ScansUpFromTheStackPointer_AndStopsAtTheChainsCaller()
    {
        // A leaf that uses the frame-pointer register for data: the whole copy is read bottom-up; the chain's own
        // second entry, met on the way, ends the scan (what lies above it was not skipped).
        var stack = new ulong[64];
        stack[2] = Caller;
        stack[5] = CallersCaller;
        stack[6] = Stale;
        var (sink, decoder) = Decoder();

        decoder.Parse(Sample(tid: 7, chain: [Leaf, CallersCaller], fp: 12345, stack));

        Assert.Equal([Leaf, PerfEventNative.CallerCandidatesMarker + 1, Caller, CallersCaller], Assert.Single(sink.Samples).Frames);
    }

    [Fact]
    public void Parse_NativeLeafWhoseCallerIsAlreadyInTheChain_GetsNoCandidates()
    {
        // Top-down from the frame pointer the first managed word is the chain's second entry: nothing was skipped.
        var stack = new ulong[64];
        stack[7] = CallersCaller;
        var (sink, decoder) = Decoder();

        decoder.Parse(Sample(tid: 7, chain: [Leaf, CallersCaller], fp: Sp + 64, stack));

        Assert.Equal([Leaf, CallersCaller], Assert.Single(sink.Samples).Frames);
        Assert.Equal(1, decoder.NativeLeaves);
        Assert.Equal(0, decoder.CallerCandidatesFound);
    }

    [Fact]
    public void Parse_ManagedLeaf_IsLeftAsTheKernelWalkedIt()
    {
        var stack = new ulong[64];
        stack[3] = Stale;
        var (sink, decoder) = Decoder();

        decoder.Parse(Sample(tid: 7, chain: [Caller, CallersCaller], fp: Sp + 64, stack));

        Assert.Equal([Caller, CallersCaller], Assert.Single(sink.Samples).Frames);
        Assert.Equal(0, decoder.NativeLeaves);
    }

    [Fact]
    public void Parse_LostRecordsAndSamples_AreCountedInOrder_AndATornRecordEndsTheDrain()
    {
        var (sink, decoder) = Decoder();
        var sample = Sample(tid: 1, chain: [Caller, CallersCaller], fp: Sp + 64, new ulong[64]);
        var lost = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(lost, PerfEventNative.RecordLost);
        BinaryPrimitives.WriteUInt16LittleEndian(lost.AsSpan(6), 24);
        BinaryPrimitives.WriteUInt64LittleEndian(lost.AsSpan(16), 17); // id at 8, lost at 16
        var torn = sample[..^8].ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(torn.AsSpan(6), (ushort)sample.Length); // claims more than is there

        decoder.Parse([.. sample, .. lost, .. sample, .. torn]);

        Assert.Equal(2, sink.Samples.Count);
        Assert.Equal(2, decoder.Samples);
        Assert.Equal(17, decoder.LostSamples);
    }

    [Fact]
    public void Parse_NoCallchainWalked_GivesTheLeafAlone()
    {
        var (sink, decoder) = Decoder();

        decoder.Parse(Sample(tid: 3, chain: [], fp: Sp + 64, new ulong[64], ip: Caller));

        Assert.Equal([Caller], Assert.Single(sink.Samples).Frames);
    }

    [Fact]
    public void CopyCodeAddresses_LeavesOutContextMarkersAndTheFirstPage()
    {
        // A chain as the kernel writes it: PERF_CONTEXT_USER (-512), the leaf, a caller, a 0 read past a broken frame,
        // an address in the first page, a word above user space (seen in a sample's chain), one more caller.
        ulong[] chain = [unchecked((ulong)-512L), 0x7f00_1234_5678, 0x7f00_1234_9abc, 0, 0xfff, 0xf789_49d6_8949_5052, 0x5555_0000_1000];
        var into = new ulong[chain.Length];

        var n = PerfRecordDecoder.CopyCodeAddresses(MemoryMarshal.AsBytes(chain.AsSpan()), into);

        Assert.Equal([0x7f00_1234_5678UL, 0x7f00_1234_9abc, 0x5555_0000_1000], into[..n]);
    }

    private static (RecordingSink Sink, PerfRecordDecoder Decoder) Decoder()
    {
        var sink = new RecordingSink();
        return (sink, new PerfRecordDecoder(sink, new CodeRegions(() => Maps)));
    }

    /// <summary>
    /// A PERF_RECORD_SAMPLE as the kernel writes it for IP | TID | TIME | CALLCHAIN | REGS_USER | STACK_USER: header, ip,
    /// pid/tid, time, the chain (after PERF_CONTEXT_USER), the register ABI and registers in mask order, the stack copy.
    /// </summary>
    private static byte[] Sample(int tid, ulong[] chain, ulong fp, ulong[] stack, ulong? ip = null)
    {
        var arm64 = System.Numerics.BitOperations.PopCount(PerfEventNative.RegsMask) == 4;
        ulong[] registers = arm64 ? [fp, 0, Sp, chain.FirstOrDefault()] : [fp, Sp, chain.FirstOrDefault()];
        ulong[] ips = chain.Length == 0 ? [] : [unchecked((ulong)-512L), .. chain];
        var words = new List<ulong>
        {
            0, // header, written below
            ip ?? chain[0],
            (ulong)(uint)tid << 32 | 1000u, // pid 1000, tid
            1_000_000_000, // time
            (ulong)ips.Length,
        };
        words.AddRange(ips);
        words.Add(2); // PERF_SAMPLE_REGS_ABI_64
        words.AddRange(registers);
        words.Add((ulong)(stack.Length * 8));
        words.AddRange(stack);
        words.Add((ulong)(stack.Length * 8)); // dyn_size: all of it
        var bytes = MemoryMarshal.AsBytes(words.ToArray().AsSpan()).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, PerfEventNative.RecordSample);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), checked((ushort)bytes.Length));
        return bytes;
    }

    private sealed class RecordingSink : IPerfSampleSink
    {
        public List<(int ThreadId, long Timestamp, ulong[] Frames)> Samples { get; } = [];

        public void OnSample(int threadId, long timestamp, ReadOnlySpan<ulong> frames) =>
            Samples.Add((threadId, timestamp, frames.ToArray()));
    }
}
