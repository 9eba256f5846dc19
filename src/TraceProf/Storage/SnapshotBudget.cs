using System.Globalization;

namespace TraceProf.Storage;

/// <summary>
/// What of a snapshot a store keeps under its byte limit, the same for every store: everything when it fits; the
/// profile without the raw trace when only the profile fits (the reason goes on the row, so a download of the
/// nettrace can say why it is missing); nothing when even the profile does not fit.
/// </summary>
/// <remarks>
/// A raw trace is 3–5 MB per second-scale capture and its profile a few KB; refusing both under a small quota
/// would lose the part the user wants most.
/// </remarks>
internal static class SnapshotBudget
{
    /// <summary>Measures the files and decides.</summary>
    /// <exception cref="SnapshotTooLargeException">Even the profile alone exceeds <paramref name="maxTotalBytes"/>.</exception>
    /// <exception cref="FileNotFoundException">A caller's file is gone.</exception>
    public static FittedSnapshot Fit(SnapshotInfo info, IReadOnlyDictionary<SnapshotArtifact, string> artifacts, long maxTotalBytes)
    {
        long? profileBytes = null;
        long? nettraceBytes = null;
        foreach ((SnapshotArtifact artifact, string path) in artifacts)
        {
            long length = new FileInfo(path).Length;
            if (artifact == SnapshotArtifact.Pprof)
            {
                profileBytes = length;
            }
            else
            {
                nettraceBytes = length;
            }
        }

        long total = (profileBytes ?? 0) + (nettraceBytes ?? 0);
        if (total <= maxTotalBytes)
        {
            return new FittedSnapshot(info, new Dictionary<SnapshotArtifact, string>(artifacts), profileBytes, nettraceBytes, LeftOutPath: null);
        }

        if (profileBytes is { } profile && nettraceBytes is { } nettrace && profile <= maxTotalBytes)
        {
            string reason = string.Create(
                CultureInfo.InvariantCulture,
                $"The raw trace ({nettrace} bytes) was not stored: with the profile ({profile} bytes) it is more than the store may hold in all (MaxTotalBytes {maxTotalBytes}), so only the profile was kept.");
            return new FittedSnapshot(
                info with { NettraceOmitted = reason },
                new Dictionary<SnapshotArtifact, string> { [SnapshotArtifact.Pprof] = artifacts[SnapshotArtifact.Pprof] },
                profileBytes,
                NettraceBytes: null,
                LeftOutPath: artifacts[SnapshotArtifact.Nettrace]);
        }

        throw SnapshotSql.TooLarge(total, maxTotalBytes);
    }
}

/// <summary>The part of a snapshot a store keeps.</summary>
/// <param name="Info">The row to write (with <see cref="SnapshotInfo.NettraceOmitted"/> when the raw trace was left out).</param>
/// <param name="Artifacts">The files to store.</param>
/// <param name="ProfileBytes">The pprof's size, or null when there is none.</param>
/// <param name="NettraceBytes">The stored nettrace's size, or null when none is stored.</param>
/// <param name="LeftOutPath">The caller's nettrace file that is not stored (the store deletes it), or null.</param>
internal sealed record FittedSnapshot(
    SnapshotInfo Info,
    Dictionary<SnapshotArtifact, string> Artifacts,
    long? ProfileBytes,
    long? NettraceBytes,
    string? LeftOutPath);
