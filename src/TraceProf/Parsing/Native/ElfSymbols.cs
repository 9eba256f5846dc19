using System.Buffers.Binary;

namespace TraceProf.Parsing.Native;

/// <summary>
/// The function symbols of one ELF file (64-bit, little-endian: Linux x64 and arm64), from its <c>.symtab</c> when it
/// has one (not stripped) or else its <c>.dynsym</c> (exported functions), with the file's load segments to turn a file
/// offset into the virtual address symbols are given in. Read once, lazily, by <see cref="NativeSymbols"/>; only the
/// headers, the symbol table and its string table are read, each bounded.
/// </summary>
/// <remarks>
/// API for other engine parts (the perf sampler): do not use this type directly; ask
/// <see cref="NativeSymbols.TryResolve"/>, which finds the module of an address in this process and caches one
/// <see cref="ElfSymbols"/> per module file.
/// </remarks>
internal sealed class ElfSymbols
{
    /// <summary>The largest symbol or string table read (bytes); a larger one leaves the module without symbols.</summary>
    internal const long MaxTableBytes = 64L << 20;

    private const int SymbolSize = 24;
    private const uint SectionSymtab = 2;
    private const uint SectionDynsym = 11;
    private const uint SegmentLoad = 1;
    private const uint SegmentEhFrameHeader = 0x6474E550; // PT_GNU_EH_FRAME: .eh_frame_hdr
    private const byte TypeFunction = 2;
    private const byte TypeIndirectFunction = 10;

    private readonly (ulong Value, ulong Size, uint Name)[] _symbols;
    private readonly byte[] _names;
    private readonly (ulong Offset, ulong VirtualAddress, ulong FileSize)[] _segments;
    private readonly Dictionary<uint, string> _decoded = [];
    private (ulong Start, ulong Size)[] _unwindFunctions = [];

    private ElfSymbols((ulong, ulong, uint)[] symbols, byte[] names, (ulong, ulong, ulong)[] segments)
    {
        _symbols = symbols;
        _names = names;
        _segments = segments;
    }

    /// <summary>Gets the number of function symbols.</summary>
    public int Count => _symbols.Length;

    /// <summary>Gets the starts (virtual addresses) of the functions a stripped file's unwind table knows; empty for a file with <c>.symtab</c>.</summary>
    internal IEnumerable<ulong> UnnamedFunctionStarts => _unwindFunctions.Select(f => f.Start);

