using System.Buffers.Binary;
using System.Runtime.InteropServices;
using TraceProf.Kinds.Block;
using TraceProf.Kinds.Threads;
using TraceProf.Parsing.Streaming;

// One piece (over 450 lines): one switch over the live stream's events, a few lines per kind (samples, contention,
// wait handles, allocations, exceptions, thread-pool adjustments) sharing the per-thread open-wait state.

namespace TraceProf.Recording;

/// <summary>
/// Decodes a live session's stream as it arrives: sampler events, lock contention and wait-handle waits go into the
/// <see cref="SampleRing"/>, method and module load events into the shared <see cref="MethodAddressTable"/>.
/// A handler without a ring only reads names (the start-up rundown session).
/// </summary>
internal sealed class RecordingHandler : ProfilingEventHandler
{
    private const int ManagedSampleType = 2;

    // The stacks the writer sent since its last sequence point, by id. The writer's own cache bounds this; the cap
    // guards against a writer that never sends a sequence point.
    private const int MaxStackBytes = 64 * 1024 * 1024;

    /// <summary>Exceptions recorded one by one in each second; past this a storm is sampled.</summary>
    public const int ExceptionsPerSecondInFull = 1000;

    /// <summary>In a storm (past <see cref="ExceptionsPerSecondInFull"/> in a second) one exception in this many is kept, standing for all of them.</summary>
    public const int StormSampleEvery = 100;

    private readonly SampleRing? _ring;
    private readonly MethodAddressTable _methods;
    private readonly Lock _methodsLock;
    private readonly Dictionary<int, (int Offset, int Length)> _stackBytes = [];
    private readonly Dictionary<long, PendingWait> _waiting = [];
    private readonly Dictionary<long, PendingWait> _handleWaiting = [];
    private readonly Dictionary<long, bool> _poolThreads = [];
    private readonly Dictionary<int, int> _interned = [];
    private SampleSegment? _internedIn;
    private byte[] _arena = new byte[64 * 1024];
    private int _arenaUsed;
    private long _latest;
    private long _exceptionSecond = -1;
    private int _exceptionsThisSecond;
    private int _skippedInStorm;
    private long _exceptionsThrown;
    private long _exceptionsSampledOut;

    public RecordingHandler(SampleRing? ring, MethodAddressTable methods, Lock methodsLock, ThreadPoolStarvation? starvation = null)
    {
        Starvation = starvation;
        _ring = ring;
        _methods = methods;
        _methodsLock = methodsLock;
    }

    /// <summary>Gets where thread-pool adjustment events go (null: they are not decoded).</summary>
    public ThreadPoolStarvation? Starvation { get; }

    /// <summary>Gets the newest event timestamp read (Stopwatch clock).</summary>
    public long LatestTimestamp => Volatile.Read(ref _latest);

    /// <summary>Gets the number of events read.</summary>
    public long EventsRead { get; private set; }

    /// <summary>Gets the number of first-chance exceptions the session reported.</summary>
    public long ExceptionsThrown => Interlocked.Read(ref _exceptionsThrown);

    /// <summary>Gets the number of those that a storm's sampling did not keep one by one (each kept one stands for the ones skipped before it).</summary>
    public long ExceptionsSampledOut => Interlocked.Read(ref _exceptionsSampledOut);

    /// <summary>Gets the number of samples whose stack was not available (lost or over the cap).</summary>
    public long MissingStacks { get; private set; }

