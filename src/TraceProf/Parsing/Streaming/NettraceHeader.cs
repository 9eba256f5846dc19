namespace TraceProf.Parsing.Streaming;

/// <summary>The trace object at the start of a nettrace file.</summary>
/// <param name="SyncTime">The wall-clock time that <paramref name="SyncTimestamp"/> stands for.</param>
/// <param name="SyncTimestamp">A raw timestamp taken at <paramref name="SyncTime"/>.</param>
/// <param name="TimestampFrequency">Raw timestamp ticks per second.</param>
/// <param name="PointerSize">Bytes per instruction pointer in stacks.</param>
/// <param name="ProcessId">The traced process.</param>
internal readonly record struct NettraceHeader(DateTimeOffset SyncTime, long SyncTimestamp, long TimestampFrequency, int PointerSize, int ProcessId)
{
    /// <summary>The wall-clock time of a raw timestamp.</summary>
    public DateTimeOffset TimeOf(long timestamp) =>
        TimestampFrequency > 0 ? SyncTime.AddTicks((long)((timestamp - SyncTimestamp) * (double)TimeSpan.TicksPerSecond / TimestampFrequency)) : SyncTime;
}
