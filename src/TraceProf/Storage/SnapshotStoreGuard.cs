namespace TraceProf.Storage;

/// <summary>
/// The store a host registers: it opens the configured store asynchronously while the host starts
/// (<see cref="StartAsync"/>) and forwards every call to it, so that nothing blocks on the open.
/// </summary>
internal sealed class SnapshotStoreGuard(Func<CancellationToken, Task<ISnapshotStore>> open) : ISnapshotStore, IDisposable
{
    private ISnapshotStore? inner;
    private int disposed;

    private ISnapshotStore Inner => this.inner ?? throw new InvalidOperationException(
        "The snapshot store is not open: it opens while the host starts (SnapshotStoreGuard.StartAsync).");

    /// <summary>Opens the store. Its exceptions propagate, so configuration errors stop the start.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (this.inner is null)
        {
            this.inner = await open(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task<SnapshotInfo> AddAsync(SnapshotInfo info, IReadOnlyDictionary<SnapshotArtifact, string> artifacts, CancellationToken cancellationToken) =>
        this.Inner.AddAsync(info, artifacts, cancellationToken);

    /// <inheritdoc />
    public Task<SnapshotInfo?> GetAsync(string id, CancellationToken cancellationToken) => this.Inner.GetAsync(id, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<SnapshotInfo>> ListAsync(SnapshotQuery query, CancellationToken cancellationToken) =>
        this.Inner.ListAsync(query, cancellationToken);

    /// <inheritdoc />
    public Task<Stream?> OpenArtifactAsync(string id, SnapshotArtifact artifact, CancellationToken cancellationToken) =>
        this.Inner.OpenArtifactAsync(id, artifact, cancellationToken);

    /// <summary>Disposes the open store; safe to call more than once (the container may, for each registration).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref this.disposed, 1) == 0)
        {
            (this.inner as IDisposable)?.Dispose();
        }
    }
}