    public override void OnStack(int stackId, ReadOnlySpan<byte> addresses)
    {
        if (_ring is null || _arenaUsed + addresses.Length > MaxStackBytes)
        {
            return;
        }

        if (_arena.Length < _arenaUsed + addresses.Length)
        {
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _arenaUsed + addresses.Length));
        }

        addresses.CopyTo(_arena.AsSpan(_arenaUsed));
        _stackBytes[stackId] = (_arenaUsed, addresses.Length);
        _arenaUsed += addresses.Length;
    }

    public override void OnSequencePoint()
    {
        // Ids are given anew after a sequence point: forget the stacks and where they were interned.
        _stackBytes.Clear();
        _arenaUsed = 0;
        _interned.Clear();

        // Thread ids are reused by new threads: names are read again after each sequence point (this also bounds it).
        _poolThreads.Clear();
    }

    public override void OnEvent(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        EventsRead++;
        if (header.Timestamp > _latest)
        {
            Volatile.Write(ref _latest, header.Timestamp);
        }

        var kind = KindOf(header.MetadataId);
        switch (kind)
        {
            case ProfilingEvent.ThreadSample when _ring is not null:
                OnSample(in header, payload);
                break;
            case ProfilingEvent.MethodLoad:
                lock (_methodsLock)
                {
                    _methods.AddMethod(payload);
                }

                break;
            case ProfilingEvent.ILToNativeMap or ProfilingEvent.RundownILToNativeMap:
                lock (_methodsLock)
                {
                    _methods.AddILToNativeMap(payload, kind == ProfilingEvent.RundownILToNativeMap);
                }

                break;
            case ProfilingEvent.MethodUnload:
                lock (_methodsLock)
                {
                    _methods.RemoveMethod(payload);
                }

                break;
            case ProfilingEvent.ModuleLoad:
                lock (_methodsLock)
                {
                    _methods.AddModule(payload);
                }

                break;
            case ProfilingEvent.ContentionStart when _ring is not null:
                OnContentionStart(in header);
                break;
            case ProfilingEvent.ContentionStop when _ring is not null:
                OnContentionStop(in header, payload);
                break;
            case ProfilingEvent.WaitHandleWaitStart when _ring is not null:
                OnWaitStart(in header, payload);
                break;
            case ProfilingEvent.WaitHandleWaitStop when _ring is not null:
                OnWaitStop(in header);
                break;
            case ProfilingEvent.AllocationSampled when _ring is not null:
                OnAllocation(in header, payload);
                break;
            case ProfilingEvent.ExceptionThrown when _ring is not null:
                OnException(in header, payload);
                break;
            case ProfilingEvent.ThreadPoolAdjustment when Starvation is not null && payload.Length >= 16:
                // AverageThroughput (double), NewWorkerThreadCount (uint32), Reason (uint32), ClrInstanceID (uint16).
                Starvation.OnAdjustment(header.Timestamp, BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]), BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]));
                break;
            default:
                break;
        }
    }

    private void OnSample(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        var managed = payload.Length >= 4 && BinaryPrimitives.ReadInt32LittleEndian(payload) == ManagedSampleType;
        lock (_ring!.Gate)
        {
            var segment = _ring.Current(header.Timestamp, out _);
            segment.AddSample(header.Timestamp, (int)header.ThreadId, StackIn(segment, header.StackId), managed);
            _ring.Added();
        }
    }

    // The open waits are read by cuts (waits still open when a request is cut, e.g. the pool's blocked workers when it
    // starves), so they change under the ring's lock like the ring itself.
    private void OnContentionStart(in NettraceEvent header)
    {
        lock (_ring!.Gate)
        {
            ref var wait = ref CollectionsMarshal.GetValueRefOrAddDefault(_waiting, header.ThreadId, out _);
            wait ??= new PendingWait();
            Open(wait, in header);
        }
    }

    private void Open(PendingWait wait, in NettraceEvent header)
    {
        wait.StartTime = header.Timestamp;
        wait.Active = true;
        wait.Length = 0;
        if (_stackBytes.TryGetValue(header.StackId, out var slice))
        {
            if (wait.Stack.Length < slice.Length)
            {
                wait.Stack = new byte[slice.Length];
            }

            _arena.AsSpan(slice.Offset, slice.Length).CopyTo(wait.Stack);
            wait.Length = slice.Length;
        }
    }

    private void OnWaitStart(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        lock (_ring!.Gate)
        {
            ref var wait = ref CollectionsMarshal.GetValueRefOrAddDefault(_handleWaiting, header.ThreadId, out _);
            wait ??= new PendingWait();

            // A wait inside a lock contention is the lock's own (the runtime raises one while a contended lock sleeps),
            // so only the contention counts it. A start while a wait is open means its stop was lost: the new one
            // replaces it.
            wait.Suppressed = _waiting.TryGetValue(header.ThreadId, out var contention) && contention.Active;
            wait.Source = BlockWaits.FromRuntime(payload.Length >= 1 ? payload[0] : (byte)0);
            Open(wait, in header);
        }
    }

    private void OnWaitStop(in NettraceEvent header)
    {
        var pool = IsPoolThread(header.ThreadId);
        lock (_ring!.Gate)
        {
            // A stop whose start came before the recorder began has no stack to charge; it is skipped.
            if (!_handleWaiting.TryGetValue(header.ThreadId, out var wait) || !wait.Active)
            {
                return;
            }

            wait.Active = false;
            if (wait.Suppressed)
            {
                return;
            }

            var delayNs = (long)((header.Timestamp - wait.StartTime) * (1e9 / System.Diagnostics.Stopwatch.Frequency));
            var segment = _ring.Current(header.Timestamp, out _);
            var stack = wait.Length > 0 ? segment.Stacks.Intern(wait.Stack.AsSpan(0, wait.Length), PointerSize) : segment.Stacks.Empty;
            segment.AddWait(wait.StartTime, (int)header.ThreadId, stack, Math.Max(0, delayNs), wait.Source, pool);
            _ring.Added();
        }
    }

    /// <summary>
    /// Calls <paramref name="wait"/> for each blocking wait that started in [from, to] and is still open: its stack
    /// (raw, as the writer sent it) and its source. Call under the ring's <see cref="SampleRing.Gate"/>.
    /// </summary>
    public void ForEachOpenWait(long from, long to, OpenWaitVisitor wait)
    {
        foreach (var (threadId, contention) in _waiting)
        {
            if (contention.Active && contention.StartTime >= from && contention.StartTime <= to)
            {
                wait((int)threadId, contention.StartTime, contention.Stack.AsSpan(0, contention.Length), PointerSize, BlockWaitSource.Lock);
            }
        }

        foreach (var (threadId, handle) in _handleWaiting)
        {
            if (handle.Active && !handle.Suppressed && handle.StartTime >= from && handle.StartTime <= to)
            {
                wait((int)threadId, handle.StartTime, handle.Stack.AsSpan(0, handle.Length), PointerSize, handle.Source);
            }
        }
    }

    /// <summary>Whether a thread of this process is a pool worker, by its OS name (read while it lives, then cached).</summary>
    private bool IsPoolThread(long threadId)
    {
        ref var pool = ref CollectionsMarshal.GetValueRefOrAddDefault(_poolThreads, threadId, out var known);
        if (!known)
        {
            pool = BlockWaits.IsThreadPoolWorker(ThreadNames.OfThisProcess((int)threadId)) == true;
        }

        return pool;
    }

    private void OnContentionStop(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        var pool = IsPoolThread(header.ThreadId);
        lock (_ring!.Gate)
        {
            // A stop whose start came before the recorder began has no stack to charge; it is skipped.
            if (!_waiting.TryGetValue(header.ThreadId, out var wait) || !wait.Active)
            {
                return;
            }

            wait.Active = false;

            // ContentionStop_V1: flags (1 byte), CLR instance (2), DurationNs (double).
            var delayNs = payload.Length >= 11
                ? (long)BinaryPrimitives.ReadDoubleLittleEndian(payload[3..])
                : (long)((header.Timestamp - wait.StartTime) * (1e9 / System.Diagnostics.Stopwatch.Frequency));
            var segment = _ring.Current(header.Timestamp, out _);
            var stack = wait.Length > 0 ? segment.Stacks.Intern(wait.Stack.AsSpan(0, wait.Length), PointerSize) : segment.Stacks.Empty;
            segment.AddContention(wait.StartTime, (int)header.ThreadId, stack, Math.Max(0, delayNs), pool);
            _ring.Added();
        }
    }

    private void OnAllocation(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        // AllocationSampled (.NET 10): AllocationKind (4 bytes), CLR instance (2), TypeID (pointer), TypeName
        // (NUL-terminated UTF-16), Address (pointer), ObjectSize (8), SampledByteOffset (8).
        var offset = 6 + PointerSize;
        var chars = MemoryMarshal.Cast<byte, char>(payload[offset..][..((payload.Length - offset) & ~1)]);
        var length = chars.IndexOf('\0');
        if (length < 0 || offset + ((length + 1) * 2) + PointerSize + 8 > payload.Length)
        {
            return;
        }

        var name = chars[..length];
        var size = (long)BinaryPrimitives.ReadUInt64LittleEndian(payload[(offset + ((length + 1) * 2) + PointerSize)..]);
        lock (_ring!.Gate)
        {
            var type = _ring.TypeId(name.Length == 0 ? "(unknown type)" : name);
            if (type < 0)
            {
                return;
            }

            var segment = _ring.Current(header.Timestamp, out _);
            segment.AddAllocation(header.Timestamp, (int)header.ThreadId, StackIn(segment, header.StackId), type, size);
            _ring.Added();
        }
    }

    private void OnException(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        Interlocked.Increment(ref _exceptionsThrown);

        // A storm is sampled at the source, before it costs a stack and a slot in the ring: the first
        // ExceptionsPerSecondInFull of each second one by one, then one in StormSampleEvery, which stands for the ones
        // skipped before it (weight), so a cut's counts stay about right and the profile says it was sampled.
        var second = header.Timestamp / System.Diagnostics.Stopwatch.Frequency;
        if (second != _exceptionSecond)
        {
            _exceptionSecond = second;
            _exceptionsThisSecond = 0;
            _skippedInStorm = 0;
        }

        var weight = 1;
        if (++_exceptionsThisSecond > ExceptionsPerSecondInFull)
        {
            if (++_skippedInStorm < StormSampleEvery)
            {
                Interlocked.Increment(ref _exceptionsSampledOut);
                return;
            }

            weight = _skippedInStorm;
            _skippedInStorm = 0;
        }

        // ExceptionThrown_V1: ExceptionType and ExceptionMessage (NUL-terminated UTF-16), then the rest. Messages are
        // not kept: they carry user data.
        var chars = MemoryMarshal.Cast<byte, char>(payload[..(payload.Length & ~1)]);
        var length = chars.IndexOf('\0');
        if (length < 0)
        {
            return;
        }

        lock (_ring!.Gate)
        {
            var type = _ring.TypeId(length == 0 ? "(unknown exception type)" : chars[..length]);
            if (type < 0)
            {
                return;
            }

            var segment = _ring.Current(header.Timestamp, out _);
            segment.AddException(header.Timestamp, (int)header.ThreadId, StackIn(segment, header.StackId), type, weight);
            _ring.Added();
        }
    }

    private int StackIn(SampleSegment segment, int stackId)
    {
        if (stackId == 0)
        {
            return segment.Stacks.Empty;
        }

        // The writer's stack ids → their index in the segment being written; a new segment starts a new cache.
        if (!ReferenceEquals(segment, _internedIn))
        {
            _interned.Clear();
            _internedIn = segment;
        }

        ref var index = ref CollectionsMarshal.GetValueRefOrAddDefault(_interned, stackId, out var known);
        if (!known)
        {
            if (_stackBytes.TryGetValue(stackId, out var slice))
            {
                index = segment.Stacks.Intern(_arena.AsSpan(slice.Offset, slice.Length), PointerSize);
            }
            else
            {
                MissingStacks++;
                index = segment.Stacks.Empty;
            }
        }

        return index;
    }

    private sealed class PendingWait
    {
        public long StartTime { get; set; }

        public bool Active { get; set; }

        public byte[] Stack { get; set; } = new byte[512];

        public int Length { get; set; }

        /// <summary>Gets or sets whether the open wait-handle wait is a lock contention's own (not counted).</summary>
        public bool Suppressed { get; set; }

        public BlockWaitSource Source { get; set; }
    }
}

/// <summary>Receives one wait still open: its thread, start, raw stack (leaf first) with its pointer size, and source.</summary>
internal delegate void OpenWaitVisitor(int thread, long startTime, ReadOnlySpan<byte> stack, int pointerSize, BlockWaitSource source);
