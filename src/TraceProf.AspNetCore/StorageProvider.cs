namespace TraceProf.AspNetCore;

/// <summary>
/// Where snapshots are kept: <see cref="TraceProfStorageOptions.Provider"/>, read once by
/// <see cref="TraceProfStorageOptions.TryGetProvider"/>. Configuration keeps the words users write.
/// </summary>
internal enum StorageProvider
{
    Sqlite,
    PostgreSql,
}
