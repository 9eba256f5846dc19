using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace TraceProf.Storage;

/// <summary>
/// The artifact folder of the SQLite store: <c>&lt;id&gt;.pb.gz</c> and <c>&lt;id&gt;.nettrace</c>, written through
/// <c>&lt;final name&gt;.&lt;random&gt;.tmp</c> so that a final name never refers to a half-copied file.
/// </summary>
internal sealed class SnapshotBlobs(string folder, ILogger logger)
{
    public const string TempSuffix = ".tmp";
    private const string PprofSuffix = ".pb.gz";
    private const string NettraceSuffix = ".nettrace";

    /// <summary>Gets the folder's full path.</summary>
    public string Folder { get; } = folder;

    /// <summary>The final path of an artifact.</summary>
    public string PathOf(string id, SnapshotArtifact artifact) => Path.Combine(this.Folder, id + Suffix(artifact));

    /// <summary>A fresh temporary name next to <paramref name="final"/>, which the start-up sweep recognises.</summary>
    public static string TempNameFor(string final) => final + "." + Guid.NewGuid().ToString("N")[..8] + TempSuffix;

    /// <summary>Recognises a final artifact name (<c>&lt;32 hex&gt;.pb.gz</c> or <c>&lt;32 hex&gt;.nettrace</c>).</summary>
    public static bool TryParseName(string name, [NotNullWhen(true)] out string? id, out SnapshotArtifact artifact)
    {
        foreach (SnapshotArtifact candidate in (ReadOnlySpan<SnapshotArtifact>)[SnapshotArtifact.Pprof, SnapshotArtifact.Nettrace])
        {
            string suffix = Suffix(candidate);
            if (name.Length == SnapshotIds.Length + suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal))
            {
                string prefix = name[..SnapshotIds.Length];
                if (SnapshotIds.IsValid(prefix))
                {
                    id = prefix;
                    artifact = candidate;
                    return true;
                }
            }
        }

        id = null;
        artifact = default;
        return false;
    }

    /// <summary>Deletes both artifacts of a snapshot, best effort.</summary>
    public void DeleteArtifacts(string id)
    {
        this.TryDelete(this.PathOf(id, SnapshotArtifact.Pprof));
        this.TryDelete(this.PathOf(id, SnapshotArtifact.Nettrace));
    }

    /// <summary>Deletes a file if it exists; a failure is logged (the next open removes it) and returns false.</summary>
    public bool TryDelete(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            StorageLog.FileDeleteFailed(logger, ex, path);
            return false;
        }
    }

    private static string Suffix(SnapshotArtifact artifact) => artifact switch
    {
        SnapshotArtifact.Pprof => PprofSuffix,
        SnapshotArtifact.Nettrace => NettraceSuffix,
        _ => throw new ArgumentOutOfRangeException(nameof(artifact), artifact, "Unknown artifact."),
    };
}
