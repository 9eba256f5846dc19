using System.Collections.Concurrent;
using System.Diagnostics;
using TraceProf.Attribution;
using TraceProf.Capture;
using TraceProf.Encoding;
using TraceProf.Kinds;
using TraceProf.Parsing;
using TraceProf.Pipeline;
using TraceProf.Profiles;
using TraceProf.Storage;
using TraceProf.Tests.Parsing;
using Xunit.Abstractions;

namespace TraceProf.Tests.Capture;

/// <summary>
/// The perf_event sampler for real where this process may open perf events (kernel.perf_event_paranoid ≤ 2 or
/// CAP_PERFMON); elsewhere each test skips and says why. The EPERM fallback runs everywhere, through a fake opener.
/// </summary>
[Collection("EventPipe")]
public sealed class PerfEventCpuSamplerTests(ITestOutputHelper output) : IDisposable
{
    private static readonly (bool Available, string Reason) Perf = PerfEventCpuSampler.Probe();
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [SkippableFact]
    public void Sampler_HotThread_IsSampledWithTheStopwatchClockAndItsOwnThreadId()
    {
        Skip.IfNot(Perf.Available, "perf_event is not available here: " + Perf.Reason);
        var sink = new CollectingSink();
        var before = Stopwatch.GetTimestamp();
        int hotTid;
        using (var sampler = PerfEventCpuSampler.Start(new PerfSamplerSettings { Period = TimeSpan.FromMilliseconds(1) }, sink))
        {
            using var hot = new TidHotLoop();
            hotTid = hot.ThreadId;
            Thread.Sleep(1000);
            Assert.True(sampler.ActiveThreads > 1);
        }

        var after = Stopwatch.GetTimestamp();
        var hotSamples = sink.Samples.Where(s => s.Thread == hotTid).ToList();
        Assert.True(hotSamples.Count >= 20, $"expected samples of the hot thread {hotTid}; got {hotSamples.Count} of {sink.Samples.Count}");

        // CLOCK_MONOTONIC (use_clockid) is the Stopwatch's clock: every sample falls inside the run, none a clock apart.
        Assert.All(sink.Samples, s => Assert.InRange(s.Time, before, after));
        Assert.All(sink.Samples, s => Assert.All(s.Frames, f => Assert.True(f < unchecked((ulong)-4095L) || IsCandidateMarker(f), "the kernel's context markers are skipped")));
        Assert.All(hotSamples, s => Assert.NotEmpty(s.Frames));
    }

