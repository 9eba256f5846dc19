using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf;

/// <summary>A finished capture: its metadata row and the profile parsed from it.</summary>
/// <param name="Snapshot">The metadata (as stored, when <see cref="Stored"/>).</param>
/// <param name="Profile">The profile, so the caller can answer in any format without reading it back.</param>
public sealed record CaptureOutcome(SnapshotInfo Snapshot, Profile Profile)
{
    /// <summary>Gets whether the snapshot is in the store; false when the store kept failing and it was dropped.</summary>
    public bool Stored { get; init; } = true;
}
