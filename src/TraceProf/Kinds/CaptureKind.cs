namespace TraceProf.Kinds;

/// <summary>What a capture records. Each kind maps to one set of EventPipe providers in <see cref="KindProviders"/>.</summary>
public enum CaptureKind
{
    /// <summary>The runtime's thread sampler (every managed thread, about every millisecond) plus method names.</summary>
    Cpu,

    /// <summary>Sampled allocations (<c>AllocationSampled</c>, .NET 10) with the allocating stack.</summary>
    Allocations,

    /// <summary>Lock contention: <c>ContentionStart</c> with the waiting stack, <c>ContentionStop</c> with the wait.</summary>
    Contention,

    /// <summary>The stacks of all managed threads now: a very short sampler session.</summary>
    Threads,

    /// <summary>A raw trace for PerfView and friends: CPU samples plus GC, exception and contention events.</summary>
    Trace,

    /// <summary>First-chance exceptions with their throw stacks (<c>ExceptionThrown_V1</c>).</summary>
    Exceptions,

    /// <summary>The live heap after one blocking full GC, by the path that retains each object.</summary>
    Heap,

    /// <summary>
    /// Everything that blocked (Go's <c>block</c>): lock contention plus blocking waits (<c>WaitHandleWaitStart/Stop</c>,
    /// .NET 9+: <c>Task.Wait</c>, <c>.Result</c>, <c>Monitor.Wait</c>, <c>WaitOne</c>, <c>SemaphoreSlim.Wait</c>).
    /// </summary>
    Block,

    /// <summary>The pending async call chains of the process, from a heap snapshot's object graph (<c>/debug/pprof/tasks</c>).</summary>
    Tasks,
}