    /// <summary>Reads a file's symbols; null when it is not a 64-bit little-endian ELF file or cannot be read.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The symbols, possibly none.</returns>
    public static ElfSymbols? Read(string path)
    {
        try
        {
            using var file = File.OpenHandle(path);
            Span<byte> header = stackalloc byte[64];
            if (RandomAccess.Read(file, header, 0) < 64 || !header[..4].SequenceEqual("\u007fELF"u8) || header[4] != 2 || header[5] != 1)
            {
                return null;
            }

            var segments = ReadSegments(file, header, out var ehFrameHeader);
            var sectionsOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[0x28..]);
            var sectionSize = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3A..]);
            var sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3C..]);
            if (sectionsOffset == 0 || sectionSize < 64 || sectionCount == 0)
            {
                return new ElfSymbols([], [], segments);
            }

            var sections = new byte[sectionSize * sectionCount];
            if (RandomAccess.Read(file, sections, sectionsOffset) < sections.Length)
            {
                return new ElfSymbols([], [], segments);
            }

            // The full table when the file was not stripped, else the exported one.
            var table = FindSection(sections, sectionSize, sectionCount, SectionSymtab) ?? FindSection(sections, sectionSize, sectionCount, SectionDynsym);
            if (table is not { } symtab || symtab.Link >= sectionCount)
            {
                return new ElfSymbols([], [], segments);
            }

            var strtab = Section(sections, sectionSize, (int)symtab.Link);
            if (symtab.Size > MaxTableBytes || strtab.Size > MaxTableBytes)
            {
                return new ElfSymbols([], [], segments);
            }

            var raw = new byte[symtab.Size];
            var names = new byte[strtab.Size];
            if (RandomAccess.Read(file, raw, (long)symtab.Offset) < raw.Length || RandomAccess.Read(file, names, (long)strtab.Offset) < names.Length)
            {
                return new ElfSymbols([], [], segments);
            }

            var symbols = new List<(ulong, ulong, uint)>();
            for (var at = 0; at + SymbolSize <= raw.Length; at += SymbolSize)
            {
                var entry = raw.AsSpan(at, SymbolSize);
                var value = BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]);
                var sectionIndex = BinaryPrimitives.ReadUInt16LittleEndian(entry[6..]);
                if ((entry[4] & 0xF) is TypeFunction or TypeIndirectFunction && value != 0 && sectionIndex != 0)
                {
                    symbols.Add((value, BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]), BinaryPrimitives.ReadUInt32LittleEndian(entry)));
                }
            }

            var sorted = symbols.ToArray();
            Array.Sort(sorted, static (a, b) => a.Item1.CompareTo(b.Item1));
            var result = new ElfSymbols(sorted, names, segments);

            // A stripped file (exports only, as Microsoft ships libcoreclr.so) still knows where each function starts
            // and ends: its unwind table.
            if (symtab.Type == SectionDynsym && ehFrameHeader is { } eh)
            {
                result._unwindFunctions = ReadUnwindFunctions(file, eh, segments);
            }

            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The virtual address (as symbols give it) of a byte at <paramref name="fileOffset"/> of the file, or false.</summary>
    public bool TryVirtualAddress(ulong fileOffset, out ulong address)
    {
        foreach (var (offset, virtualAddress, size) in _segments)
        {
            if (fileOffset - offset < size)
            {
                address = virtualAddress + (fileOffset - offset);
                return true;
            }
        }

        address = 0;
        return false;
    }

    /// <summary>
    /// The function of a stripped file that holds a virtual address, from the file's unwind table
    /// (<c>.eh_frame_hdr</c>'s sorted function starts and each FDE's range): the function has no name, but its start
    /// is the same for every address in it, so samples in one function group as one frame.
    /// </summary>
    /// <param name="address">The virtual address.</param>
    /// <param name="start">The function's start (a virtual address).</param>
    /// <returns>False when the file has symbols (<see cref="TryFind"/> names its functions), no unwind table, or no function covers it.</returns>
    public bool TryFindUnnamedFunction(ulong address, out ulong start)
    {
        var functions = _unwindFunctions;
        var low = 0;
        var high = functions.Length - 1;
        var found = -1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (functions[mid].Start <= address)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        if (found >= 0 && address - functions[found].Start < functions[found].Size)
        {
            start = functions[found].Start;
            return true;
        }

        start = 0;
        return false;
    }

    /// <summary>The function that holds a virtual address: its name and the address's offset in it, or false.</summary>
    public bool TryFind(ulong address, out string name, out ulong offset)
    {
        var low = 0;
        var high = _symbols.Length - 1;
        var found = -1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (_symbols[mid].Value <= address)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        // Several symbols may start at one address (aliases); any that covers it names it. A symbol of size 0 (hand-
        // written assembly often has no size) covers up to the next symbol.
        for (var i = found; i >= 0 && _symbols[i].Value == _symbols[found].Value; i--)
        {
            var (value, size, nameOffset) = _symbols[i];
            var covers = size > 0 ? address - value < size : i + 1 >= _symbols.Length || address < _symbols[i + 1].Value;
            if (covers)
            {
                name = Name(nameOffset);
                offset = address - value;
                return true;
            }
        }

        name = "";
        offset = 0;
        return false;
    }

    private string Name(uint offset)
    {
        lock (_decoded)
        {
            if (!_decoded.TryGetValue(offset, out var name))
            {
                var rest = offset < _names.Length ? _names.AsSpan((int)offset) : [];
                var end = rest.IndexOf((byte)0);
                name = System.Text.Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
                _decoded[offset] = name;
            }

            return name;
        }
    }

    // .eh_frame_hdr (version 1) with a table of (function start, FDE address) pairs, 4-byte signed and relative to the
    // header (DW_EH_PE_datarel | DW_EH_PE_sdata4, what GNU ld and lld write); each FDE's range is read from the FDE
    // (length, CIE pointer, start, size) when its start is written pc-relative in 4 bytes as well — checked against the
    // table's start, so an FDE in another encoding is left out rather than misread. Bounded by MaxTableBytes.
    private static (ulong, ulong)[] ReadUnwindFunctions(Microsoft.Win32.SafeHandles.SafeFileHandle file, (ulong Offset, ulong VirtualAddress, ulong Size) eh, (ulong, ulong, ulong)[] segments)
    {
        if (eh.Size < 12 || eh.Size > MaxTableBytes)
        {
            return [];
        }

        var table = new byte[eh.Size];
        if (RandomAccess.Read(file, table, (long)eh.Offset) < table.Length || table[0] != 1 || (table[1] & 0x0F) is not (0x03 or 0x0B) || table[2] != 0x03 || table[3] != 0x3B)
        {
            return [];
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(8));
        if (count == 0 || 12 + (8UL * count) > (ulong)table.Length)
        {
            return [];
        }

        var pairs = new (ulong Start, ulong Fde)[count];
        ulong lowest = ulong.MaxValue, highest = 0;
        for (var i = 0; i < count; i++)
        {
            var entry = table.AsSpan(12 + (8 * i));
            pairs[i] = (eh.VirtualAddress + (ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(entry), eh.VirtualAddress + (ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(entry[4..]));
            lowest = Math.Min(lowest, pairs[i].Fde);
            highest = Math.Max(highest, pairs[i].Fde);
        }

        // The FDEs, read at once: they lie together in .eh_frame.
        var segment = Array.FindIndex(segments, s => lowest - s.Item2 < s.Item3);
        if (segment < 0 || highest - lowest + 16 > (ulong)MaxTableBytes || highest + 16 - segments[segment].Item2 > segments[segment].Item3)
        {
            return [];
        }

        var frames = new byte[highest - lowest + 16];
        if (RandomAccess.Read(file, frames, (long)(lowest - segments[segment].Item2 + segments[segment].Item1)) < frames.Length)
        {
            return [];
        }

        var functions = new List<(ulong, ulong)>(pairs.Length);
        foreach (var (start, fde) in pairs)
        {
            var at = frames.AsSpan((int)(fde - lowest), 16);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(at);
            var startField = fde + 8;
            if (length is < 12 or 0xFFFF_FFFF || startField + (ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(at[8..]) != start)
            {
                continue;
            }

            functions.Add((start, BinaryPrimitives.ReadUInt32LittleEndian(at[12..])));
        }

        var sorted = functions.ToArray();
        Array.Sort(sorted, static (a, b) => a.Item1.CompareTo(b.Item1));
        return sorted;
    }

    private static (ulong, ulong, ulong)[] ReadSegments(Microsoft.Win32.SafeHandles.SafeFileHandle file, ReadOnlySpan<byte> header, out (ulong Offset, ulong VirtualAddress, ulong Size)? ehFrameHeader)
    {
        ehFrameHeader = null;
        var offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[0x20..]);
        var size = BinaryPrimitives.ReadUInt16LittleEndian(header[0x36..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(header[0x38..]);
        if (offset == 0 || size < 56 || count == 0)
        {
            return [];
        }

        var table = new byte[size * count];
        if (RandomAccess.Read(file, table, offset) < table.Length)
        {
            return [];
        }

        var segments = new List<(ulong, ulong, ulong)>();
        for (var i = 0; i < count; i++)
        {
            var entry = table.AsSpan(i * size, size);
            if (BinaryPrimitives.ReadUInt32LittleEndian(entry) == SegmentEhFrameHeader)
            {
                ehFrameHeader = (BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]), BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]), BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]));
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(entry) == SegmentLoad)
            {
                segments.Add((BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]), BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]), BinaryPrimitives.ReadUInt64LittleEndian(entry[32..])));
            }
        }

        return [.. segments];
    }

    private static SectionHeader? FindSection(byte[] sections, int size, int count, uint type)
    {
        for (var i = 0; i < count; i++)
        {
            var section = Section(sections, size, i);
            if (section.Type == type && section.Size > 0)
            {
                return section;
            }
        }

        return null;
    }

    private static SectionHeader Section(byte[] sections, int size, int index)
    {
        var entry = sections.AsSpan(index * size, size);
        return new SectionHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(entry[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]),
            BinaryPrimitives.ReadUInt32LittleEndian(entry[40..]));
    }

    private readonly record struct SectionHeader(uint Type, ulong Offset, ulong Size, uint Link);
}