    [SkippableFact]
    public void Sampler_ThreadsStartingAndEndingDuringTheRun_AreFollowed_AndFdsReturnToBaseline()
    {
        Skip.IfNot(Perf.Available, "perf_event is not available here: " + Perf.Reason);
        var fdsBefore = OpenFds();
        var sink = new CollectingSink();
        var churned = new ConcurrentBag<int>();
        long attached;
        using (var sampler = PerfEventCpuSampler.Start(new PerfSamplerSettings { Period = TimeSpan.FromMilliseconds(1) }, sink))
        {
            // Threads that each burn ~300 ms of CPU and end: every one must be sampled, after its first few ms.
            for (var round = 0; round < 4; round++)
            {
                var threads = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
                {
                    churned.Add(OsThreadId.Current);
                    var end = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 3 / 10);
                    var x = 0.0;
                    while (Stopwatch.GetTimestamp() < end)
                    {
                        x += Math.Sqrt(x + 1);
                    }

                    GC.KeepAlive(x);
                })).ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());
            }

            attached = sampler.ThreadsAttached;
            Assert.True(sampler.RingBytes > 0);
        }

        var sampledThreads = sink.Samples.Select(s => s.Thread).ToHashSet();
        var missed = churned.Where(t => !sampledThreads.Contains(t)).ToList();
        Assert.True(missed.Count == 0, $"threads never sampled: {string.Join(", ", missed)} (attached {attached})");

        // Every event fd and ring is closed again when the sampler is disposed.
        Assert.Equal(fdsBefore, OpenFds());
    }

    [Fact]
    public void Resolve_Eperm_AutoFallsBackToEventPipeAndSaysHowToEnablePerf()
    {
        PerfEventOpener eperm = (int _, ref PerfEventNative.PerfEventAttr _, out int errno) =>
        {
            errno = PerfEventNative.Eperm;
            return -1;
        };

        var choice = CpuSamplerChoice.Resolve(CpuSamplerMode.Auto, eperm);
        Assert.False(choice.UsePerf);
        Assert.Equal("eventpipe", choice.Active);
        Assert.Contains("EPERM", choice.Reason, StringComparison.Ordinal);
        Assert.Contains("CAP_PERFMON", choice.Reason, StringComparison.Ordinal);
        Assert.Contains("perf_event_paranoid", choice.Reason, StringComparison.Ordinal);

        var refused = Assert.Throws<CaptureUnavailableException>(() => CpuSamplerChoice.Resolve(CpuSamplerMode.Perf, eperm));
        Assert.Contains("CAP_PERFMON", refused.Message, StringComparison.Ordinal);
        Assert.Contains("TraceProf:Cpu:Sampler", refused.Message, StringComparison.Ordinal);

        Assert.Throws<CaptureUnavailableException>(() => PerfEventCpuSampler.Start(new PerfSamplerSettings(), new CollectingSink(), eperm));
    }

    [Fact]
    public void Resolve_EventPipeConfigured_NeverProbes()
    {
        var probed = false;
        PerfEventOpener spy = (int _, ref PerfEventNative.PerfEventAttr _, out int errno) =>
        {
            probed = true;
            errno = 0;
            return -1;
        };

        var choice = CpuSamplerChoice.Resolve(CpuSamplerMode.EventPipe, spy);
        Assert.False(choice.UsePerf);
        Assert.False(probed);
        Assert.True(CpuSamplerChoice.TryParse("PERF", out var mode) && mode == CpuSamplerMode.Perf);
        Assert.False(CpuSamplerChoice.TryParse("kernel", out _));
    }

    [Fact]
    public void NativeFrameNames_NameAnAddressByItsFileAndOffset_AndSkipAnonymousAndMemfdCode()
    {
        var names = NativeFrameNames.Parse(
        [
            "7f0000000000-7f0000100000 r-xp 00002000 08:01 11 /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0/libcoreclr.so",
            "7f0000100000-7f0000200000 r--p 00102000 08:01 11 /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0/libcoreclr.so",
            "7f1000000000-7f1000100000 r-xp 00000000 00:00 0 ",
            "7f2000000000-7f2000100000 r-xp 00000000 00:01 5 /memfd:doublemapper (deleted)",
        ]);

        Assert.True(names.Resolve(0x7f0000000010, out var name, out var module));
        Assert.Equal("libcoreclr.so!0x2010", name);
        Assert.Equal("libcoreclr.so", module);
        Assert.False(names.Resolve(0x7f0000100010, out _, out _)); // not executable
        Assert.False(names.Resolve(0x7f1000000010, out _, out _));
        Assert.False(names.Resolve(0x7f2000000010, out _, out _));
    }

    [SkippableFact]
    [Trait("Category", "EventPipe")]
    public async Task Coordinator_PerfCpuCapture_NamesTheHotMethod_CountsCpuNanoseconds_AndHasNoWallColumn()
    {
        Skip.IfNot(Perf.Available, "perf_event is not available here: " + Perf.Reason);
        var tmp = _folder.File("tmp");
        using var store = new SqliteSnapshotStore(new SnapshotStoreOptions { Path = _folder.File("store") }, TimeProvider.System);
        var coordinator = new CaptureCoordinator(new EventPipeCaptureSource(), store, new CaptureCoordinatorOptions
        {
            TempDirectory = tmp,
            ServiceName = "tests",
            CpuSampler = CpuSamplerChoice.Resolve(CpuSamplerMode.Perf),
        });
        CaptureOutcome outcome;
        long fdsBefore;
        using (new HotLoop())
        {
            // The first capture opens what lives on (the store's connection, the diagnostics client, pool threads);
            // the second must leave the fd count where it found it: every perf fd and ring is gone.
            await coordinator.CaptureAsync(new CaptureRequest(CaptureKind.Cpu, TimeSpan.FromSeconds(1), ActivityTraceId.CreateRandom(), default), CancellationToken.None);
            fdsBefore = OpenFds();
            outcome = await coordinator.CaptureAsync(new CaptureRequest(CaptureKind.Cpu, TimeSpan.FromSeconds(2), ActivityTraceId.CreateRandom(), default), CancellationToken.None);
        }

        var profile = PprofDecoder.Decode(new MemoryStream(outcome.Pprof.ToArray()));
        Assert.Equal(["samples/count", "cpu/nanoseconds"], profile.SampleTypes.Select(t => t.Type + "/" + t.Unit));
        Assert.Equal(10_000_000, profile.Period);
        var total = profile.Samples.Sum(s => s.Values[0]);
        var hot = profile.Samples.Where(s => s.Stack.Count > 0 && profile.Frames[s.Stack[0]].FunctionName.Contains(HotLoop.MethodName, StringComparison.Ordinal)).Sum(s => s.Values[0]);
        var leaves = string.Join("; ", profile.Samples.GroupBy(s => s.Stack.Count > 0 ? profile.Frames[s.Stack[0]].FunctionName : "(none)").Select(g => (g.Key, N: g.Sum(s => s.Values[0]))).OrderByDescending(g => g.N).Take(8).Select(g => $"{g.Key} {g.N}"));
        Assert.True(hot > total / 3, $"the hot loop should dominate: {hot} of {total} samples; leaves: {leaves}");
        Assert.All(profile.Samples, s => Assert.Equal(s.Values[0] * 10_000_000, s.Values[1]));
        Assert.Contains(profile.Comments, c => c.Contains("perf_event sampler", StringComparison.Ordinal));
        Assert.Contains(profile.Comments, c => c.Contains("samples lost", StringComparison.Ordinal));
        Assert.Equal(fdsBefore, OpenFds());
        Assert.Empty(Directory.GetFiles(tmp));
    }

    [SkippableFact]
    public void Sampler_NativeLeafWithoutFramePointer_CarriesTheReturnAddressFoundOnItsStack()
    {
        Skip.IfNot(Perf.Available, "perf_event is not available here: " + Perf.Reason);
        var sink = new CollectingSink();
        int hotTid;
        long nativeLeaves;
        long found;
        int deepest;
        using (var sampler = PerfEventCpuSampler.Start(new PerfSamplerSettings { Period = TimeSpan.FromMilliseconds(1) }, sink))
        {
            using var hot = new SinLoopThread();
            hotTid = hot.ThreadId;
            Thread.Sleep(1000);
            nativeLeaves = sampler.NativeLeaves;
            found = sampler.CallerCandidatesFound;
            deepest = sampler.DeepestCandidateBytes;
        }

        // Math.Sin is libm's sin, built without frame pointers: most of the loop's samples have it as their leaf, and
        // each of those must carry a candidate (the return address into SinLoop) found within the stack copy.
        var names = NativeFrameNames.OfThisProcess();
        var hotSamples = sink.Samples.Where(s => s.Thread == hotTid && s.Frames.Length > 0).ToList();
        var inLibm = hotSamples.Where(s => names.Resolve(s.Frames[0], out _, out var module) && module.StartsWith("libm", StringComparison.Ordinal)).ToList();
        var withCandidate = inLibm.Count(s => s.Frames.Length > 2 && IsCandidateMarker(s.Frames[1]));
        output.WriteLine($"{withCandidate} of {inLibm.Count} libm samples carry a caller candidate; {found} of {nativeLeaves} native leaves overall; deepest first candidate {deepest} bytes above SP");
        Assert.True(inLibm.Count >= 20, $"expected the sin loop's thread to be sampled in libm; {inLibm.Count} of its {hotSamples.Count} samples were (native leaves overall {nativeLeaves})");
        Assert.True(withCandidate >= inLibm.Count * 9 / 10, $"{withCandidate} of {inLibm.Count} libm samples carry a caller candidate ({found} of {nativeLeaves} native leaves overall; deepest first candidate {deepest} bytes above SP)");
        Assert.InRange(deepest, 8, (int)PerfEventNative.StackDumpBytes);
    }

    [SkippableFact]
    [Trait("Category", "EventPipe")]
    public async Task Coordinator_PerfCpuCapture_PutsTheManagedCallerOfANativeLeafDirectlyAboveIt()
    {
        Skip.IfNot(Perf.Available, "perf_event is not available here: " + Perf.Reason);
        using var store = new SqliteSnapshotStore(new SnapshotStoreOptions { Path = _folder.File("store") }, TimeProvider.System);
        var coordinator = PerfCoordinator(store);
        CaptureOutcome outcome;
        using (new SinLoopThread())
        {
            outcome = await coordinator.CaptureAsync(new CaptureRequest(CaptureKind.Cpu, TimeSpan.FromSeconds(2), ActivityTraceId.CreateRandom(), default), CancellationToken.None);
        }

        // The kernel's frame-pointer walk alone gives libm.so.6!… ← SinLoopThread.Run (SpendTimeInSin skipped): the
        // stack copy puts SpendTimeInSin back, directly above the libm frame, in (nearly) every such sample.
        var profile = PprofDecoder.Decode(new MemoryStream(outcome.Pprof.ToArray()));
        var inLibm = profile.Samples.Where(s => s.Stack.Count > 1 && profile.Frames[s.Stack[0]].ModuleName.StartsWith("libm", StringComparison.Ordinal)).ToList();
        var total = inLibm.Sum(s => s.Values[0]);
        var direct = inLibm.Where(s => profile.Frames[s.Stack[1]].FunctionName.Contains(SinLoopThread.MethodName, StringComparison.Ordinal)).Sum(s => s.Values[0]);
        var callers = string.Join("; ", inLibm.GroupBy(s => profile.Frames[s.Stack[1]].FunctionName).Select(g => (g.Key, N: g.Sum(s => s.Values[0]))).OrderByDescending(g => g.N).Take(5).Select(g => $"{g.Key} {g.N}"));
        output.WriteLine($"{direct} of {total} libm samples have {SinLoopThread.MethodName} directly above; callers: {callers}");
        output.WriteLine(string.Join(Environment.NewLine, profile.Comments));
        Assert.True(total >= 20, $"expected the sin loop in libm in the profile; {total} samples there");
        Assert.True(direct >= total * 9 / 10, $"{direct} of {total} libm samples have {SinLoopThread.MethodName} directly above; callers: {callers}");
        Assert.Contains(profile.Comments, c => c.Contains("got back the managed caller", StringComparison.Ordinal));
    }

    [SkippableFact]
    [Trait("Category", "EventPipe")]
    public async Task Coordinator_PerfCpuCapture_CarriesSourceLines_TheHotLineOnTop()
    {
        Skip.IfNot(Perf.Available, "perf_event is not available here: " + Perf.Reason);
        using var store = new SqliteSnapshotStore(new SnapshotStoreOptions { Path = _folder.File("store") }, TimeProvider.System);
        var coordinator = PerfCoordinator(store);
        CaptureOutcome outcome;
        using (var stop = new CancellationTokenSource())
        {
            var worker = new Thread(() => SourceLineWorkload.SpinOnOneLine(stop.Token)) { IsBackground = true };
            worker.Start();
            outcome = await coordinator.CaptureAsync(new CaptureRequest(CaptureKind.Cpu, TimeSpan.FromSeconds(2), ActivityTraceId.CreateRandom(), default), CancellationToken.None);
            stop.Cancel();
            worker.Join();
        }

        // The light session's IL-to-native maps and the test assembly's PDB give perf samples lines, as EventPipe's have.
        var profile = PprofDecoder.Decode(new MemoryStream(outcome.Pprof.ToArray()));
        var byLine = profile.Samples
            .Where(s => s.Stack.Count > 0 && profile.Frames[s.Stack[0]].FunctionName == SourceLineWorkload.MethodName)
            .GroupBy(s => (profile.Frames[s.Stack[0]].SourceFile, profile.Frames[s.Stack[0]].SourceLine))
            .ToDictionary(g => g.Key, g => g.Sum(s => s.Values[0]));
        output.WriteLine($"hot line {SourceLineWorkload.HotLine}; leaf samples by line: {string.Join(", ", byLine.Select(l => $"{l.Key.SourceLine}={l.Value}"))}");
        Assert.True(byLine.Values.Sum() >= 20, $"expected the workload's samples in the profile; {byLine.Values.Sum()}");
        Assert.Equal((SourceLineWorkload.SourceFile, SourceLineWorkload.HotLine), byLine.MaxBy(l => l.Value).Key);
    }

    [Fact]
    public void CodeRegions_ClassJittedAndReadyToRunCodeAsManaged_AndElfFilesAsNative()
    {
        var regions = CodeRegions.Parse(
        [
            "7f0000000000-7f0000100000 r-xp 00002000 08:01 11 /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0/libcoreclr.so",
            "7f0000100000-7f0000200000 r--p 00102000 08:01 11 /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0/libcoreclr.so",
            "7f1000000000-7f1000100000 r-xp 00000000 00:00 0 ",
            "7f1000200000-7f1000300000 r-xp 00000000 00:00 0",
            "7f2000000000-7f2000100000 r-xp 00000000 00:01 5 /memfd:doublemapper (deleted)",
            "7f3000000000-7f3000100000 r-xp 00001000 08:01 12 /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0/System.Private.CoreLib.dll",
            "7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]",
        ]);
        var table = new CodeRegions(() => [], TimeProvider.System);
        Assert.Equal(6, regions.Length);
        Assert.Equal(CodeKind.Native, Kind(regions, 0x7f0000000010));
        Assert.Equal(CodeKind.None, Kind(regions, 0x7f0000100010)); // not executable
        Assert.Equal(CodeKind.Managed, Kind(regions, 0x7f1000000010));
        Assert.Equal(CodeKind.Managed, Kind(regions, 0x7f1000200010));
        Assert.Equal(CodeKind.Managed, Kind(regions, 0x7f2000000010));
        Assert.Equal(CodeKind.Managed, Kind(regions, 0x7f3000000010));
        Assert.Equal(CodeKind.Native, Kind(regions, 0x7ffd00000010));
        Assert.Equal(CodeKind.None, table.Classify(0x7f0000000010));

        static CodeKind Kind(CodeRegions.Region[] regions, ulong address) =>
            regions.FirstOrDefault(r => address >= r.Start && address < r.End).Kind;
    }

    private static bool IsCandidateMarker(ulong word) => word - PerfEventNative.CallerCandidatesMarker - 1 < PerfEventNative.MaxCallerCandidates;

    private static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;

    private sealed class CollectingSink : IPerfSampleSink
    {
        public List<(int Thread, long Time, ulong[] Frames)> Samples { get; } = [];

        public void OnSample(int threadId, long timestamp, ReadOnlySpan<ulong> frames) => Samples.Add((threadId, timestamp, frames.ToArray()));
    }

    /// <summary>A thread whose CPU goes to libm's sin (no frame pointer), called from one managed method.</summary>
    private sealed class SinLoopThread : IDisposable
    {
        public const string MethodName = "SinLoopThread.SpendTimeInSin";

        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;
        private readonly ManualResetEventSlim _started = new();
        private int _tid;

        public SinLoopThread()
        {
            _thread = new Thread(Run) { IsBackground = true, Name = "sin-loop" };
            _thread.Start();
            _started.Wait();
        }

        public static double Sink { get; private set; }

        public int ThreadId => _tid;

        public void Dispose()
        {
            _stop.Cancel();
            _thread.Join();
            _stop.Dispose();
            _started.Dispose();
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static double SpendTimeInSin(double seed)
        {
            var x = 0.0;
            for (var i = 0; i < 100_000; i++)
            {
                x += Math.Sin(seed + i);
            }

            return x;
        }

        private void Run()
        {
            _tid = OsThreadId.Current;
            _started.Set();
            var seed = 0.5;
            while (!_stop.IsCancellationRequested)
            {
                seed = SpendTimeInSin(seed) * 1e-9;
            }

            Sink = seed;
        }
    }

    private sealed class TidHotLoop : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;
        private readonly ManualResetEventSlim _started = new();
        private int _tid;

        public TidHotLoop()
        {
            _thread = new Thread(() =>
            {
                _tid = OsThreadId.Current;
                _started.Set();
                EngineHotLoop.BurnCpuDistinctively(_stop.Token);
            })
            { IsBackground = true };
            _thread.Start();
            _started.Wait();
        }

        public int ThreadId => _tid;

        public void Dispose()
        {
            _stop.Cancel();
            _thread.Join();
            _stop.Dispose();
            _started.Dispose();
        }
    }

    private CaptureCoordinator PerfCoordinator(SqliteSnapshotStore store) =>
        new(new EventPipeCaptureSource(), store, new CaptureCoordinatorOptions
        {
            TempDirectory = _folder.File("tmp"),
            ServiceName = "tests",
            CpuSampler = CpuSamplerChoice.Resolve(CpuSamplerMode.Perf),
        });
}
