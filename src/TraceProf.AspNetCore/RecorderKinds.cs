namespace TraceProf.AspNetCore;

/// <summary>
/// What the flight recorder records: <see cref="TraceProfFlightRecorderOptions.Kinds"/>'s comma list, read once by
/// <see cref="TraceProfFlightRecorderOptions.TryGetKinds"/>. Configuration keeps the words users write.
/// </summary>
[Flags]
internal enum RecorderKinds
{
    None = 0,
    Cpu = 1 << 0,
    Contention = 1 << 1,
    Allocations = 1 << 2,
}
