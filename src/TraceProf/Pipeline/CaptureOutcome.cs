using TraceProf.Profiles;
using TraceProf.Storage;

namespace TraceProf.Pipeline;

/// <summary>A finished capture: its metadata row, the profile parsed from it, and the pprof bytes stored.</summary>
/// <param name="Snapshot">The metadata (as stored, when <see cref="Stored"/>).</param>
/// <param name="Profile">The profile, so the caller can answer in another format without reading it back.</param>
/// <param name="Pprof">The pprof encoding, made once: what was stored, and what a pprof answer streams.</param>
internal sealed record CaptureOutcome(SnapshotInfo Snapshot, Profile Profile, ReadOnlyMemory<byte> Pprof)
{
    /// <summary>Gets whether the snapshot is in the store; false when the store kept failing and it was dropped.</summary>
    public bool Stored { get; init; } = true;
}
