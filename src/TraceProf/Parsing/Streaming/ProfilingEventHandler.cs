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
}

/// <summary>
/// What every profile-building <see cref="NettraceHandler"/> shares: the pointer size of the trace, and which
/// metadata id stands for which <see cref="ProfilingEvent"/> (ids are given per trace by the writer).
/// </summary>
internal abstract class ProfilingEventHandler : NettraceHandler
{
    private const string SampleProfilerProvider = "Microsoft-DotNETCore-SampleProfiler";
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private const string RundownProvider = "Microsoft-Windows-DotNETRuntimeRundown";

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
        // Event ids of the runtime provider: 143 MethodLoadVerbose, 144 MethodUnloadVerbose, 152 ModuleLoad,
        // 81 ContentionStart, 91 ContentionStop, 303 AllocationSampled; of the rundown provider: 143/144
        // MethodDCStart/EndVerbose and 153/154 ModuleDCStart/End, which name code like load events do.
        var kind = (metadata.ProviderName, metadata.EventId) switch
        {
            (SampleProfilerProvider, 0) => ProfilingEvent.ThreadSample,
            (RuntimeProvider, 143) or (RundownProvider, 143 or 144) => ProfilingEvent.MethodLoad,
            (RuntimeProvider, 144) => ProfilingEvent.MethodUnload,
            (RuntimeProvider, 152) or (RundownProvider, 153 or 154) => ProfilingEvent.ModuleLoad,
            (RuntimeProvider, 81) => ProfilingEvent.ContentionStart,
            (RuntimeProvider, 91) => ProfilingEvent.ContentionStop,
            (RuntimeProvider, 303) => ProfilingEvent.AllocationSampled,
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
