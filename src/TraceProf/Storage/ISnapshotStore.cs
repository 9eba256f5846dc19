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
    /// <param name="info">The metadata; the store fills in the byte sizes.</param>
    /// <param name="artifacts">The artifact files.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored metadata.</returns>
    Task<SnapshotInfo> AddAsync(
        SnapshotInfo info,
        IReadOnlyDictionary<SnapshotArtifact, string> artifacts,
        CancellationToken cancellationToken);

    /// <summary>Finds one snapshot by id.</summary>
    /// <param name="id">The snapshot id.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The metadata, or null when there is no such snapshot.</returns>
    Task<SnapshotInfo?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Lists snapshots, newest first.</summary>
    /// <param name="query">The filter.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The matching rows.</returns>
    Task<IReadOnlyList<SnapshotInfo>> ListAsync(SnapshotQuery query, CancellationToken cancellationToken);

    /// <summary>Opens an artifact for reading.</summary>
    /// <param name="id">The snapshot id.</param>
    /// <param name="artifact">Which artifact.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>A readable stream the caller disposes, or null when the snapshot or artifact does not exist.</returns>
    Task<Stream?> OpenArtifactAsync(string id, SnapshotArtifact artifact, CancellationToken cancellationToken);
}
