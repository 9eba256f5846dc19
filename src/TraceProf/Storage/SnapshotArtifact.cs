namespace TraceProf.Storage;

/// <summary>The files a snapshot can hold.</summary>
public enum SnapshotArtifact
{
    /// <summary>The encoded profile, gzipped <c>profile.proto</c>; the canonical form other formats are made from.</summary>
    Pprof,

    /// <summary>The raw EventPipe capture.</summary>
    Nettrace,
}
