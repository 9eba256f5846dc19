using System.Buffers.Binary;
using System.Diagnostics;

namespace TraceProf.Capture;

// Hand-written: the kernel's perf_event ring record layout (perf_event_open(2), "MMAP layout"), which no .NET library
// decodes. Split from PerfEventCpuSampler, which attaches, follows threads and drains; this only reads the bytes.

/// <summary>
/// Decodes a perf_event ring's records into samples for an <see cref="IPerfSampleSink"/>: the call chain without the
/// kernel's context markers, and, when the leaf is native code that keeps no frame pointer, the managed caller the
/// kernel's walk skipped, found on the leaf's stack copy (docs/frames.md, "perf sampler: the caller of a native leaf").
/// Used by one thread at a time (the sampler's drain thread); its counters may be read from any thread.
/// </summary>
internal sealed class PerfRecordDecoder
{
    private readonly IPerfSampleSink _sink;
    private readonly CodeRegions _code;
    private readonly ulong[] _candidates = new ulong[PerfEventNative.MaxCallerCandidates];
    private ulong[] _frames = new ulong[256];
    private long _samples;
    private long _lost;
    private long _nativeLeaves;
    private long _callersFound;
    private int _deepestCandidate;

    /// <summary>Initializes a decoder.</summary>
    /// <param name="sink">Receives the samples, during <see cref="Parse"/>.</param>
    /// <param name="code">The process's executable mappings (tests give their own).</param>
    public PerfRecordDecoder(IPerfSampleSink sink, CodeRegions? code = null)
    {
        _sink = sink;
        _code = code ?? new CodeRegions();
    }

    /// <summary>Gets the samples delivered so far.</summary>
    public long Samples => Interlocked.Read(ref _samples);

    /// <summary>Gets the samples the kernel dropped because a ring was full (<c>PERF_RECORD_LOST</c>).</summary>
    public long LostSamples => Interlocked.Read(ref _lost);

    /// <summary>Gets the samples whose leaf was in native code (an ELF file's code).</summary>
    public long NativeLeaves => Interlocked.Read(ref _nativeLeaves);

    /// <summary>Gets the samples of a native leaf that carry caller candidates found on the leaf's stack.</summary>
    public long CallerCandidatesFound => Interlocked.Read(ref _callersFound);

    /// <summary>Gets the deepest first candidate so far, in bytes above the stack pointer (what the stack copy must hold).</summary>
    public int DeepestCandidateBytes => Volatile.Read(ref _deepestCandidate);

    /// <summary>Decodes the records of one drain (whole records, oldest first) and hands each sample to the sink.</summary>
    /// <param name="records">Bytes copied out of a ring, from its tail to its head.</param>
    public void Parse(ReadOnlySpan<byte> records)
    {
        var offset = 0;
        while (offset + 8 <= records.Length)
        {
            var type = BinaryPrimitives.ReadUInt32LittleEndian(records[offset..]);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(records[(offset + 6)..]);
            if (size < 8 || offset + size > records.Length)
            {
                return; // a torn record: never seen with a writable ring; skip the rest of this drain
            }

            var record = records.Slice(offset, size);
            switch (type)
            {
                case PerfEventNative.RecordSample:
                    OnSample(record);
                    break;
                case PerfEventNative.RecordLost when record.Length >= 24:
                    Interlocked.Add(ref _lost, (long)BinaryPrimitives.ReadUInt64LittleEndian(record[16..]));
                    break;
                default:
                    break; // throttle/unthrottle and others carry nothing a profile needs
            }

            offset += size;
        }
    }

    /// <summary>
    /// Copies the code addresses of a callchain (<c>ips</c>, 8 bytes each) into <paramref name="into"/>: the kernel's
    /// context markers are left out, and so is anything in the first page or above user space — a 0 or a word such as
    /// <c>0xf78949d689495052</c> is what a frame-pointer walk reads past a broken frame, not code.
    /// </summary>
    /// <returns>How many were copied.</returns>
    internal static int CopyCodeAddresses(ReadOnlySpan<byte> ips, Span<ulong> into)
    {
        var n = 0;
        for (var i = 0; i + 8 <= ips.Length; i += 8)
        {
            var address = BinaryPrimitives.ReadUInt64LittleEndian(ips[i..]);
            if (address is >= PerfEventNative.FirstCodeAddress and < PerfEventNative.UserAddressLimit)
            {
                into[n++] = address;
            }
        }

        return n;
    }

