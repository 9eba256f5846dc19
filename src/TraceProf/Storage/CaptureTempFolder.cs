using Microsoft.Extensions.Logging;

namespace TraceProf.Storage;

/// <summary>
/// The folder where captures in progress write (<c>&lt;id&gt;.nettrace.tmp</c>, <c>&lt;id&gt;.pb.gz.tmp</c>, their
/// per-attempt copies <c>….tmp.&lt;n&gt;</c>, TraceEvent's <c>.etlx</c>). A crash mid-capture leaves its files here:
/// the store's open sweeps the ones older than <see cref="Grace"/>, and the SQLite store counts what remains
/// toward its byte limit, since it is disk the store's folder takes.
/// </summary>
/// <remarks>
/// A file written in the last minutes may be another process's capture in flight (several services may share a
/// folder), so only older ones are deleted. A capture in progress keeps its file's write time fresh, and none runs
/// for as long as the grace.
/// </remarks>
internal sealed class CaptureTempFolder(string path, ILogger logger)
{
    /// <summary>How old a leftover must be before it is deleted.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The folder captures should write to: <paramref name="preferred"/> when it can be created, otherwise (a
    /// read-only store folder) one under the system temp folder named after it, so captures still run while the
    /// store cannot be written. The same input gives the same answer.
    /// </summary>
    public static string Choose(string preferred)
    {
        try
        {
            Directory.CreateDirectory(preferred);
            return preferred;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string name = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(System.IO.Path.GetFullPath(preferred))))[..16];
            string fallback = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "traceprof-captures-" + name);
            Directory.CreateDirectory(fallback);
            return fallback;
        }
    }

    /// <summary>Gets the folder.</summary>
    public string Path { get; } = path;

    /// <summary>Deletes our leftovers older than <see cref="Grace"/>; other files are left alone.</summary>
    /// <returns>How many were deleted.</returns>
    public int Sweep(DateTimeOffset now)
    {
        int deleted = 0;
        DateTime cutoff = now.UtcDateTime - Grace;
        foreach (FileInfo file in this.Files())
        {
            try
            {
                if (file.LastWriteTimeUtc < cutoff)
                {
                    file.Delete();
                    deleted++;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                StorageLog.FileDeleteFailed(logger, ex, file.FullName);
            }
        }

        if (deleted > 0)
        {
            StorageLog.TempFilesSwept(logger, deleted, this.Path);
        }

        return deleted;
    }

    /// <summary>The bytes our files take, except those of the snapshot being stored (its originals are still here).</summary>
    public long Bytes(string? exceptSnapshotId)
    {
        long total = 0;
        foreach (FileInfo file in this.Files())
        {
            if (exceptSnapshotId is null || !file.Name.StartsWith(exceptSnapshotId, StringComparison.Ordinal))
            {
                try
                {
                    total += file.Length;
                }
                catch (FileNotFoundException)
                {
                    // finished and deleted while we looked
                }
            }
        }

        return total;
    }

    private static bool IsOurs(string name) =>
        name.EndsWith(".tmp", StringComparison.Ordinal) ||
        name.Contains(".tmp.", StringComparison.Ordinal) ||
        name.EndsWith(".etlx", StringComparison.Ordinal);

    private IEnumerable<FileInfo> Files()
    {
        if (!Directory.Exists(this.Path))
        {
            return [];
        }

        try
        {
            return new DirectoryInfo(this.Path).GetFiles().Where(f => IsOurs(f.Name));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
