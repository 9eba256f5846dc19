namespace TraceProf.Parsing.Streaming;

/// <summary>The header fields of one event that a profile needs.</summary>
internal struct NettraceEvent
{
    /// <summary>Which <see cref="NettraceMetadata"/> describes the event.</summary>
    public int MetadataId;

    /// <summary>The OS thread the event is about (for a sample: the sampled thread).</summary>
    public long ThreadId;

    /// <summary>The stack id, 0 for none.</summary>
    public int StackId;

    /// <summary>The raw timestamp, on the clock of <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>.</summary>
    public long Timestamp;

    /// <summary>The size of the payload in bytes.</summary>
    public int PayloadSize;
}
