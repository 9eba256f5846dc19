using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text;

namespace TraceProf.Parsing.Native;

/// <summary>
/// The precompiled (ready-to-run) methods of one managed PE image, read from the image itself: which method's main
/// body covers a relative virtual address, named from the image's metadata the way the runtime's method events name a
/// method (<c>Interop+Sys.WaitForSocketEvents(native int,value class SocketEvent*,int32*)</c>).
/// </summary>
/// <remarks>
/// <para><b>Why from the image, and why by hand.</b> Every method the runtime loads code for is named by an event
/// (MethodLoad, the rundown's MethodDCEnd, whose NGen keyword enumerates the ready-to-run methods that have a
/// MethodDesc and current native code) — except code the runtime does not attach to a method: the precompiled
/// P/Invoke stubs of blittable <c>[DllImport]</c>s (the sample's socket engine sits in
/// <c>Interop+Sys.WaitForSocketEvents</c>, 2.7–5.6 % of its CPU), whose MethodDesc reports no native code, so the
/// rundown skips them (seen in .NET 10 captures: the rundown names 297 methods of <c>System.Net.Sockets</c>, not this
/// one). The runtime's <c>R2RGetEntryPoint</c> event (CompilationDiagnostic keyword) does name them, but only when the
/// entry point is looked up while a session runs — once, at the process's start — so neither an on-demand capture nor
/// a recorder started later sees it (measured on the sample: 4 such events in 10 s). The image's own tables do: its
/// ready-to-run header (<c>IMAGE_COR20_HEADER.ManagedNativeHeader</c>) lists the <c>RuntimeFunctions</c> section (the
/// code ranges) and the <c>MethodDefEntryPoints</c> section (method token → index of the method's first range). No
/// served library reads these (the runtime's R2RDump reader is not published as a package), so this file does, with
/// <see cref="PEReader"/> for the PE and metadata; the entry-point table is in the runtime's "native format"
/// (variable-length unsigned integers and a sparse array of 16-entry blocks walked as a binary tree), as
/// <c>src/coreclr/vm/nativeformatreader.h</c> in dotnet/runtime describes it.</para>
/// <para><b>What is named, and what is not.</b> Only an address in a range that is some method's entry range (its main
/// body) gets that method's name. Funclets (exception handlers, placed after their method's body) and generic
/// instantiations (in the <c>InstanceEntryPoints</c> hash table, keyed by signature) stay unnamed rather than be given
/// the name of the method before them. Composite images and their components (one file naming another's code) are not
/// read.</para>
/// <para>Cost: one pass over the entry-point table when the first address in the image is named (<c>System.Private.CoreLib</c>:
/// ~18 ms and 1.4 MB allocated on a busy 2-core machine, <c>NativeNamesBenchmarks</c>), kept as one sorted array of
/// 12 bytes a precompiled method; names are decoded on demand and kept. Callers cache one instance per file
/// (<see cref="NativeSymbols"/>), which keeps the file open (memory-mapped) for the process's lifetime.</para>
/// </remarks>
internal sealed class ReadyToRunMethods : IDisposable
{
    private const uint Signature = 0x00525452; // "RTR"
    private const uint FlagComponent = 0x20;
    private const uint SectionRuntimeFunctions = 102;
    private const uint SectionMethodDefEntryPoints = 103;
    private const int BlockSize = 16;

    // Crossgen2 writes the machine XOR-ed with a per-OS value (Windows 0, Linux 0x7B79, macOS 0x4644, FreeBSD 0xADC4, NetBSD 0x1993).
    private static readonly ushort[] OsMachineOverrides = [0, 0x7B79, 0x4644, 0xADC4, 0x1993];

    private readonly PEReader _pe;
    private readonly (uint Start, uint End, int Token)[] _bodies;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, string> _names = [];

    private ReadyToRunMethods(PEReader pe, (uint, uint, int)[] bodies)
    {
        _pe = pe;
        _bodies = bodies;
    }

    /// <summary>Gets the number of method bodies the image precompiles (those with a method definition entry).</summary>
    public int Count => _bodies.Length;

    /// <summary>Reads a file's ready-to-run method table; null when it is not a (non-composite) ready-to-run image or cannot be read.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The table.</returns>
    public static ReadyToRunMethods? Read(string path)
    {
        PEReader? pe = null;
        try
        {
            pe = new PEReader(File.OpenRead(path));
            var bodies = ReadBodies(pe);
            if (bodies is null)
            {
                pe.Dispose();
                return null;
            }

            return new ReadyToRunMethods(pe, bodies);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or BadImageFormatException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            pe?.Dispose();
            return null;
        }
    }

    /// <summary>Turns an offset in the file into the relative virtual address the image's tables use.</summary>
    /// <param name="fileOffset">The offset in the file.</param>
    /// <param name="rva">The address relative to the image's base.</param>
    /// <returns>False when no section holds the offset.</returns>
    public bool TryRelativeAddress(ulong fileOffset, out uint rva)
    {
        foreach (var section in _pe.PEHeaders.SectionHeaders)
        {
            if (fileOffset >= (ulong)section.PointerToRawData && fileOffset - (ulong)section.PointerToRawData < (ulong)section.SizeOfRawData)
            {
                rva = (uint)(fileOffset - (ulong)section.PointerToRawData + (ulong)section.VirtualAddress);
                return true;
            }
        }

        rva = 0;
        return false;
    }

