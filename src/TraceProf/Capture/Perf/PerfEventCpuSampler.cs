using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

// One piece (about 540 lines): attaching per-thread events, following threads, and draining their rings share the
// per-thread state (fd, mapped ring, tail) and its one drain thread; split apart they would hand that state around.
// What the records say (samples, lost counts, a native leaf's caller) is decoded by PerfRecordDecoder.

namespace TraceProf.Capture;

// Hand-written: no .NET library samples its own process through perf_event (see PerfEventNative.cs). Everything
// here is managed code over libc's syscall/mmap/munmap/ioctl/poll/close; nothing native is shipped.

/// <summary>Receives the samples of a <see cref="PerfEventCpuSampler"/>, on its drain thread, one at a time.</summary>
internal interface IPerfSampleSink
{
    /// <summary>One sample: the thread was on a CPU, in user code, when its CPU clock crossed a period.</summary>
    /// <param name="threadId">The OS thread id (the same id EventPipe and <c>gettid</c> give).</param>
    /// <param name="timestamp">When, on the <see cref="Stopwatch"/> clock (CLOCK_MONOTONIC, as EventPipe's).</param>
    /// <param name="frames">
    /// The user-space call chain, leaf first, the kernel's context markers removed. Valid during the call only. When the
    /// leaf is native code, the leaf may be followed by <see cref="PerfEventNative.CallerCandidatesMarker"/> + n and n
    /// return addresses found on its stack (the caller the kernel's frame-pointer walk skips; see docs/frames.md).
    /// </param>
    void OnSample(int threadId, long timestamp, ReadOnlySpan<ulong> frames);
}

/// <summary>Opens one sampling event for a thread: returns the fd, or -1 with <paramref name="errno"/> (tests inject EPERM).</summary>
/// <param name="threadId">The thread (0: the calling thread).</param>
/// <param name="attr">The event's attributes.</param>
/// <param name="errno">The error when it fails.</param>
internal delegate int PerfEventOpener(int threadId, ref PerfEventNative.PerfEventAttr attr, out int errno);

/// <summary>How a <see cref="PerfEventCpuSampler"/> samples and what it may hold.</summary>
internal sealed class PerfSamplerSettings
{
    /// <summary>Default value of <see cref="Period"/>: 10 ms of a thread's CPU time (100 Hz while it runs).</summary>
    public static readonly TimeSpan DefaultPeriod = TimeSpan.FromMilliseconds(10);

    /// <summary>Gets the CPU time of a thread between two of its samples. Default value: 10 ms. Range: 100 µs to 1 s.</summary>
    public TimeSpan Period { get; init; } = DefaultPeriod;

    /// <summary>
    /// Gets the data pages of each thread's ring (a power of two). 8 pages = 32 KiB: at 100 Hz a thread writes about
    /// 40 KiB/s of records, drained every <see cref="DrainInterval"/>. Where the kernel's locked-memory budget
    /// (kernel.perf_event_mlock_kb per CPU, then RLIMIT_MEMLOCK) runs out, later threads get a 1-page ring, then none
    /// (counted). Default value: 8.
    /// </summary>
    public int RingDataPages { get; init; } = 8;

    /// <summary>Gets the most threads sampled at once (one fd and one ring each). Default value: 512.</summary>
    public int MaxThreads { get; init; } = 512;

    /// <summary>
    /// Gets how often rings are drained and <c>/proc/self/task</c> is read for new threads: a new thread is sampled
    /// from at most this long after it starts. Default value: 50 ms.
    /// </summary>
    public TimeSpan DrainInterval { get; init; } = TimeSpan.FromMilliseconds(50);
}

/// <summary>
/// Samples this process's CPU from the kernel: one <c>PERF_TYPE_SOFTWARE</c>/<c>PERF_COUNT_SW_CPU_CLOCK</c> event per
/// thread (user space only, call chain by the kernel's frame-pointer walk, which follows jitted code), each with its own
/// mmap'ed ring. Nothing is suspended: only the thread on the CPU is interrupted when its CPU clock crosses a period.
/// One dedicated thread drains every ring, follows threads as they start (a rescan of <c>/proc/self/task</c> each
/// drain) and end (<c>POLLHUP</c>, or gone from the scan), and closes every fd and mapping when stopped.
/// </summary>
internal sealed partial class PerfEventCpuSampler : IDisposable
{
    private static readonly int PageSize = Environment.SystemPageSize;

