using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace TraceProf.Parsing.Streaming;

/// <summary>
/// The code ranges of jitted and ready-to-run methods, from the runtime's method load and rundown events, their
/// IL-to-native maps (for source lines), and their modules. Filled during the pass, looked up after it: rundown comes
/// at the end of a capture. One entry per code start address (a method seen at load time shows up again in the
/// rundown, and each tier of a method is a code range of its own), and unloaded code leaves, so a long-lived table
/// follows the code that is alive, not every event ever seen.
/// Not thread-safe; a live recorder resolves against a <see cref="Subset"/> copy made under its lock.
/// </summary>
internal sealed class MethodAddressTable
{
    /// <summary>The most IL-to-native map entries one table keeps (8 bytes each): a bound for the live recorder.</summary>
    internal const int MaxMapEntries = 1 << 20;

    private readonly Dictionary<ulong, Method> _methods = [];
    private readonly Dictionary<ulong, Module> _modules = [];
    private readonly Dictionary<ulong, uint[]> _maps = [];
    private readonly Dictionary<ulong, ulong> _lastStartOfMethodId = [];
    private readonly Dictionary<ulong, uint[]> _mapsAhead = [];

    // Lookups search _sorted, then the few ranges added since it was built (_pending); the two are merged when the
    // pending part grows past a fraction of the whole, so a live table that keeps growing re-sorts rarely and a
    // cut does not copy or sort the whole table (issue 17: Freeze was 43 % of the sample's allocations).
    private Method[] _sorted = [];
    private readonly List<Method> _pending = [];
    private int _mapEntries;

    /// <summary>Gets the number of method ranges.</summary>
    public int Count => _methods.Count;

    /// <summary>Gets the number of modules.</summary>
    public int ModuleCount => _modules.Count;

    /// <summary>Gets the number of IL-to-native maps held.</summary>
    public int MapCount => _maps.Count;

    /// <summary>
    /// Gets or sets whether the addresses are of this very process (a live capture of it), so addresses no method
    /// covers may be named from this process's native modules (<see cref="Native.NativeSymbols"/>).
    /// </summary>
    public bool OfThisProcess { get; set; }

    /// <summary>Adds a <c>MethodLoadVerbose</c> / <c>MethodDCStartVerbose</c> / <c>MethodDCEndVerbose</c> payload.</summary>
    public void AddMethod(ReadOnlySpan<byte> payload)
    {
        var methodId = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        var moduleId = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
        var start = BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(payload[24..]);
        var token = BinaryPrimitives.ReadInt32LittleEndian(payload[28..]);

        // A rundown repeats every method already known: keep the entry instead of decoding its strings again (the
        // recorder's rundowns were its largest allocation once the cut no longer copied the table).
        if (_methods.TryGetValue(start, out var known) && known.MethodId == methodId && known.Size == size)
        {
            _lastStartOfMethodId[methodId] = start;
            ClaimMapAhead(methodId, start);
            return;
        }

        var offset = 36;
        var ns = NettracePayload.ReadUtf16(payload, ref offset);
        var name = NettracePayload.ReadUtf16(payload, ref offset);
        var signature = NettracePayload.ReadUtf16(payload, ref offset);

        // The name TraceLog shows: Namespace.Method(argument types), the arguments taken from the signature
        // ("instance int32  (value class System.ReadOnlySpan`1<wchar>)").
        var arguments = signature.IndexOf('(', StringComparison.Ordinal) is var open and >= 0 ? signature[open..] : "";
        var fullName = ns.Length > 0 ? string.Concat(ns, ".", name, arguments) : string.Concat(name, arguments);
        Add(new Method(start, size, moduleId, fullName, methodId, token));
    }

