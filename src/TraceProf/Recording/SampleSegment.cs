using TraceProf.Kinds.Block;
using TraceProf.Parsing.Streaming;

namespace TraceProf.Recording;

/// <summary>
/// A few seconds of recorded samples with their own stack table. The recorder drops whole segments as they age
/// out, so stack memory is rebuilt per segment and cannot accumulate over hours (the failure mode of long-lived
/// TraceEvent stack tables).
/// </summary>
internal sealed class SampleSegment
{
    private const int InitialCapacity = 1024;

    private long[] _times = new long[InitialCapacity];
    private int[] _threads = new int[InitialCapacity];
    private int[] _stacks = new int[InitialCapacity];
    private bool[] _managed = new bool[InitialCapacity];
    private readonly List<Contention> _contentions = [];
    private readonly List<Allocation> _allocations = [];
    private readonly List<HandleWait> _waits = [];
    private readonly List<ThrownException> _exceptions = [];

    public SampleSegment(long firstTimestamp)
    {
        FirstTimestamp = firstTimestamp;
        LastTimestamp = firstTimestamp;
    }

    public RawStacks Stacks { get; } = new();

    public long FirstTimestamp { get; }

    public long LastTimestamp { get; private set; }

    public int SampleCount { get; private set; }

    public int ContentionCount => _contentions.Count;

    public int AllocationCount => _allocations.Count;

    /// <summary>Gets the number of wait-handle waits held (lock contention is <see cref="ContentionCount"/>).</summary>
    public int WaitCount => _waits.Count;

    /// <summary>Gets the number of first-chance exceptions held (each may stand for several: see <see cref="AddException"/>).</summary>
    public int ExceptionCount => _exceptions.Count;

    /// <summary>Gets the number of events of every kind held.</summary>
    public int EventCount => SampleCount + _contentions.Count + _allocations.Count + _waits.Count + _exceptions.Count;

    /// <summary>Gets an estimate of the bytes held.</summary>
    public long Bytes => (_times.Length * 17L) + (_contentions.Capacity * 32L) + (_allocations.Capacity * 32L) + (_waits.Capacity * 32L) + (_exceptions.Capacity * 32L) + Stacks.AddressCount * 8L + (Stacks.Count * 40L);

    public void AddSample(long time, int thread, int stack, bool managed)
    {
        if (SampleCount == _times.Length)
        {
            var size = _times.Length * 2;
            Array.Resize(ref _times, size);
            Array.Resize(ref _threads, size);
            Array.Resize(ref _stacks, size);
            Array.Resize(ref _managed, size);
        }

        _times[SampleCount] = time;
        _threads[SampleCount] = thread;
        _stacks[SampleCount] = stack;
        _managed[SampleCount] = managed;
        SampleCount++;
        LastTimestamp = Math.Max(LastTimestamp, time);
    }

    public void AddContention(long startTime, int thread, int stack, long delayNs, bool threadPool = false)
    {
        _contentions.Add(new Contention(startTime, thread, stack, delayNs, threadPool));
        LastTimestamp = Math.Max(LastTimestamp, startTime);
    }

    /// <summary>Adds a wait-handle wait (<c>WaitHandleWaitStart</c> to its stop).</summary>
    public void AddWait(long startTime, int thread, int stack, long delayNs, BlockWaitSource source, bool threadPool)
    {
        _waits.Add(new HandleWait(startTime, thread, stack, delayNs, (byte)((byte)source | (threadPool ? PoolFlag : 0))));
        LastTimestamp = Math.Max(LastTimestamp, startTime);
    }

    public void AddAllocation(long time, int thread, int stack, int typeName, long size)
    {
        _allocations.Add(new Allocation(time, thread, stack, typeName, size));
        LastTimestamp = Math.Max(LastTimestamp, time);
    }

    /// <summary>
    /// Adds a first-chance exception; <paramref name="weight"/> is how many thrown exceptions it stands for (1, or more
    /// when a storm is sampled).
    /// </summary>
    public void AddException(long time, int thread, int stack, int typeName, int weight)
    {
        _exceptions.Add(new ThrownException(time, thread, stack, typeName, weight));
        LastTimestamp = Math.Max(LastTimestamp, time);
    }

