using Microsoft.Extensions.Logging;

namespace TraceProf.Storage;

/// <summary>
/// Opens the PostgreSQL store for <see cref="SnapshotStoreGuard"/>. The connection string is checked when this is
/// created (a malformed one is a configuration error and stops the start); a server that cannot be reached is
/// retried in the background.
/// </summary>
/// <remarks>No Npgsql type appears in a signature or field here: a host on SQLite never loads Npgsql.</remarks>
internal sealed class PostgreSqlStoreOpener : SnapshotStoreOpener
{
    private readonly string connectionString;
    private readonly SnapshotStoreOptions options;
    private readonly TimeProvider? time;
    private readonly ILogger<PostgreSqlSnapshotStore>? logger;

    /// <exception cref="ArgumentException">The connection string is malformed.</exception>
    public PostgreSqlStoreOpener(string connectionString, SnapshotStoreOptions options, string setting, TimeProvider? timeProvider = null, ILogger<PostgreSqlSnapshotStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        SnapshotValidation.ValidateLimits(options);
        this.connectionString = connectionString;
        this.options = options;
        this.time = timeProvider;
        this.logger = logger;
        this.Health = new SnapshotStoreHealth("PostgreSql", PostgreSqlSnapshotStore.Describe(connectionString), setting);
    }

    public override SnapshotStoreHealth Health { get; }

    public override bool RetryInBackground => true;

    public override async Task<ISnapshotStore> OpenAsync(CancellationToken cancellationToken) =>
        await PostgreSqlSnapshotStore.OpenAsync(this.connectionString, this.options, this.time, this.logger, cancellationToken).ConfigureAwait(false);

    public override string Describe(Exception exception) => (exception.InnerException ?? exception).Message;
}
