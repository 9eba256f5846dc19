using System.Globalization;

namespace TraceProf.Parsing;

/// <summary>
/// Names code that no method load event covers (the runtime's own native code, libc, …) for the perf_event sampler:
/// which addresses are native is decided from the executable file mappings read when the samples are named (so the
/// recorder does not ask for a rundown for them); the name is the ELF symbol where <see cref="Native.NativeSymbols"/>
/// finds one (<c>libc.so.6!memmove</c>), else the module and the offset into the file (<c>libcoreclr.so!0x1a2b3c</c>).
/// <see cref="Resolve"/> is the one function every perf native frame goes through.
/// </summary>
internal sealed class NativeFrameNames
{
    private readonly Mapping[] _mappings;
    private readonly Dictionary<ulong, (string Name, string Module)?> _cache = [];

    private readonly bool _thisProcess;

    private NativeFrameNames(Mapping[] mappings, bool thisProcess = false)
    {
        _mappings = mappings;
        _thisProcess = thisProcess;
    }

    /// <summary>Gets a table that names nothing (no <c>/proc/self/maps</c>, or not Linux).</summary>
    public static NativeFrameNames Empty { get; } = new([]);

    /// <summary>
    /// Reads this process's file mappings now (<c>/proc/self/maps</c>). Code mapped after this call stays unnamed, so
    /// read it when the samples are named, not before they are taken.
    /// </summary>
    /// <returns>The table; <see cref="Empty"/> where the file cannot be read.</returns>
    public static NativeFrameNames OfThisProcess()
    {
        try
        {
            return new NativeFrameNames(Parse(File.ReadLines("/proc/self/maps"))._mappings, thisProcess: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Empty;
        }
    }

    /// <summary>Parses lines in the <c>/proc/&lt;pid&gt;/maps</c> format.</summary>
    /// <param name="lines">The lines.</param>
    /// <returns>The table of executable file mappings.</returns>
    internal static NativeFrameNames Parse(IEnumerable<string> lines)
    {
        // "7f1c2a000000-7f1c2a200000 r-xp 00012000 08:01 1234   /usr/lib/x86_64-linux-gnu/libc.so.6"
        var mappings = new List<Mapping>();
        foreach (var line in lines)
        {
            var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 6 || parts[1].Length < 3 || parts[1][2] != 'x')
            {
                continue;
            }

            var path = parts[5].Trim();

            // Anonymous, [vdso]-like and memfd mappings (the runtime's double-mapped JIT code) have no file to name.
            if (!path.StartsWith('/') || path.StartsWith("/memfd:", StringComparison.Ordinal))
            {
                continue;
            }

            var range = parts[0].Split('-');
            if (range.Length == 2
                && ulong.TryParse(range[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start)
                && ulong.TryParse(range[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end)
                && ulong.TryParse(parts[2], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var fileOffset))
            {
                mappings.Add(new Mapping(start, end, fileOffset, Path.GetFileName(path)));
            }
        }

        mappings.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return new NativeFrameNames([.. mappings]);
    }

    /// <summary>
    /// The name of native code at <paramref name="address"/>: <c>module!0x&lt;file offset&gt;</c> and the module's file
    /// name; false when no executable file mapping holds it.
    /// </summary>
    /// <param name="address">A return address or instruction pointer.</param>
    /// <param name="name">The frame's name.</param>
    /// <param name="module">The module's file name.</param>
    /// <returns>Whether a mapping holds the address.</returns>
    public bool Resolve(ulong address, out string name, out string module)
    {
        ref var cached = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_cache, address, out var exists);
        if (!exists)
        {
            cached = Lookup(address);
        }

        (name, module) = cached ?? ("", "");
        return cached is not null;
    }

    private (string, string)? Lookup(ulong address)
    {
        var low = 0;
        var high = _mappings.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var m = _mappings[mid];
            if (address < m.Start)
            {
                high = mid - 1;
            }
            else if (address >= m.End)
            {
                low = mid + 1;
            }
            else
            {
                if (_thisProcess && Native.NativeSymbols.ThisProcess.TryResolve(address, out var symbol) && symbol.Symbol is not null)
                {
                    // Ready-to-run code is a managed method: its module as managed frames name it.
                    return (symbol.DisplayName, symbol.ReadyToRun ? symbol.ManagedModule : m.Module);
                }

                var offset = address - m.Start + m.FileOffset;
                return (string.Create(CultureInfo.InvariantCulture, $"{m.Module}!0x{offset:x}"), m.Module);
            }
        }

        return null;
    }

    private readonly record struct Mapping(ulong Start, ulong End, ulong FileOffset, string Module);
}
