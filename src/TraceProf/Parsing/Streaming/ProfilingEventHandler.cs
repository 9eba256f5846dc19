namespace TraceProf.Parsing.Streaming;

/// <summary>The events a profile is built from, as the runtime's providers number them.</summary>
internal enum ProfilingEvent : byte
{
    Other,
    ThreadSample,
    MethodLoad,
    MethodUnload,
    ILToNativeMap,
    RundownILToNativeMap,
    ModuleLoad,
    ContentionStart,
    ContentionStop,
    AllocationSampled,
    ExceptionThrown,
    WaitHandleWaitStart,
    WaitHandleWaitStop,
    ThreadPoolAdjustment,
}

/// <summary>
/// What every profile-building <see cref="NettraceHandler"/> shares: the pointer size of the trace, and which
/// metadata id stands for which <see cref="ProfilingEvent"/> (ids are given per trace by the writer).
/// </summary>
internal abstract class ProfilingEventHandler : NettraceHandler
{
    private readonly List<ProfilingEvent> _kinds = [];

    /// <summary>Gets the size of a pointer in the trace: 4 or 8.</summary>
    protected int PointerSize { get; private set; } = 8;

    /// <summary>Gets whether the trace is of this very process, so its addresses may be named from this process's native modules.</summary>
    protected bool OfThisProcess { get; private set; }

    /// <summary>Whether a trace header is of this process: its id, and synced after this process started (a container's pid 1 is every run's).</summary>
    internal static bool IsThisProcess(NettraceHeader header) => IsThisProcess(header.ProcessId, header.SyncTime);

    /// <summary>Whether a trace of process <paramref name="processId"/> that started at <paramref name="synced"/> is of this process.</summary>
    internal static bool IsThisProcess(int processId, DateTimeOffset synced) =>
        processId == Environment.ProcessId && synced >= ThisProcessStart;

    private static DateTimeOffset ThisProcessStart { get; } = StartOfThisProcess();

    private static DateTimeOffset StartOfThisProcess()
    {
        try
        {
            using var process = System.Diagnostics.Process.GetCurrentProcess();
            return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero) - TimeSpan.FromSeconds(1);
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
        {
            return DateTimeOffset.MaxValue; // unknown: never assume
        }
    }

    public override void OnTrace(NettraceHeader header)
    {
        if (header.PointerSize is not (4 or 8))
        {
            throw new InvalidDataException($"Unsupported pointer size {header.PointerSize}.");
        }

        PointerSize = header.PointerSize;
        OfThisProcess = IsThisProcess(header);
    }

    public override void OnMetadata(NettraceMetadata metadata)
    {
        // Rundown's MethodDCStart/EndVerbose and ModuleDCStart/End name code like the load events do.
        var kind = (metadata.ProviderName, metadata.EventId) switch
        {
            (RuntimeEvents.SampleProfilerProvider, RuntimeEvents.ThreadSample) => ProfilingEvent.ThreadSample,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.MethodLoadVerbose) or (RuntimeEvents.RundownProvider, RuntimeEvents.MethodLoadVerbose or RuntimeEvents.MethodUnloadVerbose) => ProfilingEvent.MethodLoad,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.MethodUnloadVerbose) => ProfilingEvent.MethodUnload,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.MethodILToNativeMap) => ProfilingEvent.ILToNativeMap,
            (RuntimeEvents.RundownProvider, RuntimeEvents.MethodDCStartILToNativeMap or RuntimeEvents.MethodDCEndILToNativeMap) => ProfilingEvent.RundownILToNativeMap,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.ModuleLoad) or (RuntimeEvents.RundownProvider, RuntimeEvents.ModuleDCStart or RuntimeEvents.ModuleDCEnd) => ProfilingEvent.ModuleLoad,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.ContentionStart) => ProfilingEvent.ContentionStart,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.ContentionStop) => ProfilingEvent.ContentionStop,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.AllocationSampled) => ProfilingEvent.AllocationSampled,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.ExceptionThrown) => ProfilingEvent.ExceptionThrown,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.WaitHandleWaitStart) => ProfilingEvent.WaitHandleWaitStart,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.WaitHandleWaitStop) => ProfilingEvent.WaitHandleWaitStop,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.ThreadPoolWorkerThreadAdjustmentAdjustment) => ProfilingEvent.ThreadPoolAdjustment,
            _ => ProfilingEvent.Other,
        };
        var id = metadata.MetadataId;
        if (id < 0)
        {
            throw new InvalidDataException($"Negative metadata id {id}.");
        }

        while (_kinds.Count <= id)
        {
            _kinds.Add(ProfilingEvent.Other);
        }

        _kinds[id] = kind;
    }

    /// <summary>What an event with this metadata id is.</summary>
    protected ProfilingEvent KindOf(int metadataId) =>
        (uint)metadataId < (uint)_kinds.Count ? _kinds[metadataId] : ProfilingEvent.Other;
}
