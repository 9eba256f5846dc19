using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Globalization;
using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Parsing.Streaming;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Block;

/// <summary>
/// Feeds a block capture file to <see cref="BlockProfileBuilder"/> in one forward pass over our own nettrace decoder
/// (TraceEvent 3.2.8 does not know the WaitHandleWait events): each <c>ContentionStart</c> or
/// <c>WaitHandleWaitStart</c> is matched with the next stop on its thread; waits are counted per (raw stack, thread,
/// span, source), so memory follows the variety of waits, not their number; stacks are named once at the end, when
/// the rundown has named everything. Waits still open when the capture ended are charged up to its end.
/// </summary>
internal sealed class StreamingBlockProfileParser : ProfilingEventHandler
{
    private readonly ParseOptions _options;
    private readonly SampleAttributor _labels;
    private readonly MethodAddressTable _methods = new();
    private readonly RawStacks _stacks = new();
    private readonly Dictionary<int, int> _stackIds = [];
    private readonly Dictionary<long, ThreadWaits> _threads = [];
    private readonly Dictionary<WaitKey, (long Count, long DelayNs, long FirstStart)> _waits = [];
    private NettraceHeader _header;
    private long _firstTimestamp = long.MaxValue;
    private long _lastTimestamp;
    private long _stopsWithoutStart;
    private long _nestedInLock;

    private StreamingBlockProfileParser(ParseOptions options, SampleAttributor labels)
    {
        _options = options;
        _labels = labels;
    }

    /// <summary>Parses a block capture.</summary>
    /// <exception cref="InvalidDataException">The file is not a readable nettrace capture.</exception>
    /// <exception cref="NotSupportedException">The nettrace version is not one this parser decodes.</exception>
    public static Profile Parse(string nettracePath, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(nettracePath);
        ArgumentNullException.ThrowIfNull(options);
        var parser = new StreamingBlockProfileParser(options, labels);
        NettraceReader.ReadFile(nettracePath, parser, cancellationToken);

        return parser.Build(cancellationToken);
    }

    public override void OnTrace(NettraceHeader header)
    {
        base.OnTrace(header);
        _header = header;
    }

    public override void OnStack(int stackId, ReadOnlySpan<byte> addresses) =>
        _stackIds[stackId] = _stacks.Intern(addresses, PointerSize);

    public override void OnSequencePoint() => _stackIds.Clear();

    public override void OnEvent(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        _firstTimestamp = Math.Min(_firstTimestamp, header.Timestamp);
        _lastTimestamp = Math.Max(_lastTimestamp, header.Timestamp);
        switch (KindOf(header.MetadataId))
        {
            case ProfilingEvent.MethodLoad:
                _methods.AddMethod(payload);
                break;
            case ProfilingEvent.ILToNativeMap:
                _methods.AddILToNativeMap(payload, rundown: false);
                break;
            case ProfilingEvent.RundownILToNativeMap:
                _methods.AddILToNativeMap(payload, rundown: true);
                break;
            case ProfilingEvent.ModuleLoad:
                _methods.AddModule(payload);
                break;
            case ProfilingEvent.ContentionStart:
                Thread(header.ThreadId).StartLock(header.Timestamp, StackOf(header.StackId));
                break;
            case ProfilingEvent.ContentionStop:
                OnContentionStop(in header, payload);
                break;
            case ProfilingEvent.WaitHandleWaitStart:
                var source = BlockWaits.FromRuntime(payload.Length >= 1 ? payload[0] : (byte)0);
                if (!Thread(header.ThreadId).StartWait(header.Timestamp, StackOf(header.StackId), source))
                {
                    _nestedInLock++;
                }

                break;
            case ProfilingEvent.WaitHandleWaitStop:
                if (!_threads.TryGetValue(header.ThreadId, out var waits) || !waits.StopWait(out var start, out var stack, out var waited, out var counted))
                {
                    _stopsWithoutStart++;
                }
                else if (counted)
                {
                    Add(stack, header.ThreadId, start, Nanoseconds(header.Timestamp - start), waited);
                }

                break;
            default:
                break;
        }
    }

    private void OnContentionStop(in NettraceEvent header, ReadOnlySpan<byte> payload)
    {
        // A stop whose start came before the session began has no stack to charge; it is skipped.
        if (!_threads.TryGetValue(header.ThreadId, out var waits) || !waits.StopLock(out var start, out var stack))
        {
            _stopsWithoutStart++;
            return;
        }

        // ContentionStop_V1: ContentionFlags (uint8), ClrInstanceID (uint16), DurationNs (double).
        var delay = payload.Length >= 11 ? (long)BinaryPrimitives.ReadDoubleLittleEndian(payload[3..]) : Nanoseconds(header.Timestamp - start);
        Add(stack, header.ThreadId, start, delay, BlockWaitSource.Lock);
    }

    private ThreadWaits Thread(long threadId)
    {
        ref var waits = ref CollectionsMarshal.GetValueRefOrAddDefault(_threads, threadId, out _);
        return waits ??= new ThreadWaits();
    }

    private int StackOf(int stackId) => _stackIds.TryGetValue(stackId, out var stack) ? stack : _stacks.Empty;

    private long Nanoseconds(long ticks) =>
        _header.TimestampFrequency > 0 ? (long)(Math.Max(0, ticks) * (1e9 / _header.TimestampFrequency)) : 0;

