namespace TraceProf.Storage;

/// <summary>
/// Keeps snapshots: a metadata row keyed by snapshot id and indexed by trace id, plus artifact files.
/// Implementations are thread-safe, never expose a half-written snapshot, and enforce retention.
/// </summary>
public interface ISnapshotStore
{
    /// <summary>
    /// Stores a snapshot. Each artifact is given as a temporary file that the store takes over (moves or
    /// copies, then deletes). Either everything is stored, or nothing is and the files are deleted.
    /// </summary>
    /// <remarks>
    /// The files belong to the store from the moment of the call: on any failure (invalid arguments,
    /// cancellation, I/O) they are deleted and the exception propagates. Create them on the same volume as
    /// the store where possible, so the move is a rename rather than a copy.
    /// </remarks>
    /// <param name="info">The metadata; the store fills in the byte sizes.</param>
    /// <param name="artifacts">The artifact files; at least one.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored metadata.</returns>
    /// <exception cref="ArgumentException">
    /// An id in <paramref name="info"/> is malformed (see <see cref="SnapshotIds"/> and <see cref="TraceIds"/>),
    /// the id is already stored, or there is no artifact.
    /// </exception>
    /// <exception cref="SnapshotTooLargeException">The files together exceed what the store may hold in all.</exception>
    Task<SnapshotInfo> AddAsync(
        SnapshotInfo info,
        IReadOnlyDictionary<SnapshotArtifact, string> artifacts,
        CancellationToken cancellationToken);

    /// <summary>Finds one snapshot by id.</summary>
    /// <param name="id">The snapshot id.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The metadata, or null when there is no such snapshot.</returns>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not 32 lower-case hex digits.</exception>
    Task<SnapshotInfo?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Lists snapshots, newest first.</summary>
    /// <param name="query">The filter.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The matching rows.</returns>
    /// <exception cref="ArgumentException">The trace id is malformed or the limit is outside 1 to <see cref="SnapshotQuery.MaxLimit"/>.</exception>
    Task<IReadOnlyList<SnapshotInfo>> ListAsync(SnapshotQuery query, CancellationToken cancellationToken);

    /// <summary>Opens an artifact for reading.</summary>
    /// <param name="id">The snapshot id.</param>
    /// <param name="artifact">Which artifact.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>A readable stream the caller disposes, or null when the snapshot or artifact does not exist.</returns>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not 32 lower-case hex digits.</exception>
    Task<Stream?> OpenArtifactAsync(string id, SnapshotArtifact artifact, CancellationToken cancellationToken);
}