    /// <summary>The method whose main body covers <paramref name="rva"/>: its runtime-style name and token.</summary>
    /// <param name="rva">An address relative to the image's base.</param>
    /// <param name="name">The name, <c>Namespace.Type+Nested.Method(parameters)</c>.</param>
    /// <param name="token">The method definition token.</param>
    /// <returns>False when no method body covers it (other code, a funclet, a generic instantiation).</returns>
    public bool TryFind(uint rva, out string name, out int token)
    {
        var bodies = _bodies;
        var low = 0;
        var high = bodies.Length - 1;
        var found = -1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (bodies[mid].Start <= rva)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        if (found < 0 || rva >= bodies[found].End)
        {
            name = "";
            token = 0;
            return false;
        }

        token = bodies[found].Token;
        name = NameOf(token);
        return true;
    }

    /// <summary>The main body's range of a method, for tests and tools.</summary>
    /// <param name="token">The method definition token.</param>
    /// <param name="start">The body's first address, relative to the image's base.</param>
    /// <param name="end">One past its last.</param>
    /// <returns>False when the image has no precompiled body for it.</returns>
    public bool TryGetBody(int token, out uint start, out uint end)
    {
        foreach (var body in _bodies)
        {
            if (body.Token == token)
            {
                (start, end) = (body.Start, body.End);
                return true;
            }
        }

        (start, end) = (0, 0);
        return false;
    }

    /// <inheritdoc />
    public void Dispose() => _pe.Dispose();