    private void Add(int stack, long threadId, long start, long delayNs, BlockWaitSource source)
    {
        var thread = (int)threadId;
        var key = new WaitKey(stack, thread, _labels.SpanLabelsAt(thread, start), source);
        ref var sum = ref CollectionsMarshal.GetValueRefOrAddDefault(_waits, key, out var exists);
        sum = exists ? (sum.Count + 1, sum.DelayNs + delayNs, sum.FirstStart) : (1, delayNs, start);
    }

    private Profile Build(CancellationToken cancellationToken)
    {
        // Threads still waiting when the session stopped waited at least until then.
        long open = 0;
        foreach (var (threadId, waits) in _threads)
        {
            foreach (var (start, stack, source) in waits.Open())
            {
                open++;
                Add(stack, threadId, start, Nanoseconds(_lastTimestamp - start), source);
            }
        }

        var duration = _lastTimestamp > _header.SyncTimestamp && _header.TimestampFrequency > 0
            ? TimeSpan.FromSeconds((_lastTimestamp - _header.SyncTimestamp) / (double)_header.TimestampFrequency)
            : TimeSpan.Zero;
        var builder = new BlockProfileBuilder(new ProfileBuilder(BlockProfileBuilder.SampleTypes, BlockProfileBuilder.DefaultSampleIndex) { StartTime = _header.SyncTime, Duration = duration }, _labels);
        _methods.OfThisProcess = OfThisProcess;
        var resolver = new FrameResolver(_methods, builder.Profile);
        var frames = new int[]?[_stacks.Count];
        var names = new Dictionary<int, bool>();
        var roles = new WaiterThread?[_stacks.Count];
        long service = 0;
        var added = 0;
        foreach (var (key, sum) in _waits)
        {
            if ((++added & 0x3FF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            // A pool worker by its name while it lives, else by where its stack starts (it may have exited by now).
            if (!names.TryGetValue(key.Thread, out var namedWorker))
            {
                namedWorker = BlockWaits.IsThreadPoolWorker(_options.ThreadName?.Invoke(key.Thread)) == true;
                names[key.Thread] = namedWorker;
            }

            var role = roles[key.Stack] ??= BlockWaits.ThreadOf(_methods, _stacks.Get(key.Stack));
            if (role == WaiterThread.Service)
            {
                service += sum.Count;
                continue;
            }

            var inPool = namedWorker || role == WaiterThread.PoolWorker;
            builder.AddWaits(frames[key.Stack] ??= resolver.Resolve(_stacks.Get(key.Stack)), key.Thread, sum.FirstStart, sum.Count, sum.DelayNs, key.Source, inPool);
        }

        builder.Profile.AddComment(builder.CountsComment("TraceProf block profile"));
        builder.Profile.AddComment(BlockProfileBuilder.ServiceThreadsComment(service));
        builder.Profile.AddComment(string.Create(CultureInfo.InvariantCulture, $"{open} waits still open at the end (delay counted to the end of the capture); {_stopsWithoutStart} stops whose start came before the capture were skipped; {_nestedInLock} wait-handle waits inside a lock contention counted as the lock."));
        builder.Profile.AddComment("threadpool=true: the waiting thread was a thread-pool worker (by its OS name, or by its stack starting in the pool's worker loop): a pool thread blocked is the sync-over-async smell.");
        if (resolver.UnresolvedAddresses > 0)
        {
            builder.Profile.AddComment(string.Create(CultureInfo.InvariantCulture, $"{resolver.UnresolvedAddresses} distinct code addresses matched no method (native code, or code loaded and unloaded between rundowns)."));
        }

        return builder.Build();
    }

    private readonly record struct WaitKey(int Stack, int Thread, ProfileLabel[]? Span, BlockWaitSource Source);

    /// <summary>
    /// One thread's open waits. A lock contention waits on an event inside the runtime, which raises a wait-handle
    /// wait of its own (measured on .NET 10): that inner wait is the lock's, so it is not counted again.
    /// </summary>
    private sealed class ThreadWaits
    {
        private bool _lockOpen;
        private long _lockStart;
        private int _lockStack;
        private bool _waitOpen;
        private bool _suppressed;
        private long _waitStart;
        private int _waitStack;
        private BlockWaitSource _waitSource;

        public void StartLock(long time, int stack)
        {
            _lockOpen = true;
            _lockStart = time;
            _lockStack = stack;
        }

        public bool StopLock(out long start, out int stack)
        {
            start = _lockStart;
            stack = _lockStack;
            var open = _lockOpen;
            _lockOpen = false;
            return open;
        }

        /// <summary>Opens a wait; false when it is inside a lock contention (not counted).</summary>
        public bool StartWait(long time, int stack, BlockWaitSource source)
        {
            // A start while a wait is open means its stop was lost (a full session buffer drops events): the new
            // wait replaces it, so that one lost event cannot blind the thread for the rest of the capture.
            _waitOpen = true;
            _suppressed = _lockOpen;
            _waitStart = time;
            _waitStack = stack;
            _waitSource = source;
            return !_suppressed;
        }

        /// <summary>Closes a wait; false when none was open. <paramref name="counted"/>: the wait is one of its own.</summary>
        public bool StopWait(out long start, out int stack, out BlockWaitSource source, out bool counted)
        {
            start = _waitStart;
            stack = _waitStack;
            source = _waitSource;
            counted = _waitOpen && !_suppressed;
            var open = _waitOpen;
            _waitOpen = false;
            return open;
        }

        public IEnumerable<(long Start, int Stack, BlockWaitSource Source)> Open()
        {
            if (_lockOpen)
            {
                yield return (_lockStart, _lockStack, BlockWaitSource.Lock);
            }

            if (_waitOpen && !_suppressed)
            {
                yield return (_waitStart, _waitStack, _waitSource);
            }
        }
    }
}
