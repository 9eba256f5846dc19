using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace TraceProf.Parsing.Lines;

/// <summary>
/// Source lines of managed code from portable PDBs: (module file, method token, IL offset) → (source file, line),
/// through the method's sequence points (<c>System.Reflection.Metadata</c>). The PDB is the one next to the assembly
/// or embedded in it (<see cref="PEReader.TryOpenAssociatedPortablePdb"/>, which checks the assembly's debug directory
/// names it), and, when the runtime's module event gave the PDB id, it must be that id — a rebuilt file on disk gives no
/// lines rather than wrong ones. A module without a PDB gives none (names only).
/// </summary>
/// <remarks>
/// One cache for the process (<see cref="Shared"/>): PDBs are read whole into memory once (the file is not held open),
/// sequence points decoded once per method. Bounded: at most <see cref="MaxPdbs"/> PDBs and <see cref="MaxPdbBytes"/>
/// bytes of them, a PDB larger than <see cref="MaxPdbFileBytes"/> is not read, and the decoded methods are dropped
/// when they pass <see cref="MaxMethods"/>. Thread-safe.
/// </remarks>
internal sealed class SourceLines
{
    internal const int MaxPdbs = 256;
    internal const long MaxPdbBytes = 256L << 20;
    internal const long MaxPdbFileBytes = 64L << 20;
    internal const int MaxMethods = 100_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Path, Guid Id), Pdb?> _pdbs = [];
    private long _pdbBytes;
    private int _methods;

    /// <summary>Gets the process's cache.</summary>
    public static SourceLines Shared { get; } = new();

    /// <summary>Gets the number of PDBs read so far.</summary>
    public int PdbCount
    {
        get
        {
            lock (_lock)
            {
                return _pdbs.Values.Count(p => p is not null);
            }
        }
    }

    /// <summary>The source line of an IL offset of a method, or false (no PDB, no sequence point, hidden code only).</summary>
    /// <param name="modulePath">The assembly's file as the runtime loaded it.</param>
    /// <param name="pdbId">The PDB id the runtime read from the assembly; <see cref="Guid.Empty"/> when unknown.</param>
    /// <param name="methodToken">The method's metadata token (<c>0x06……</c>).</param>
    /// <param name="ilOffset">The IL offset; <see cref="int.MaxValue"/> for the method's end.</param>
    /// <param name="file">The source file as the PDB names it.</param>
    /// <param name="line">The 1-based line.</param>
    /// <returns>Whether a line was found.</returns>
    public bool TryFind(string modulePath, Guid pdbId, int methodToken, int ilOffset, out string file, out int line)
    {
        file = "";
        line = 0;
        if (modulePath.Length == 0 || ilOffset < 0 || (methodToken >>> 24) != 0x06)
        {
            return false;
        }

        lock (_lock)
        {
            ref var pdb = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_pdbs, (modulePath, pdbId), out var known);
            if (!known)
            {
                pdb = _pdbs.Count > MaxPdbs || _pdbBytes > MaxPdbBytes ? null : Open(modulePath, pdbId);
                _pdbBytes += pdb?.Bytes ?? 0;
            }

            if (pdb is null)
            {
                return false;
            }

            var points = pdb.Points(methodToken, ref _methods, this);
            if (points.Length == 0)
            {
                return false;
            }

            var found = Find(points, ilOffset);
            if (found < 0)
            {
                return false;
            }

            file = points[found].File;
            line = points[found].Line;
            return true;
        }
    }

    // The last visible sequence point at or before the offset; before the first one, the first one.
    private static int Find(SourcePoint[] points, int ilOffset)
    {
        var low = 0;
        var high = points.Length - 1;
        var found = -1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (points[mid].ILOffset <= ilOffset)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return Math.Max(found, 0);
    }

    private void DropMethods()
    {
        foreach (var pdb in _pdbs.Values)
        {
            pdb?.Clear();
        }

        _methods = 0;
    }

    private static Pdb? Open(string modulePath, Guid pdbId)
    {
        try
        {
            if (!File.Exists(modulePath))
            {
                return null;
            }

            long bytes = 0;
            using var stream = File.OpenRead(modulePath);
            using var pe = new PEReader(stream);
            if (!pe.TryOpenAssociatedPortablePdb(modulePath, path =>
                {
                    var info = new FileInfo(path);
                    if (!info.Exists || info.Length > MaxPdbFileBytes)
                    {
                        return null;
                    }

                    bytes = info.Length;
                    return new MemoryStream(File.ReadAllBytes(path), writable: false);
                }, out var provider, out _) || provider is null)
            {
                return null;
            }

            var reader = provider.GetMetadataReader();
            if (pdbId != Guid.Empty && reader.DebugMetadataHeader is { } header && new BlobContentId(header.Id).Guid != pdbId)
            {
                provider.Dispose();
                return null; // the file on disk is not the build that ran
            }

            return new Pdb(provider, reader, Math.Max(bytes, reader.MetadataLength));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or BadImageFormatException or InvalidOperationException or ArgumentException)
        {
            return null; // names only
        }
    }

    private readonly record struct SourcePoint(int ILOffset, int Line, string File);

    private sealed class Pdb(MetadataReaderProvider provider, MetadataReader reader, long bytes)
    {
        private readonly Dictionary<int, SourcePoint[]> _byToken = [];
        private readonly Dictionary<DocumentHandle, string> _documents = [];

        public long Bytes { get; } = bytes;

        public void Clear() => _byToken.Clear();

        public SourcePoint[] Points(int token, ref int cachedMethods, SourceLines owner)
        {
            if (_byToken.TryGetValue(token, out var known))
            {
                return known;
            }

            if (cachedMethods >= MaxMethods)
            {
                owner.DropMethods();
            }

            SourcePoint[] points;
            try
            {
                var handle = MetadataTokens.MethodDefinitionHandle(token & 0xFF_FFFF);
                var rows = reader.GetTableRowCount(TableIndex.MethodDebugInformation);
                if (MetadataTokens.GetRowNumber(handle) > rows)
                {
                    points = [];
                }
                else
                {
                    var list = new List<SourcePoint>();
                    foreach (var point in reader.GetMethodDebugInformation(handle).GetSequencePoints())
                    {
                        if (!point.IsHidden)
                        {
                            list.Add(new SourcePoint(point.Offset, point.StartLine, Document(point.Document)));
                        }
                    }

                    points = [.. list];
                }
            }
            catch (BadImageFormatException)
            {
                points = [];
            }

            _byToken[token] = points;
            cachedMethods++;
            return points;
        }

        private string Document(DocumentHandle handle)
        {
            if (!_documents.TryGetValue(handle, out var name))
            {
                name = reader.GetString(reader.GetDocument(handle).Name);
                _documents[handle] = name;
            }

            return name;
        }

        // The provider owns the PDB's bytes; it lives as long as the process's cache.
        internal MetadataReaderProvider Provider { get; } = provider;
    }
}
