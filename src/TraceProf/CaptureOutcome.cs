using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf;

/// <summary>A stored capture: its metadata row and the profile parsed from it.</summary>
/// <param name="Snapshot">The stored metadata.</param>
/// <param name="Profile">The profile, so the caller can answer in any format without reading it back.</param>
public sealed record CaptureOutcome(SnapshotInfo Snapshot, Profile Profile);