    private readonly PerfSamplerSettings _settings;
    private readonly PerfRecordDecoder _decoder;
    private readonly PerfEventOpener _open;
    private readonly ILogger _logger;
    private readonly Dictionary<int, Ring> _rings = [];
    private readonly HashSet<int> _scan = [];
    private readonly Thread _thread;
    private byte[] _scratch = [];
    private PerfEventNative.PollFd[] _pollFds = [];
    private Ring[] _pollRings = [];
    private bool _pollStale = true;
    private int _stop;
    private long _attached;
    private long _failed;
    private long _overCap;
    private long _smallRings;
    private long _drainedUpTo;
    private int _active;
    private long _ringBytes;
    private int _lastError;

    private PerfEventCpuSampler(PerfSamplerSettings settings, IPerfSampleSink sink, PerfEventOpener? opener, ILogger? logger)
    {
        _settings = settings;
        _decoder = new PerfRecordDecoder(sink);
        _open = opener ?? OpenEvent;
        _logger = logger ?? NullLogger.Instance;
        _thread = new Thread(Run) { IsBackground = true, Name = "TraceProf perf drain" };
    }

    /// <summary>Gets the samples delivered so far.</summary>
    public long Samples => _decoder.Samples;

    /// <summary>Gets the samples the kernel dropped because a ring was full (<c>PERF_RECORD_LOST</c>).</summary>
    public long LostSamples => _decoder.LostSamples;

    /// <summary>Gets how many threads got an event, over the sampler's life.</summary>
    public long ThreadsAttached => Interlocked.Read(ref _attached);

    /// <summary>Gets how many thread events could not be opened or mapped (the thread ended first, fds or locked memory ran out).</summary>
    public long ThreadsFailed => Interlocked.Read(ref _failed);

    /// <summary>Gets how many threads were not sampled because <see cref="PerfSamplerSettings.MaxThreads"/> were.</summary>
    public long ThreadsOverCap => Interlocked.Read(ref _overCap);

    /// <summary>Gets how many threads got a 1-page ring because the locked-memory budget ran short.</summary>
    public long SmallRings => Interlocked.Read(ref _smallRings);

    /// <summary>Gets the samples whose leaf was in native code (an ELF file's code).</summary>
    public long NativeLeaves => _decoder.NativeLeaves;

    /// <summary>Gets the samples of a native leaf that carry caller candidates found on the leaf's stack.</summary>
    public long CallerCandidatesFound => _decoder.CallerCandidatesFound;

    /// <summary>Gets the deepest first candidate so far, in bytes above the stack pointer (what the stack copy must hold).</summary>
    public int DeepestCandidateBytes => _decoder.DeepestCandidateBytes;

    /// <summary>Gets the threads sampled now (each one fd and one ring).</summary>
    public int ActiveThreads => Volatile.Read(ref _active);

    /// <summary>Gets the bytes of ring mapped now.</summary>
    public long RingBytes => Interlocked.Read(ref _ringBytes);

    /// <summary>Gets the Stopwatch time before the last full drain: every sample taken before it has been delivered.</summary>
    public long DrainedUpTo => Interlocked.Read(ref _drainedUpTo);

    /// <summary>Gets the sampling period.</summary>
    public TimeSpan Period => _settings.Period;

    /// <summary>Gets whether the drain thread runs.</summary>
    public bool IsRunning => _thread.IsAlive && Volatile.Read(ref _stop) == 0;

    /// <summary>
    /// Attaches to every thread of the process now (so the first samples count from the return of this call) and
    /// starts the drain thread.
    /// </summary>
    /// <param name="settings">Period and bounds.</param>
    /// <param name="sink">Receives the samples on the drain thread.</param>
    /// <param name="opener">Opens an event (tests inject a failure); null for the real system call.</param>
    /// <param name="logger">The logger.</param>
    /// <returns>The running sampler; dispose it to stop and release everything.</returns>
    /// <exception cref="CaptureUnavailableException">Not even the calling thread could be sampled; the message says why.</exception>
    public static PerfEventCpuSampler Start(PerfSamplerSettings settings, IPerfSampleSink sink, PerfEventOpener? opener = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Period, TimeSpan.FromMicroseconds(100));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(settings.Period, TimeSpan.FromSeconds(1));
        if (settings.RingDataPages < 1 || (settings.RingDataPages & (settings.RingDataPages - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.RingDataPages, "RingDataPages must be a power of two.");
        }

        var availability = Probe(opener);
        if (!availability.Available)
        {
            throw new CaptureUnavailableException(availability.Reason);
        }

        var sampler = new PerfEventCpuSampler(settings, sink, opener, logger);
        sampler.Rescan();
        Interlocked.Exchange(ref sampler._drainedUpTo, Stopwatch.GetTimestamp());
        sampler._thread.Start();
        LogStarted(sampler._logger, settings.Period.TotalMilliseconds, sampler.ActiveThreads, sampler.RingBytes);
        return sampler;
    }

