using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TraceProf.Storage;

/// <summary>
/// The store a host registers. It opens the configured store asynchronously while the host starts
/// (<see cref="StartAsync"/>) and forwards every call to it. A diagnostics store must never stop the application
/// it diagnoses: when the open fails for any reason but a configuration error, the host starts anyway, one Error
/// names the store, the setting and what happens now, <see cref="SnapshotStoreHealth"/> reports it, and:
/// adds are refused with <see cref="SnapshotStoreUnavailableException"/> (the coordinator answers the capture
/// unstored and counts the drop), reads find nothing. A store that may come back (a database server) is retried
/// in the background with exponential backoff on the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class SnapshotStoreGuard : ISnapshotStore, IDisposable
{
    /// <summary>The first background retry comes this long after the failed open; each next one twice as long after.</summary>
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two background retries.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    private readonly SnapshotStoreOpener opener;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private volatile ISnapshotStore? inner;
    private Task? retrying;
    private int disposed;

    public SnapshotStoreGuard(SnapshotStoreOpener opener, TimeProvider? timeProvider = null, ILogger<SnapshotStoreGuard>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(opener);
        this.opener = opener;
        this.time = timeProvider ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the store's state, for the web layer.</summary>
    public SnapshotStoreHealth Health => this.opener.Health;

    /// <summary>Gets the background retries, when they run (tests wait on it).</summary>
    internal Task? Retrying => this.retrying;

    /// <summary>
    /// Opens the store. A configuration error (<see cref="ArgumentException"/>) propagates and stops the start;
    /// any other failure is logged once, reported in <see cref="Health"/>, and retried in the background when the
    /// provider may come back.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (this.inner is not null || this.retrying is not null)
        {
            return;
        }

        try
        {
            this.inner = await this.opener.OpenAsync(cancellationToken).ConfigureAwait(false);
            this.Health.SetReady();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            string what = this.opener.Describe(ex);
            DateTimeOffset? retryAt = this.opener.RetryInBackground ? this.time.GetUtcNow() + FirstRetryDelay : null;
            this.Health.SetUnavailable(what, retryAt);
            StorageLog.StoreUnavailable(
                this.logger,
                ex,
                this.Health.Provider,
                this.Health.Location,
                this.Health.Setting,
                what,
                this.opener.RetryInBackground
                    ? "TraceProf retries in the background with backoff (up to every minute)"
                    : "fix the location or the setting and restart the application");
            if (this.opener.RetryInBackground)
            {
                this.retrying = Task.Run(() => this.RetryAsync(this.stopping.Token), CancellationToken.None);
            }
        }
    }

    /// <inheritdoc />
    public Task<SnapshotInfo> AddAsync(SnapshotInfo info, IReadOnlyDictionary<SnapshotArtifact, string> artifacts, CancellationToken cancellationToken)
    {
        if (this.inner is { } store)
        {
            return store.AddAsync(info, artifacts, cancellationToken);
        }

        // The files belong to the store from the call on, stored or not.
        ArgumentNullException.ThrowIfNull(artifacts);
        foreach (string path in artifacts.Values)
        {
            TryDelete(path);
        }

        throw new SnapshotStoreUnavailableException(
            $"The snapshot store ({this.Health.Provider} at {this.Health.Location}, {this.Health.Setting}) is unavailable: {this.Health.Reason}");
    }

    /// <inheritdoc />
    public Task<SnapshotInfo?> GetAsync(string id, CancellationToken cancellationToken)
    {
        SnapshotIds.ThrowIfInvalid(id, nameof(id));
        return this.inner is { } store ? store.GetAsync(id, cancellationToken) : Task.FromResult<SnapshotInfo?>(null);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SnapshotInfo>> ListAsync(SnapshotQuery query, CancellationToken cancellationToken)
    {
        SnapshotValidation.ValidateQuery(query);
        return this.inner is { } store ? store.ListAsync(query, cancellationToken) : Task.FromResult<IReadOnlyList<SnapshotInfo>>([]);
    }

    /// <inheritdoc />
    public Task<Stream?> OpenArtifactAsync(string id, SnapshotArtifact artifact, CancellationToken cancellationToken)
    {
        SnapshotIds.ThrowIfInvalid(id, nameof(id));
        return this.inner is { } store ? store.OpenArtifactAsync(id, artifact, cancellationToken) : Task.FromResult<Stream?>(null);
    }

    /// <summary>Stops the retries and disposes the open store; safe to call more than once (the container may, per registration).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref this.disposed, 1) != 0)
        {
            return;
        }

        this.stopping.Cancel();
        try
        {
            this.retrying?.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // The loop logs its own failures; a stop must not throw.
        }

        (this.inner as IDisposable)?.Dispose();
        this.stopping.Dispose();
    }

    private async Task RetryAsync(CancellationToken cancellationToken)
    {
        TimeSpan delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                await Task.Delay(delay, this.time, cancellationToken).ConfigureAwait(false);
                this.Health.SetNextAttempt(null);
                ISnapshotStore store = await this.opener.OpenAsync(cancellationToken).ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested)
                {
                    (store as IDisposable)?.Dispose();
                    return;
                }

                this.inner = store;
                this.Health.SetReady();
                StorageLog.StoreAvailable(this.logger, this.Health.Provider, this.Health.Location);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
                this.Health.SetUnavailable(this.opener.Describe(ex), this.time.GetUtcNow() + delay);
                StorageLog.StoreRetryFailed(this.logger, ex, this.Health.Provider, this.Health.Location, delay);
            }
        }
    }

    private static void TryDelete(string? path)
    {
        try
        {
            if (!string.IsNullOrEmpty(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The next start's sweep of the temp folder removes it.
        }
    }
}