    private void OnSample(ReadOnlySpan<byte> record)
    {
        // IP | TID | TIME | CALLCHAIN | REGS_USER | STACK_USER, in the kernel's order (perf_output_sample):
        // header(8) ip(8) pid(4) tid(4) time(8) nr(8) ips(8 × nr), then abi(8) regs(8 × bits of the mask) when abi is
        // not NONE, then size(8) and, when size is not 0, data(size) dyn_size(8): dyn_size of the data are the stack.
        if (record.Length < 40)
        {
            return;
        }

        var ip = BinaryPrimitives.ReadUInt64LittleEndian(record[8..]);
        var tid = BinaryPrimitives.ReadInt32LittleEndian(record[20..]);
        var time = BinaryPrimitives.ReadInt64LittleEndian(record[24..]);
        var declared = BinaryPrimitives.ReadUInt64LittleEndian(record[32..]);
        var nr = (int)Math.Min(declared, (ulong)((record.Length - 40) / 8));
        if (_frames.Length < nr + 2 + PerfEventNative.MaxCallerCandidates)
        {
            _frames = new ulong[nr + 2 + PerfEventNative.MaxCallerCandidates];
        }

        // The candidates go right after the leaf: the chain is written from index 2 + MaxCallerCandidates and moved.
        var first = 2 + PerfEventNative.MaxCallerCandidates;
        var n = CopyCodeAddresses(record.Slice(40, nr * 8), _frames.AsSpan(first));

        if (n == 0)
        {
            _frames[first + n++] = ip; // the kernel could not walk the stack: the leaf alone
        }

        var chain = _frames.AsSpan(first, n);
        var found = nr == (int)declared ? FindCallerCandidates(record[(40 + (nr * 8))..], chain) : 0;
        Span<ulong> frames;
        if (found == 0)
        {
            frames = chain;
        }
        else
        {
            // leaf, marker + found, the candidates, then the rest of the chain, which stays where it is: the leaf is
            // copied first, then the candidates end where it was.
            var start = first - found - 1;
            _frames[start] = chain[0];
            _frames[start + 1] = PerfEventNative.CallerCandidatesMarker + (ulong)found;
            _candidates.AsSpan(0, found).CopyTo(_frames.AsSpan(start + 2));
            frames = _frames.AsSpan(start, n + found + 1);
        }

        Interlocked.Increment(ref _samples);
        _sink.OnSample(tid, ToStopwatch(time), frames);
    }