    /// <summary>
    /// Whether this process may sample itself through perf_event: opens (and maps) one event on the calling thread and
    /// closes it. The reason says why not and how to enable it.
    /// </summary>
    /// <param name="opener">Opens an event (tests inject a failure); null for the real system call.</param>
    /// <returns>Whether it works, and why (not).</returns>
    public static (bool Available, string Reason) Probe(PerfEventOpener? opener = null)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (false, "perf_event is a Linux interface; this is " + RuntimeInformation.OSDescription + ".");
        }

        if (opener is null && PerfEventNative.SyscallNumber < 0)
        {
            return (false, $"perf_event_open's system call number is not known for {RuntimeInformation.ProcessArchitecture}.");
        }

        var attr = PerfEventNative.CpuClockAttr((ulong)PerfSamplerSettings.DefaultPeriod.TotalNanoseconds, 4096);
        int fd;
        int errno;
        try
        {
            fd = (opener ?? OpenEvent)(0, ref attr, out errno);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return (false, "libc's syscall() could not be called: " + ex.Message);
        }

        if (fd < 0)
        {
            return (false, RefusedReason(errno));
        }

        try
        {
            var length = (nuint)(2 * PageSize);
            var map = PerfEventNative.Mmap(0, length, PerfEventNative.ProtRead | PerfEventNative.ProtWrite, PerfEventNative.MapShared, fd, 0);
            if (map == -1)
            {
                return (false, $"perf_event_open works, but mapping its ring failed ({ErrnoName(Marshal.GetLastPInvokeError())}): the locked-memory budget (kernel.perf_event_mlock_kb, ulimit -l) is used up.");
            }

            _ = PerfEventNative.Munmap(map, length);
            return (true, "perf_event_open works for this process (kernel.perf_event_paranoid " + Paranoid() + ").");
        }
        finally
        {
            _ = PerfEventNative.Close(fd);
        }
    }

    /// <summary>Why perf_event_open failed and how to allow it.</summary>
    internal static string RefusedReason(int errno) => errno switch
    {
        PerfEventNative.Eperm or PerfEventNative.Eacces => string.Create(CultureInfo.InvariantCulture,
            $"perf_event_open was refused ({ErrnoName(errno)}; kernel.perf_event_paranoid is {Paranoid()}). A process may sample its own threads when kernel.perf_event_paranoid ≤ 2 (sysctl -w kernel.perf_event_paranoid=2) or with CAP_PERFMON (docker run --cap-add PERFMON; Kubernetes securityContext.capabilities.add: [\"PERFMON\"]); a container's seccomp profile (Docker's default) blocks it without CAP_PERFMON."),
        PerfEventNative.Enosys or PerfEventNative.Enoent => $"This kernel has no perf_event support ({ErrnoName(errno)}): CONFIG_PERF_EVENTS is off, or a seccomp profile answers ENOSYS.",
        PerfEventNative.Emfile => "perf_event_open failed: the process has no free file descriptors (EMFILE).",
        _ => $"perf_event_open failed ({ErrnoName(errno)}).",
    };

    /// <summary>Stops sampling, delivers what the rings still hold, and closes every fd and mapping.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _stop, 1) == 1)
        {
            return;
        }

        if (_thread.IsAlive)
        {
            _thread.Join();
        }
        else
        {
            CloseAll();
        }

        LogStopped(_logger, Samples, LostSamples, ThreadsAttached, ThreadsFailed);
    }

    private static string Paranoid()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/perf_event_paranoid").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static string ErrnoName(int errno) => errno switch
    {
        PerfEventNative.Eperm => "EPERM",
        PerfEventNative.Eacces => "EACCES",
        PerfEventNative.Esrch => "ESRCH",
        PerfEventNative.Enoent => "ENOENT",
        PerfEventNative.Enosys => "ENOSYS",
        PerfEventNative.Emfile => "EMFILE",
        _ => "errno " + errno.ToString(CultureInfo.InvariantCulture),
    };

    private static int OpenEvent(int threadId, ref PerfEventNative.PerfEventAttr attr, out int errno)
    {
        var fd = PerfEventNative.PerfEventOpen(PerfEventNative.SyscallNumber, ref attr, threadId, -1, -1, (nuint)PerfEventNative.FlagFdCloexec);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return (int)fd;
    }

    private void Run()
    {
        try
        {
            var interval = (int)Math.Max(1, _settings.DrainInterval.TotalMilliseconds);
            while (Volatile.Read(ref _stop) == 0)
            {
                if (_pollStale)
                {
                    RebuildPollSet();
                }

                _ = PerfEventNative.Poll(_pollFds, (nuint)_pollFds.Length, interval);
                var before = Stopwatch.GetTimestamp();
                for (var i = 0; i < _pollFds.Length; i++)
                {
                    // The thread ended: what its ring holds is delivered, then fd and mapping go.
                    if ((_pollFds[i].Revents & (PerfEventNative.PollHup | PerfEventNative.PollErr | PerfEventNative.PollNval)) != 0)
                    {
                        Remove(_pollRings[i]);
                    }
                }

                DrainAll();
                Rescan();
                Interlocked.Exchange(ref _drainedUpTo, before);
            }
        }
#pragma warning disable CA1031 // A thread's exception would end the process; sampling stops and says so.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogDrainFailed(_logger, ex);
        }
        finally
        {
            CloseAll();
        }
    }

    private void CloseAll()
    {
        foreach (var ring in _rings.Values.ToArray())
        {
            Remove(ring);
        }
    }

    private void RebuildPollSet()
    {
        _pollRings = [.. _rings.Values];
        _pollFds = new PerfEventNative.PollFd[_pollRings.Length];
        for (var i = 0; i < _pollRings.Length; i++)
        {
            _pollFds[i] = new PerfEventNative.PollFd { Fd = _pollRings[i].Fd, Events = PerfEventNative.PollIn };
        }

        _pollStale = false;
    }

    private void Rescan()
    {
        _scan.Clear();
        foreach (var path in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(path.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out var tid))
            {
                _scan.Add(tid);
            }
        }

        foreach (var ring in _rings.Values.ToArray())
        {
            if (!_scan.Contains(ring.ThreadId))
            {
                Remove(ring);
            }
        }

        foreach (var tid in _scan)
        {
            if (!_rings.ContainsKey(tid))
            {
                Attach(tid);
            }
        }
    }

    private void Attach(int tid)
    {
        if (_rings.Count >= _settings.MaxThreads)
        {
            Interlocked.Increment(ref _overCap);
            return;
        }

        var dataBytes = _settings.RingDataPages * PageSize;
        var attr = PerfEventNative.CpuClockAttr((ulong)_settings.Period.TotalNanoseconds, (uint)(dataBytes / 2));
        var fd = _open(tid, ref attr, out var errno);
        if (fd < 0)
        {
            // ESRCH: the thread ended between the scan and the open; anything else is counted and remembered.
            if (errno != PerfEventNative.Esrch)
            {
                Interlocked.Increment(ref _failed);
                if (Interlocked.Exchange(ref _lastError, errno) != errno)
                {
                    LogThreadFailed(_logger, tid, RefusedReason(errno));
                }
            }

            // A thread that cannot be opened is not retried on every scan: it is remembered with no ring.
            _rings[tid] = new Ring(tid, -1, 0, 0, 0);
            return;
        }

        var pages = _settings.RingDataPages;
        var map = MapRing(fd, pages);
        if (map == -1 && pages > 1)
        {
            pages = 1;
            map = MapRing(fd, pages);
            if (map != -1)
            {
                Interlocked.Increment(ref _smallRings);
            }
        }

        if (map == -1)
        {
            _ = PerfEventNative.Close(fd);
            Interlocked.Increment(ref _failed);
            _rings[tid] = new Ring(tid, -1, 0, 0, 0);
            return;
        }

        var length = (nuint)((pages + 1) * PageSize);
        _rings[tid] = new Ring(tid, fd, map, length, pages * PageSize);
        _pollStale = true;
        Interlocked.Increment(ref _attached);
        Interlocked.Increment(ref _active);
        Interlocked.Add(ref _ringBytes, (long)length);
    }

    private static nint MapRing(int fd, int dataPages) =>
        PerfEventNative.Mmap(0, (nuint)((dataPages + 1) * PageSize), PerfEventNative.ProtRead | PerfEventNative.ProtWrite, PerfEventNative.MapShared, fd, 0);

    private void Remove(Ring ring)
    {
        if (!_rings.Remove(ring.ThreadId) || ring.Fd < 0)
        {
            return;
        }

        Drain(ring);
        _ = PerfEventNative.Munmap(ring.Map, ring.MapLength);
        _ = PerfEventNative.Close(ring.Fd);
        _pollStale = true;
        Interlocked.Decrement(ref _active);
        Interlocked.Add(ref _ringBytes, -(long)ring.MapLength);
    }

    private void DrainAll()
    {
        foreach (var ring in _rings.Values)
        {
            if (ring.Fd >= 0)
            {
                Drain(ring);
            }
        }
    }

    private void Drain(Ring ring)
    {
        // data_head is written by the kernel; reading it, then a full barrier, orders our reads of the records after it
        // (the kernel's smp_rmb() rule for user-space readers). The tail is ours: written after the records are read.
        var head = (ulong)Marshal.ReadInt64(ring.Map, PerfEventNative.DataHeadOffset);
        Interlocked.MemoryBarrier();
        var tail = ring.Tail;
        if (head == tail)
        {
            return;
        }

        var available = head - tail;
        if (available > (ulong)ring.DataSize)
        {
            // Cannot happen with a writable mapping (the kernel never overwrites unread data); resynchronise.
            tail = head - (ulong)ring.DataSize;
            available = (ulong)ring.DataSize;
        }

        var count = (int)available;
        if (_scratch.Length < count)
        {
            _scratch = new byte[ring.DataSize];
        }

        // Copy [tail, head) out of the ring; a wrapped range comes in two pieces.
        var data = ring.Map + PageSize;
        var start = (int)(tail % (ulong)ring.DataSize);
        var first = Math.Min(count, ring.DataSize - start);
        Marshal.Copy(data + start, _scratch, 0, first);
        if (first < count)
        {
            Marshal.Copy(data, _scratch, first, count - first);
        }

        Interlocked.MemoryBarrier();
        Marshal.WriteInt64(ring.Map, PerfEventNative.DataTailOffset, (long)head);
        ring.Tail = head;
        _decoder.Parse(_scratch.AsSpan(0, count));
    }

    [LoggerMessage(EventId = 12, EventName = "PerfSamplerStarted", Level = LogLevel.Debug,
        Message = "perf_event CPU sampler started: period {PeriodMs} ms of CPU, {Threads} threads, {RingBytes} bytes of rings")]
    private static partial void LogStarted(ILogger logger, double periodMs, int threads, long ringBytes);

    [LoggerMessage(EventId = 13, EventName = "PerfSamplerStopped", Level = LogLevel.Debug,
        Message = "perf_event CPU sampler stopped: {Samples} samples, {Lost} lost, {Attached} threads attached, {Failed} could not be")]
    private static partial void LogStopped(ILogger logger, long samples, long lost, long attached, long failed);

    [LoggerMessage(EventId = 14, EventName = "PerfThreadFailed", Level = LogLevel.Warning,
        Message = "perf_event CPU sampler: thread {ThreadId} cannot be sampled: {Reason}")]
    private static partial void LogThreadFailed(ILogger logger, int threadId, string reason);

    [LoggerMessage(EventId = 15, EventName = "PerfDrainFailed", Level = LogLevel.Error,
        Message = "perf_event CPU sampler stopped draining; CPU samples end here")]
    private static partial void LogDrainFailed(ILogger logger, Exception exception);

    /// <summary>One thread's event: its fd and ring (fd -1: a thread that could not be sampled, remembered so it is not retried).</summary>
    private sealed class Ring(int threadId, int fd, nint map, nuint mapLength, int dataSize)
    {
        public int ThreadId { get; } = threadId;

        public int Fd { get; } = fd;

        public nint Map { get; } = map;

        public nuint MapLength { get; } = mapLength;

        public int DataSize { get; } = dataSize;

        public ulong Tail { get; set; }
    }
}
