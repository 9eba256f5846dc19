namespace TraceProf.Storage;

/// <summary>
/// Whether the snapshot store can be used now, and if not, why and what TraceProf does about it. One per host,
/// written by <see cref="SnapshotStoreGuard"/> and read by the web layer (the index's <c>store</c> object, the
/// <c>X-TraceProf-Snapshot-Status</c> header of a capture that could not be stored).
/// </summary>
internal sealed class SnapshotStoreHealth(string provider, string location, string setting)
{
    private readonly Lock gate = new();
    private string state = States.Opening;
    private string? reason;
    private DateTimeOffset? nextAttemptAt;
    private int failedAttempts;

    /// <summary>Gets the provider: <c>Sqlite</c> or <c>PostgreSql</c>.</summary>
    public string Provider { get; } = provider;

    /// <summary>Gets where the store is: the database file, or <c>host:port/database</c> (never a password).</summary>
    public string Location { get; } = location;

    /// <summary>Gets the configuration setting that names <see cref="Location"/>.</summary>
    public string Setting { get; } = setting;

    /// <summary>Gets whether snapshots can be stored now.</summary>
    public bool IsReady
    {
        get
        {
            lock (this.gate)
            {
                return this.state == States.Ready;
            }
        }
    }

    /// <summary>Gets why the store cannot be used, or null when it can.</summary>
    public string? Reason
    {
        get
        {
            lock (this.gate)
            {
                return this.reason;
            }
        }
    }

    /// <summary>A consistent copy for the index.</summary>
    /// <param name="droppedSnapshots">Snapshots captured but not stored so far (the coordinator counts them).</param>
    public SnapshotStoreStatus Status(long droppedSnapshots)
    {
        lock (this.gate)
        {
            return new SnapshotStoreStatus(
                this.Provider, this.Location, this.Setting, this.state, this.reason, this.failedAttempts, this.nextAttemptAt, droppedSnapshots);
        }
    }

    internal void SetReady()
    {
        lock (this.gate)
        {
            this.state = States.Ready;
            this.reason = null;
            this.nextAttemptAt = null;
        }
    }

    internal void SetUnavailable(string why, DateTimeOffset? retryAt)
    {
        lock (this.gate)
        {
            this.state = States.Unavailable;
            this.reason = why;
            this.nextAttemptAt = retryAt;
            this.failedAttempts++;
        }
    }

    internal void SetNextAttempt(DateTimeOffset? retryAt)
    {
        lock (this.gate)
        {
            this.nextAttemptAt = retryAt;
        }
    }

    /// <summary>The values of <see cref="SnapshotStoreStatus.State"/>.</summary>
    public static class States
    {
        /// <summary>The host is starting and the store is being opened.</summary>
        public const string Opening = "opening";

        /// <summary>Snapshots are stored.</summary>
        public const string Ready = "ready";

        /// <summary>Captures run and answer, but nothing is stored; <see cref="SnapshotStoreStatus.Reason"/> says why.</summary>
        public const string Unavailable = "unavailable";
    }
}

/// <summary>The store's state as the index shows it.</summary>
/// <param name="Provider">Sqlite or PostgreSql.</param>
/// <param name="Location">The database file, or host:port/database.</param>
/// <param name="Setting">The configuration setting that names the location.</param>
/// <param name="State"><c>opening</c>, <c>ready</c> or <c>unavailable</c>.</param>
/// <param name="Reason">Why it is unavailable, and what TraceProf does meanwhile.</param>
/// <param name="FailedAttempts">How many opens failed.</param>
/// <param name="NextAttemptAt">When the next background attempt runs, if one is scheduled.</param>
/// <param name="DroppedSnapshots">Snapshots captured but not stored.</param>
internal sealed record SnapshotStoreStatus(
    string Provider,
    string Location,
    string Setting,
    string State,
    string? Reason,
    int FailedAttempts,
    DateTimeOffset? NextAttemptAt,
    long DroppedSnapshots);
