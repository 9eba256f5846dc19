namespace TraceProf.Parsing.Streaming;

/// <summary>Receives what a <see cref="NettraceReader"/> decodes, in file order.</summary>
internal abstract class NettraceHandler
{
    /// <summary>The trace object, before any block.</summary>
    public abstract void OnTrace(NettraceHeader header);

    /// <summary>An event type's description; events refer to it by <see cref="NettraceMetadata.MetadataId"/>.</summary>
    public abstract void OnMetadata(NettraceMetadata metadata);

    /// <summary>A stack (instruction pointers, leaf first) that later events refer to by id.</summary>
    public abstract void OnStack(int stackId, ReadOnlySpan<byte> addresses);

    /// <summary>
    /// A sequence point: the writer forgets the stacks it sent before, so stack ids seen earlier are not referred
    /// to again.
    /// </summary>
    public abstract void OnSequencePoint();

    /// <summary>An event; <paramref name="payload"/> is only valid during the call.</summary>
    public abstract void OnEvent(in NettraceEvent header, ReadOnlySpan<byte> payload);
}
