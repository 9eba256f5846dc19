namespace TraceProf.Storage;

/// <summary>How <see cref="SnapshotStoreGuard"/> opens one provider's store, and what it may do when the open fails.</summary>
internal abstract class SnapshotStoreOpener
{
    /// <summary>Gets the health record this store reports to (provider, location, setting).</summary>
    public abstract SnapshotStoreHealth Health { get; }

    /// <summary>
    /// Gets whether a failed open is worth retrying in the background (a database server may come back; a
    /// read-only folder does not change by itself).
    /// </summary>
    public abstract bool RetryInBackground { get; }

    /// <summary>
    /// Opens the store, repairing what it can (a corrupt SQLite file is moved aside). An
    /// <see cref="ArgumentException"/> is a configuration error and stops the host's start; anything else leaves
    /// the host running without a store.
    /// </summary>
    public abstract Task<ISnapshotStore> OpenAsync(CancellationToken cancellationToken);

    /// <summary>One sentence for the log and the index: what failed, from the exception.</summary>
    public virtual string Describe(Exception exception) => exception.Message;
}
