namespace TraceProf.Parsing.Streaming;

/// <summary>The events a profile is built from, as the runtime's providers number them.</summary>
internal enum ProfilingEvent : byte
{
    Other,
    ThreadSample,
    MethodLoad,
    MethodUnload,
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

    public override void OnTrace(NettraceHeader header)
    {
        if (header.PointerSize is not (4 or 8))
        {
            throw new InvalidDataException($"Unsupported pointer size {header.PointerSize}.");
        }

        PointerSize = header.PointerSize;
    }

    public override void OnMetadata(NettraceMetadata metadata)
    {
        // Rundown's MethodDCStart/EndVerbose and ModuleDCStart/End name code like the load events do.
        var kind = (metadata.ProviderName, metadata.EventId) switch
        {
            (RuntimeEvents.SampleProfilerProvider, RuntimeEvents.ThreadSample) => ProfilingEvent.ThreadSample,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.MethodLoadVerbose) or (RuntimeEvents.RundownProvider, RuntimeEvents.MethodLoadVerbose or RuntimeEvents.MethodUnloadVerbose) => ProfilingEvent.MethodLoad,
            (RuntimeEvents.RuntimeProvider, RuntimeEvents.MethodUnloadVerbose) => ProfilingEvent.MethodUnload,
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
