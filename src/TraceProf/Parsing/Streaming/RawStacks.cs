using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace TraceProf.Parsing.Streaming;

/// <summary>
/// Distinct stacks of raw instruction pointers, leaf first, stored end to end in one array. The writer gives a
/// stack a new id after every sequence point, so interning by content keeps one copy per distinct stack.
/// </summary>
internal sealed class RawStacks
{
    private readonly List<(int Offset, int Length)> _stacks = [];
    private readonly Dictionary<Entry, int> _ids;
    private ulong[] _addresses = new ulong[4096];
    private int _used;

    public RawStacks()
    {
        _ids = new Dictionary<Entry, int>(new EntryComparer(this));
        Empty = Intern([], 8);
    }

    /// <summary>Gets the index of the empty stack.</summary>
    public int Empty { get; }

    /// <summary>Gets the number of distinct stacks.</summary>
    public int Count => _stacks.Count;

    /// <summary>Gets the number of addresses held for all stacks together.</summary>
    public int AddressCount => _used;

    /// <summary>Returns the index of a stack of addresses, adding it on first sight.</summary>
    public int Intern(ReadOnlySpan<ulong> addresses) =>
        Intern(System.Runtime.InteropServices.MemoryMarshal.AsBytes(addresses), sizeof(ulong));

    /// <summary>Returns the index of a stack given as little-endian pointers, adding it on first sight.</summary>
    public int Intern(ReadOnlySpan<byte> addresses, int pointerSize)
    {
        var length = addresses.Length / pointerSize;
        if (_addresses.Length < _used + length)
        {
            Array.Resize(ref _addresses, Math.Max(_addresses.Length * 2, _used + length));
        }

        // The candidate is written after the last stack; it stays there only if it is new.
        var candidate = _addresses.AsSpan(_used, length);
        if (pointerSize == 8)
        {
            MemoryMarshal.Cast<byte, ulong>(addresses[..(length * 8)]).CopyTo(candidate);
        }
        else
        {
            var narrow = MemoryMarshal.Cast<byte, uint>(addresses[..(length * 4)]);
            for (var i = 0; i < narrow.Length; i++)
            {
                candidate[i] = narrow[i];
            }
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Reading nettrace stacks needs a little-endian machine.");
        }

        var entry = new Entry(_used, length, (int)XxHash3.HashToUInt64(MemoryMarshal.AsBytes(candidate)));
        ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(_ids, entry, out var exists);
        if (!exists)
        {
            id = _stacks.Count;
            _stacks.Add((_used, length));
            _used += length;
        }

        return id;
    }

    /// <summary>The addresses of a stack, leaf first.</summary>
    public ReadOnlySpan<ulong> Get(int index)
    {
        var (offset, length) = _stacks[index];
        return _addresses.AsSpan(offset, length);
    }

    private readonly record struct Entry(int Offset, int Length, int Hash);

    private sealed class EntryComparer(RawStacks owner) : IEqualityComparer<Entry>
    {
        public bool Equals(Entry x, Entry y) =>
            x.Hash == y.Hash && x.Length == y.Length &&
            owner._addresses.AsSpan(x.Offset, x.Length).SequenceEqual(owner._addresses.AsSpan(y.Offset, y.Length));

        public int GetHashCode(Entry obj) => obj.Hash;
    }
}
