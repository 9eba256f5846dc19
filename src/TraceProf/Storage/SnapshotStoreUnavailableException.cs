namespace TraceProf.Storage;

/// <summary>
/// The store could not be opened (read-only, unreachable, unusable), so nothing is stored. An
/// <see cref="InvalidOperationException"/>, so a caller that retries a failing store and then drops the snapshot
/// (the coordinator) treats it as the outage it is.
/// </summary>
internal sealed class SnapshotStoreUnavailableException(string message) : InvalidOperationException(message);