    /// <summary>Removes the range of a <c>MethodUnloadVerbose</c> payload (collectible or dynamic code freed).</summary>
    public void RemoveMethod(ReadOnlySpan<byte> payload)
    {
        var start = BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]);
        if (_methods.Remove(start))
        {
            // The stale entry may stay in _sorted until the next merge; lookups check it is still current.
            if (_maps.Remove(start, out var map))
            {
                _mapEntries -= map.Length / 2;
            }
        }
    }

    /// <summary>
    /// Adds a <c>MethodILToNativeMap</c> / <c>MethodDCStartILToNativeMap</c> / <c>MethodDCEndILToNativeMap</c> payload:
    /// MethodID, ReJITID, MethodExtent, CountOfMapEntries, ILOffsets[], NativeOffsets[]. The event names the method,
    /// not the code version. The runtime provider writes it right after that version's load event, so it belongs to
    /// the last range seen for the method; the rundown writes it right <b>before</b> the version's rundown event
    /// (seen in .NET 10 captures), so it waits for the method's next range.
    /// </summary>
    /// <param name="payload">The payload.</param>
    /// <param name="rundown">Whether it is a rundown event (the map comes before its method).</param>
    public void AddILToNativeMap(ReadOnlySpan<byte> payload, bool rundown)
    {
        if (payload.Length < 19)
        {
            return;
        }

        var methodId = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        var extent = payload[16];
        var count = BinaryPrimitives.ReadUInt16LittleEndian(payload[17..]);
        var start = 0UL;
        if (extent != 0 || count == 0 || payload.Length < 19 + (count * 8) || _mapEntries + count > MaxMapEntries
            || (!rundown && (!_lastStartOfMethodId.TryGetValue(methodId, out start) || !_methods.ContainsKey(start))))
        {
            return; // cold code, no entries, no room, or a map for a method this table does not hold
        }

        // A rundown repeats the maps of methods already known; the method's last range keeps the one it has.
        if (rundown && _lastStartOfMethodId.TryGetValue(methodId, out var last) && _maps.TryGetValue(last, out var had) && had.Length == count * 2)
        {
            return;
        }

        var il = MemoryMarshal.Cast<byte, uint>(payload.Slice(19, count * 4));
        var native = MemoryMarshal.Cast<byte, uint>(payload.Slice(19 + (count * 4), count * 4));

        // Interleaved (native offset, IL offset), sorted by native offset, for a binary search.
        var pairs = new (uint Native, uint IL)[count];
        for (var i = 0; i < count; i++)
        {
            pairs[i] = BitConverter.IsLittleEndian
                ? (native[i], il[i])
                : (BinaryPrimitives.ReverseEndianness(native[i]), BinaryPrimitives.ReverseEndianness(il[i]));
        }

        Array.Sort(pairs, static (a, b) => a.Native.CompareTo(b.Native));
        var map = new uint[count * 2];
        for (var i = 0; i < count; i++)
        {
            map[2 * i] = pairs[i].Native;
            map[(2 * i) + 1] = pairs[i].IL;
        }

        if (rundown)
        {
            if (_mapsAhead.Remove(methodId, out var unclaimed))
            {
                _mapEntries -= unclaimed.Length / 2;
            }

            _mapsAhead[methodId] = map;
            _mapEntries += count;
            return;
        }

        SetMap(start, map);
    }

    private void SetMap(ulong start, uint[] map)
    {
        if (_maps.Remove(start, out var old))
        {
            _mapEntries -= old.Length / 2;
        }

        _maps[start] = map;
        _mapEntries += map.Length / 2;
    }

    /// <summary>Adds a <c>ModuleLoad</c> / <c>ModuleDCStart</c> / <c>ModuleDCEnd</c> payload.</summary>
    public void AddModule(ReadOnlySpan<byte> payload)
    {
        var moduleId = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        var offset = 24;
        var ilPath = NettracePayload.ReadUtf16(payload, ref offset);
        var nativePath = NettracePayload.ReadUtf16(payload, ref offset);
        var path = ilPath.Length > 0 ? ilPath : nativePath;

        // Version 2 goes on: ClrInstanceID (u16), ManagedPdbSignature (GUID), ManagedPdbAge (u32), ManagedPdbBuildPath.
        var pdbId = Guid.Empty;
        if (payload.Length >= offset + 2 + 16)
        {
            pdbId = new Guid(payload.Slice(offset + 2, 16));
        }

        _modules[moduleId] = new Module(Path.GetFileNameWithoutExtension(path), path, pdbId);
    }

    /// <summary>The method whose code holds <paramref name="address"/>, or false.</summary>
    public bool TryResolve(ulong address, out string methodName, out string moduleName)
    {
        if (TryFind(address, out var method))
        {
            methodName = method.Name;
            moduleName = _modules.TryGetValue(method.ModuleId, out var module) ? module.Name : "";
            return true;
        }

        methodName = "";
        moduleName = "";
        return false;
    }

    /// <summary>The method whose code holds <paramref name="address"/> with what its source line needs, or false.</summary>
    public bool TryResolve(ulong address, out ResolvedMethod resolved)
    {
        if (TryFind(address, out var method))
        {
            var module = _modules.GetValueOrDefault(method.ModuleId);
            resolved = new ResolvedMethod(method.Name, module.Name ?? "", module.Path ?? "", module.PdbId, method.Token, method.Start, _maps.GetValueOrDefault(method.Start));
            return true;
        }

        resolved = default;
        return false;
    }

    /// <summary>
    /// A table of only the methods (and their modules and maps) that cover some address of <paramref name="stacks"/>:
    /// what a cut needs to resolve against while this table keeps changing, in proportion to what is cut.
    /// </summary>
    public MethodAddressTable Subset(RawStacks stacks)
    {
        var copy = new MethodAddressTable { OfThisProcess = OfThisProcess };
        for (var i = 0; i < stacks.Count; i++)
        {
            foreach (var address in stacks.Get(i))
            {
                // A return address is one past its call (FrameResolver looks up address - 1 for callers).
                CopyMethodAt(address, copy);
                CopyMethodAt(address - 1, copy);
            }
        }

        return copy;
    }

    private void CopyMethodAt(ulong address, MethodAddressTable copy)
    {
        if (!TryFind(address, out var method) || copy._methods.ContainsKey(method.Start))
        {
            return;
        }

        copy.Add(method);
        if (_modules.TryGetValue(method.ModuleId, out var module))
        {
            copy._modules.TryAdd(method.ModuleId, module);
        }

        if (_maps.TryGetValue(method.Start, out var map))
        {
            copy._maps[method.Start] = map; // maps are never changed in place: sharing the array is safe
            copy._mapEntries += map.Length / 2;
        }
    }

    private void Add(Method method)
    {
        _methods[method.Start] = method;
        _lastStartOfMethodId[method.MethodId] = method.Start;
        _pending.Add(method);
        ClaimMapAhead(method.MethodId, method.Start);
    }

    private void ClaimMapAhead(ulong methodId, ulong start)
    {
        if (_mapsAhead.Count > 0 && _mapsAhead.Remove(methodId, out var map))
        {
            _mapEntries -= map.Length / 2;
            SetMap(start, map);
        }
    }

    private bool TryFind(ulong address, out Method method)
    {
        if (_pending.Count > 32 + (_sorted.Length / 8))
        {
            Merge();
        }

        // The newest range wins: a pending entry replaces a sorted one at the same start.
        for (var i = _pending.Count - 1; i >= 0; i--)
        {
            var candidate = _pending[i];
            if (address - candidate.Start < candidate.Size && IsCurrent(candidate))
            {
                method = candidate;
                return true;
            }
        }

        var sorted = _sorted;
        var low = 0;
        var high = sorted.Length - 1;
        var found = -1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (sorted[mid].Start <= address)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        if (found >= 0 && address - sorted[found].Start < sorted[found].Size && IsCurrent(sorted[found]))
        {
            method = sorted[found];
            return true;
        }

        method = default;
        return false;
    }

    private bool IsCurrent(in Method method) =>
        _methods.TryGetValue(method.Start, out var current) && current.MethodId == method.MethodId && current.Size == method.Size;

    private void Merge()
    {
        var merged = new Method[_methods.Count];
        _methods.Values.CopyTo(merged, 0);
        Array.Sort(merged, static (a, b) => a.Start.CompareTo(b.Start));
        _sorted = merged;
        _pending.Clear();

        // Ids of methods that are gone would otherwise stay here for the table's lifetime.
        if (_lastStartOfMethodId.Count > 2 * _methods.Count)
        {
            foreach (var (id, start) in _lastStartOfMethodId)
            {
                if (!_methods.ContainsKey(start))
                {
                    _lastStartOfMethodId.Remove(id);
                }
            }
        }
    }

    private readonly record struct Method(ulong Start, uint Size, ulong ModuleId, string Name, ulong MethodId, int Token);

    private readonly record struct Module(string Name, string Path, Guid PdbId);
}