    /// <summary>
    /// The kernel walks a user stack by frame pointers, so a native leaf that keeps none (libm's sin, the runtime's
    /// write barriers) leaves the frame pointer its managed caller set: the walk goes from the leaf straight to the
    /// caller's caller. The skipped return address is on the stack between the stack pointer and that frame pointer.
    /// This takes, when the leaf is native, the first words of that range that point into managed-capable code and
    /// differ from the chain's second entry (stopping at one equal to it: the chain is complete), into <see cref="_candidates"/>.
    /// On arm64 the link register comes first (a frameless leaf's return address stays in it).
    /// </summary>
    /// <param name="tail">The record after the call chain: registers and the stack copy.</param>
    /// <param name="chain">The call chain, leaf first.</param>
    /// <returns>How many candidates were found.</returns>
    private int FindCallerCandidates(ReadOnlySpan<byte> tail, ReadOnlySpan<ulong> chain)
    {
        var mask = PerfEventNative.RegsMask;
        if (mask == 0 || tail.Length < 8 || BinaryPrimitives.ReadUInt64LittleEndian(tail) == PerfEventNative.RegsAbiNone)
        {
            return 0;
        }

        var registers = System.Numerics.BitOperations.PopCount(mask);
        if (tail.Length < 8 + (registers * 8) + 8)
        {
            return 0;
        }

        // In mask order: x86-64 BP, SP, IP; arm64 FP, LR, SP, PC.
        var arm64 = registers == 4;
        var fp = BinaryPrimitives.ReadUInt64LittleEndian(tail[8..]);
        var lr = arm64 ? BinaryPrimitives.ReadUInt64LittleEndian(tail[16..]) : 0;
        var sp = BinaryPrimitives.ReadUInt64LittleEndian(tail[(arm64 ? 24 : 16)..]);
        var stackPart = tail[(8 + (registers * 8))..];
        var size = BinaryPrimitives.ReadUInt64LittleEndian(stackPart);
        ReadOnlySpan<byte> stack = [];
        if (size > 0 && (ulong)stackPart.Length >= 16 + size)
        {
            var dynamic = BinaryPrimitives.ReadUInt64LittleEndian(stackPart[(8 + (int)size)..]);
            stack = stackPart.Slice(8, (int)Math.Min(size, dynamic));
        }

        var leafKind = _code.Classify(chain[0]);
        if (leafKind == CodeKind.None || (chain.Length > 1 && _code.Classify(chain[1]) == CodeKind.None))
        {
            // Code mapped since the last read (new jitted code, a library loaded): read again (rate-limited).
            _ = _code.Refresh();
            leafKind = _code.Classify(chain[0]);
        }

        if (leafKind != CodeKind.Native)
        {
            return 0;
        }

        Interlocked.Increment(ref _nativeLeaves);
        var caller = chain.Length > 1 ? chain[1] : 0;
        var found = 0;
        if (arm64 && lr != 0 && _code.Classify(lr) == CodeKind.Managed)
        {
            if (lr == caller)
            {
                return 0;
            }

            _candidates[found++] = lr;
        }

        // Up to the frame pointer when it is above the stack pointer within the copy (the caller's frame begins there),
        // else the whole copy (a leaf that uses the frame pointer register for data).
        var bounded = fp > sp && fp - sp < (ulong)stack.Length;
        var words = bounded ? (int)((fp - sp) / 8) : stack.Length / 8;
        var fromLr = found;
        if (bounded)
        {
            // Bounded, the return address is the managed word nearest the frame pointer: above it lies only the
            // caller's frame, which jitted code zeroes (C#'s localsinit) or fills; below it the leaf's own frame, whose
            // unwritten slots can still hold return addresses of earlier, deeper calls. So from the top down; a word
            // equal to the chain's caller means what is above it was not skipped.
            for (var i = words - 1; i >= 0 && found < PerfEventNative.MaxCallerCandidates; i--)
            {
                var word = BinaryPrimitives.ReadUInt64LittleEndian(stack[(i * 8)..]);
                if (word == caller)
                {
                    found = fromLr;
                }
                else if (_code.Classify(word) == CodeKind.Managed)
                {
                    NoteCandidateDepth(found == 0, (i + 1) * 8);
                    _candidates[found++] = word;
                }
            }
        }
        else
        {
            for (var i = 0; i < words && found < PerfEventNative.MaxCallerCandidates; i++)
            {
                var word = BinaryPrimitives.ReadUInt64LittleEndian(stack[(i * 8)..]);
                if (word == caller)
                {
                    break; // the chain already has this return address: nothing was skipped
                }

                if (_code.Classify(word) == CodeKind.Managed)
                {
                    NoteCandidateDepth(found == 0, (i + 1) * 8);
                    _candidates[found++] = word;
                }
            }
        }

        if (found > 0)
        {
            Interlocked.Increment(ref _callersFound);
        }

        return found;
    }

    private void NoteCandidateDepth(bool first, int bytes)
    {
        if (first && bytes > _deepestCandidate)
        {
            Volatile.Write(ref _deepestCandidate, bytes);
        }
    }

    /// <summary>CLOCK_MONOTONIC nanoseconds on the Stopwatch clock (the same clock on Linux, where its frequency is 1 GHz).</summary>
    internal static long ToStopwatch(long monotonicNs) =>
        Stopwatch.Frequency == 1_000_000_000 ? monotonicNs : (long)(monotonicNs * (Stopwatch.Frequency / 1e9));
}