    /// <summary>Calls <paramref name="exception"/> for each recorded exception thrown in [from, to].</summary>
    public void ForEachException<TState>(long from, long to, ref TState state, ExceptionVisitor<TState> exception)
    {
        foreach (var e in _exceptions)
        {
            if (e.Time >= from && e.Time <= to)
            {
                exception(ref state, this, e.Time, e.Thread, e.Stack, e.TypeName, e.Weight);
            }
        }
    }

    /// <summary>Calls <paramref name="allocation"/> for each sampled allocation in [from, to].</summary>
    public void ForEachAllocation<TState>(long from, long to, ref TState state, AllocationVisitor<TState> allocation)
    {
        foreach (var a in _allocations)
        {
            if (a.Time >= from && a.Time <= to)
            {
                allocation(ref state, this, a.Time, a.Thread, a.Stack, a.TypeName, a.Size);
            }
        }
    }

    /// <summary>Calls <paramref name="sample"/> for each sample in [from, to].</summary>
    public void ForEachSample<TState>(long from, long to, ref TState state, SampleVisitor<TState> sample)
    {
        for (var i = 0; i < SampleCount; i++)
        {
            var time = _times[i];
            if (time >= from && time <= to)
            {
                sample(ref state, this, time, _threads[i], _stacks[i], _managed[i]);
            }
        }
    }

    /// <summary>Calls <paramref name="wait"/> for each contention that started in [from, to].</summary>
    public void ForEachContention<TState>(long from, long to, ref TState state, ContentionVisitor<TState> wait)
    {
        foreach (var c in _contentions)
        {
            if (c.StartTime >= from && c.StartTime <= to)
            {
                wait(ref state, this, c.StartTime, c.Thread, c.Stack, c.DelayNs);
            }
        }
    }

    /// <summary>
    /// Calls <paramref name="wait"/> for each blocking wait that started in [from, to]: lock contentions (source
    /// <see cref="BlockWaitSource.Lock"/>) and wait-handle waits, for the block profile.
    /// </summary>
    public void ForEachBlockingWait<TState>(long from, long to, ref TState state, BlockingWaitVisitor<TState> wait)
    {
        foreach (var c in _contentions)
        {
            if (c.StartTime >= from && c.StartTime <= to)
            {
                wait(ref state, this, c.StartTime, c.Thread, c.Stack, c.DelayNs, BlockWaitSource.Lock, c.ThreadPool);
            }
        }

        foreach (var w in _waits)
        {
            if (w.StartTime >= from && w.StartTime <= to)
            {
                wait(ref state, this, w.StartTime, w.Thread, w.Stack, w.DelayNs, (BlockWaitSource)(w.SourceAndPool & ~PoolFlag), (w.SourceAndPool & PoolFlag) != 0);
            }
        }
    }

    // A wait's source and whether its thread is a pool worker, in one byte: the source in the low bits.
    private const byte PoolFlag = 0x80;

    private readonly record struct Contention(long StartTime, int Thread, int Stack, long DelayNs, bool ThreadPool);

    private readonly record struct HandleWait(long StartTime, int Thread, int Stack, long DelayNs, byte SourceAndPool);

    private readonly record struct Allocation(long Time, int Thread, int Stack, int TypeName, long Size);

    private readonly record struct ThrownException(long Time, int Thread, int Stack, int TypeName, int Weight);
}

/// <summary>Receives one recorded CPU sample.</summary>
internal delegate void SampleVisitor<TState>(ref TState state, SampleSegment segment, long time, int thread, int stack, bool managed);

/// <summary>Receives one recorded contention wait.</summary>
internal delegate void ContentionVisitor<TState>(ref TState state, SampleSegment segment, long startTime, int thread, int stack, long delayNs);

/// <summary>Receives one recorded blocking wait (lock contention or wait-handle wait).</summary>
internal delegate void BlockingWaitVisitor<TState>(ref TState state, SampleSegment segment, long startTime, int thread, int stack, long delayNs, BlockWaitSource source, bool threadPool);

/// <summary>Receives one sampled allocation: the type is an index into <see cref="SampleRing.TypeNames"/>.</summary>
internal delegate void AllocationVisitor<TState>(ref TState state, SampleSegment segment, long time, int thread, int stack, int typeName, long size);

/// <summary>Receives one recorded exception: the type is an index into <see cref="SampleRing.TypeNames"/>; the weight is how many thrown exceptions it stands for.</summary>
internal delegate void ExceptionVisitor<TState>(ref TState state, SampleSegment segment, long time, int thread, int stack, int typeName, int weight);