/// <summary>A method found at an address, with what its source line needs.</summary>
/// <param name="Name">The runtime's name with its parameter list.</param>
/// <param name="Module">The module's name.</param>
/// <param name="ModulePath">The module's file as the runtime loaded it; empty when unknown.</param>
/// <param name="PdbId">The module's portable PDB id as the runtime read it from its debug directory; empty when unknown.</param>
/// <param name="Token">The method's metadata token.</param>
/// <param name="Start">The start of its code.</param>
/// <param name="Map">Its IL-to-native map, (native offset, IL offset) pairs by native offset; null when the capture had none.</param>
internal readonly record struct ResolvedMethod(string Name, string Module, string ModulePath, Guid PdbId, int Token, ulong Start, uint[]? Map)
{
    // IL offsets the runtime writes for native code that maps to no IL instruction (ClrEtwAll.man).
    private const uint NoMapping = 0xFFFF_FFFF;
    private const uint Prolog = 0xFFFF_FFFE;
    private const uint Epilog = 0xFFFF_FFFD;

    /// <summary>The IL offset of the instruction at <paramref name="nativeOffset"/>, or -1 when the map does not say.</summary>
    /// <remarks>The prolog counts as IL offset 0 and the epilog as the method's end (<see cref="int.MaxValue"/>).</remarks>
    public int ILOffsetAt(uint nativeOffset)
    {
        if (Map is not { Length: > 0 } map)
        {
            return -1;
        }

        var low = 0;
        var high = (map.Length / 2) - 1;
        var found = -1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (map[2 * mid] <= nativeOffset)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        // Entries that map to no IL instruction say nothing: the one before them does.
        for (; found >= 0; found--)
        {
            switch (map[(2 * found) + 1])
            {
                case NoMapping:
                    continue;
                case Prolog:
                    return 0;
                case Epilog:
                    return int.MaxValue;
                case var il:
                    return (int)Math.Min(il, int.MaxValue - 1);
            }
        }

        return -1;
    }
}
