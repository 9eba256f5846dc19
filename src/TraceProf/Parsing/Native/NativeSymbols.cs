using System.Globalization;

namespace TraceProf.Parsing.Native;

/// <summary>
/// Names native code of this process: an absolute address → the module file that maps it (<c>/proc/self/maps</c>)
/// and, where the file's ELF symbols cover it, the function and the offset in it.
/// </summary>
/// <remarks>
/// <para><b>API</b> (for every engine part that has addresses of this process — the EventPipe parsers for frames no
/// managed method covers, the perf sampler for its callchains):</para>
/// <code>
/// if (NativeSymbols.ThisProcess.TryResolve(address, out var symbol))
///     frameName = symbol.DisplayName;   // "libcoreclr.so!WKS::gc_heap::mark_object_simple", "libcoreclr.so!unnamed_0x5fb3a0"
///                                       // (a stripped file's function, by its start), or "libfoo.so!0x1a2b0"; for
///                                       // ready-to-run code (symbol.ReadyToRun) the managed method's runtime name
/// // symbol.ModuleName ("libcoreclr.so"), symbol.ModulePath, symbol.Symbol (null when no symbol covers it),
/// // symbol.Offset (from the symbol's start, or from the module's start when there is no symbol)
/// </code>
/// <para>Only addresses of the calling process mean anything here (a capture of another process must not be named
/// with it). Thread-safe. Costs and bounds: <c>/proc/self/maps</c> is read on the first lookup and again, at most once
/// per <see cref="MapsRefreshInterval"/>, when an address falls in no known mapping (a library loaded since); a
/// module's symbols are read on the first address in it (<see cref="ElfSymbols"/>: headers, one symbol table and its
/// strings, each at most <see cref="ElfSymbols.MaxTableBytes"/>), at most <see cref="MaxModules"/> modules, and kept
/// for the process's lifetime (libraries are rarely unloaded; a path re-used by another file would keep the old
/// symbols — acceptable for names in a profile). Addresses in anonymous memory (JIT stubs, code the runtime generates)
/// resolve to nothing.</para>
/// </remarks>
internal sealed class NativeSymbols
{
    /// <summary>At most this many module files have their symbols read.</summary>
    internal const int MaxModules = 512;

    /// <summary>The least time between two reads of <c>/proc/self/maps</c> caused by unknown addresses.</summary>
    internal static readonly TimeSpan MapsRefreshInterval = TimeSpan.FromSeconds(1);

    private readonly string _mapsPath;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ElfSymbols?> _modules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReadyToRunMethods?> _readyToRun = new(StringComparer.Ordinal);
    private Mapping[] _mappings = [];
    private long _mapsReadAt;

    internal NativeSymbols(string mapsPath) => _mapsPath = mapsPath;

    /// <summary>Gets the resolver for this process.</summary>
    public static NativeSymbols ThisProcess { get; } = new("/proc/self/maps");

    /// <summary>Names an address of this process.</summary>
    /// <param name="address">An instruction address (a return address: pass it minus 1 to name the call).</param>
    /// <param name="symbol">What it is.</param>
    /// <returns>False when no file maps the address (anonymous memory, or not Linux).</returns>
    public bool TryResolve(ulong address, out NativeSymbol symbol)
    {
        lock (_lock)
        {
            if (!TryFindMapping(address, out var mapping))
            {
                var now = Environment.TickCount64;
                if (_mapsReadAt != 0 && now - _mapsReadAt < MapsRefreshInterval.TotalMilliseconds)
                {
                    symbol = default;
                    return false;
                }

                _mapsReadAt = now;
                _mappings = ReadMaps(_mapsPath);
                if (!TryFindMapping(address, out mapping))
                {
                    symbol = default;
                    return false;
                }
            }

            var fileOffset = address - mapping.Start + mapping.Offset;
            var name = Path.GetFileName(mapping.Path);
            if (mapping.Path.StartsWith('/') && Symbols(mapping.Path) is { } elf && elf.TryVirtualAddress(fileOffset, out var virtualAddress))
            {
                // A stripped file's function without a symbol (most of libcoreclr.so) is named by where it starts, from
                // the unwind table: unnamed, but one frame per function, never the nearest export's name.
                symbol = elf.TryFind(virtualAddress, out var function, out var offset)
                    ? new NativeSymbol(mapping.Path, name, function, offset)
                    : elf.TryFindUnnamedFunction(virtualAddress, out var start)
                        ? new NativeSymbol(mapping.Path, name, string.Create(CultureInfo.InvariantCulture, $"unnamed_0x{start:x}"), virtualAddress - start)
                        : new NativeSymbol(mapping.Path, name, null, virtualAddress);
                return true;
            }

            // A managed image's precompiled code that no method event named (its P/Invoke stubs): the method from the
            // image's own ready-to-run tables, named as a managed frame (ReadyToRunMethods says which code and why).
            if (mapping.Path.StartsWith('/') && mapping.Path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                && ReadyToRun(mapping.Path) is { } image && image.TryRelativeAddress(fileOffset, out var rva) && image.TryFind(rva, out var method, out _))
            {
                symbol = new NativeSymbol(mapping.Path, name, method, fileOffset) { ReadyToRun = true };
                return true;
            }

            symbol = new NativeSymbol(mapping.Path, name, null, fileOffset);
            return true;
        }
    }