    private string NameOf(int token)
    {
        lock (_lock)
        {
            if (!_names.TryGetValue(token, out var name))
            {
                try
                {
                    name = RuntimeMethodNames.Of(_pe.GetMetadataReader(), (MethodDefinitionHandle)MetadataTokens.EntityHandle(token));
                }
                catch (BadImageFormatException)
                {
                    name = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"method 0x{token:x8}");
                }

                _names[token] = name;
            }

            return name;
        }
    }

    // Method bodies by start: (start, end, token) of each method definition's entry range.
    private static (uint, uint, int)[]? ReadBodies(PEReader pe)
    {
        var headers = pe.PEHeaders;
        if (headers.CorHeader is not { ManagedNativeHeaderDirectory: { Size: > 0 } header } || !pe.HasMetadata)
        {
            return null;
        }

        var image = new ImageBytes(pe);
        if (image.UInt32((uint)header.RelativeVirtualAddress) != Signature)
        {
            return null;
        }

        var flags = image.UInt32((uint)header.RelativeVirtualAddress + 8);
        if ((flags & FlagComponent) != 0)
        {
            return null;
        }

        var sectionCount = image.UInt32((uint)header.RelativeVirtualAddress + 12);
        uint functions = 0, functionsSize = 0, entryPoints = 0;
        for (var i = 0; i < sectionCount && i < 64; i++)
        {
            var at = (uint)(header.RelativeVirtualAddress + 16 + (12 * i));
            switch (image.UInt32(at))
            {
                case SectionRuntimeFunctions:
                    functions = image.UInt32(at + 4);
                    functionsSize = image.UInt32(at + 8);
                    break;
                case SectionMethodDefEntryPoints:
                    entryPoints = image.UInt32(at + 4);
                    break;
            }
        }

        // A RUNTIME_FUNCTION: begin, end, unwind on x64 (12 bytes); begin, unwind on arm64 (8 bytes, the end is in the
        // unwind data: the next range's start bounds it here).
        var machine = (ushort)headers.CoffHeader.Machine;
        var entrySize = Array.Exists(OsMachineOverrides, o => (machine ^ o) == 0x8664) ? 12
            : Array.Exists(OsMachineOverrides, o => (machine ^ o) == 0xAA64) ? 8 : 0;
        if (functions == 0 || entryPoints == 0 || entrySize == 0)
        {
            return null;
        }

        var functionCount = (int)(functionsSize / entrySize);
        var bodies = new List<(uint, uint, int)>();
        var methodCount = pe.GetMetadataReader().MethodDefinitions.Count;
        var array = new NativeArray(image, entryPoints);
        for (var rid = 1; rid <= methodCount; rid++)
        {
            if (!array.TryGetAt((uint)(rid - 1), out var offset))
            {
                continue;
            }

            // The entry: the index of the method's first range, shifted left by 1 (bit 0 clear), or by 2 with bit 0 set
            // when fix-ups follow (bit 1: they are at a back-reference).
            image.DecodeUnsigned(offset, out var id);
            var index = (id & 1) != 0 ? id >> 2 : id >> 1;
            if (index >= functionCount)
            {
                continue;
            }

            var at = functions + (index * (uint)entrySize);
            var start = image.UInt32(at);
            var end = entrySize == 12 ? image.UInt32(at + 4) : index + 1 < functionCount ? image.UInt32(at + (uint)entrySize) : start + 1;
            bodies.Add((start, end, MetadataTokens.GetToken(MetadataTokens.MethodDefinitionHandle(rid))));
        }

        var sorted = bodies.ToArray();
        Array.Sort(sorted, static (a, b) => a.Item1.CompareTo(b.Item1));
        return sorted;
    }

    // Reads the image by relative virtual address, as the runtime's tables address it.
    private sealed class ImageBytes(PEReader pe)
    {
        private readonly ImmutableArray<SectionHeader> _sections = pe.PEHeaders.SectionHeaders;
        private BlobReader _reader;
        private int _blockStart = -1;
        private int _blockLength;

        public byte Byte(uint rva)
        {
            At(rva, 1);
            return _reader.ReadByte();
        }

        public uint UInt32(uint rva)
        {
            At(rva, 4);
            return _reader.ReadUInt32();
        }

        public ushort UInt16(uint rva)
        {
            At(rva, 2);
            return _reader.ReadUInt16();
        }

        // The runtime's variable-length unsigned integer: the low bits of the first byte say how many bytes follow.
        public uint DecodeUnsigned(uint rva, out uint value)
        {
            var first = Byte(rva);
            if ((first & 1) == 0)
            {
                value = (uint)first >> 1;
                return rva + 1;
            }

            if ((first & 2) == 0)
            {
                value = ((uint)first >> 2) | ((uint)Byte(rva + 1) << 6);
                return rva + 2;
            }

            if ((first & 4) == 0)
            {
                value = ((uint)first >> 3) | ((uint)Byte(rva + 1) << 5) | ((uint)Byte(rva + 2) << 13);
                return rva + 3;
            }

            if ((first & 8) == 0)
            {
                value = ((uint)first >> 4) | ((uint)Byte(rva + 1) << 4) | ((uint)Byte(rva + 2) << 12) | ((uint)Byte(rva + 3) << 20);
                return rva + 4;
            }

            if ((first & 16) == 0)
            {
                value = UInt32(rva + 1);
                return rva + 5;
            }

            throw new BadImageFormatException("A ready-to-run integer has an unknown length.");
        }

        // Positions the reader at rva, in the section that holds it (tables may point into another section).
        private void At(uint rva, int length)
        {
            if (_blockStart < 0 || rva < (uint)_blockStart || rva - (uint)_blockStart + (uint)length > (uint)_blockLength)
            {
                var section = -1;
                for (var i = 0; i < _sections.Length; i++)
                {
                    if (rva >= (uint)_sections[i].VirtualAddress && rva - (uint)_sections[i].VirtualAddress < (uint)Math.Max(_sections[i].VirtualSize, _sections[i].SizeOfRawData))
                    {
                        section = i;
                        break;
                    }
                }

                if (section < 0)
                {
                    throw new BadImageFormatException("A ready-to-run table points outside the image's sections.");
                }

                _blockStart = _sections[section].VirtualAddress;
                _reader = pe.GetSectionData(_blockStart).GetReader();
                _blockLength = _reader.Length;
                if (rva - (uint)_blockStart + (uint)length > (uint)_blockLength)
                {
                    throw new BadImageFormatException("A ready-to-run table runs past its section's data.");
                }
            }

            _reader.Offset = (int)(rva - (uint)_blockStart);
        }
    }

    // The runtime's sparse array: a header (count << 2 | size of the block offsets), one offset per block of 16
    // entries, and in each block a binary tree whose nodes say whether the lower and/or upper half follow.
    private readonly struct NativeArray
    {
        private readonly ImageBytes _image;
        private readonly uint _base;
        private readonly uint _count;
        private readonly uint _offsetSize;

        public NativeArray(ImageBytes image, uint rva)
        {
            _image = image;
            _base = image.DecodeUnsigned(rva, out var header);
            _count = header >> 2;
            _offsetSize = header & 3;
        }

        public bool TryGetAt(uint index, out uint rva)
        {
            rva = 0;
            if (index >= _count)
            {
                return false;
            }

            var block = index / BlockSize;
            var offset = _offsetSize switch
            {
                0 => _image.Byte(_base + block),
                1 => _image.UInt16(_base + (2 * block)),
                _ => _image.UInt32(_base + (4 * block)),
            };
            var node = _base + offset;
            for (var bit = BlockSize >> 1; bit > 0; bit >>= 1)
            {
                var next = _image.DecodeUnsigned(node, out var value);
                if ((index & bit) != 0 && (value & 2) != 0)
                {
                    node += value >> 2;
                    continue;
                }

                if ((index & bit) == 0 && (value & 1) != 0)
                {
                    node = next;
                    continue;
                }

                // A leaf that holds one entry of the block, or nothing here.
                if ((value & 3) == 0 && (value >> 2) == (index & (BlockSize - 1)))
                {
                    rva = next;
                    return true;
                }

                return false;
            }

            rva = node;
            return true;
        }
    }
}