    private ReadyToRunMethods? ReadyToRun(string path)
    {
        if (!_readyToRun.TryGetValue(path, out var methods))
        {
            if (_readyToRun.Count >= MaxModules)
            {
                return null;
            }

            methods = ReadyToRunMethods.Read(path);
            _readyToRun[path] = methods;
        }

        return methods;
    }

    private ElfSymbols? Symbols(string path)
    {
        if (!_modules.TryGetValue(path, out var symbols))
        {
            if (_modules.Count >= MaxModules)
            {
                return null;
            }

            symbols = ElfSymbols.Read(path);
            _modules[path] = symbols;
        }

        return symbols;
    }

    private bool TryFindMapping(ulong address, out Mapping mapping)
    {
        var mappings = _mappings;
        var low = 0;
        var high = mappings.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (address < mappings[mid].Start)
            {
                high = mid - 1;
            }
            else if (address >= mappings[mid].End)
            {
                low = mid + 1;
            }
            else
            {
                mapping = mappings[mid];
                return true;
            }
        }

        mapping = default;
        return false;
    }

    // "start-end perms offset dev inode path": the file-backed mappings (and named ones such as [vdso]), by start.
    private static Mapping[] ReadMaps(string path)
    {
        var mappings = new List<Mapping>();
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 6 || fields[5].Trim() is not { Length: > 0 } file || file.StartsWith("[anon", StringComparison.Ordinal))
                {
                    continue;
                }

                var range = fields[0].Split('-');
                if (range.Length == 2
                    && ulong.TryParse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
                    && ulong.TryParse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end)
                    && ulong.TryParse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var offset))
                {
                    mappings.Add(new Mapping(start, end, offset, file.EndsWith(" (deleted)", StringComparison.Ordinal) ? file[..^10] : file));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        mappings.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return [.. mappings];
    }

    private readonly record struct Mapping(ulong Start, ulong End, ulong Offset, string Path);
}

/// <summary>Native code at an address: its module and, when the module's symbols cover it, its function.</summary>
/// <param name="ModulePath">The module's file (or a name such as <c>[vdso]</c>).</param>
/// <param name="ModuleName">The file's name, <c>libcoreclr.so</c>.</param>
/// <param name="Symbol">The function, as the ELF symbol names it (C++ names stay mangled), or for <see cref="ReadyToRun"/> code the managed method as the runtime's events name it; null when none covers it.</param>
/// <param name="Offset">From the function's start; without a function (or for ready-to-run code), the address in the module's own numbering.</param>
internal readonly record struct NativeSymbol(string ModulePath, string ModuleName, string? Symbol, ulong Offset)
{
    /// <summary>Gets whether this is a managed method's precompiled code (<see cref="ReadyToRunMethods"/>): name it as a managed frame of <see cref="ManagedModule"/>.</summary>
    public bool ReadyToRun { get; init; }

    /// <summary>Gets the module as managed frames name it: the file name without <c>.dll</c> (<c>System.Net.Sockets</c>).</summary>
    public string ManagedModule => ModuleName.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? Path.GetFileNameWithoutExtension(ModuleName) : ModuleName;

    /// <summary>
    /// Gets the frame name: for ready-to-run code the method's runtime name (<c>Interop+Sys.WaitForSocketEvents(…)</c>,
    /// which <c>FrameNames</c> turns into a display name), else <c>module!symbol</c>, or <c>module!0x…</c> without a symbol.
    /// </summary>
    public string DisplayName => Symbol is { Length: > 0 } function
        ? ReadyToRun ? function : string.Concat(ModuleName, "!", function)
        : string.Create(CultureInfo.InvariantCulture, $"{ModuleName}!0x{Offset:x}");
}
