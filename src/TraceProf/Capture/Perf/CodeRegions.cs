using System.Globalization;

namespace TraceProf.Capture;

// Hand-written: the kernel's /proc/self/maps text, read here instead of through Parsing's NativeFrameNames because
// the sampler's drain thread needs only "which executable mapping, native or not" and Capture imports no other stage.

/// <summary>What kind of code an address of this process is in.</summary>
internal enum CodeKind
{
    /// <summary>No executable mapping holds it (data, a stack slot, a freed page, or code mapped since the last read).</summary>
    None,

    /// <summary>An ELF file's code: the runtime itself, libc, libm, the host, the vdso.</summary>
    Native,

    /// <summary>Where managed code lives: jitted code (anonymous or the runtime's <c>/memfd:doublemapper</c>) and ready-to-run images (<c>.dll</c>).</summary>
    Managed,
}

/// <summary>
/// The executable mappings of this process, classed native or managed-capable, for the perf sampler's drain thread:
/// it decides which samples have a native leaf and which stack words may be return addresses into managed code
/// (the method table at naming time decides which really are). Reread when a sampled instruction pointer or call
/// chain address is in none of them (new jitted code), at most once per <see cref="MinRereadInterval"/>.
/// </summary>
internal sealed class CodeRegions
{
    /// <summary>The shortest time between two reads of <c>/proc/self/maps</c> (each read allocates about its size).</summary>
    public static readonly TimeSpan MinRereadInterval = TimeSpan.FromSeconds(1);

    private readonly Func<IEnumerable<string>> _read;
    private readonly TimeProvider _time;
    private Region[] _regions = [];
    private long _lastRead = long.MinValue;

    /// <summary>Initializes the table; nothing is read until <see cref="Refresh"/>.</summary>
    /// <param name="read">The maps lines (tests give their own); null for <c>/proc/self/maps</c>.</param>
    /// <param name="time">The clock of the reread limit.</param>
    public CodeRegions(Func<IEnumerable<string>>? read = null, TimeProvider? time = null)
    {
        _read = read ?? (static () => File.ReadLines("/proc/self/maps"));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Gets how many times the mappings were read.</summary>
    public int Reads { get; private set; }

    /// <summary>Gets the executable mappings held.</summary>
    public int Count => _regions.Length;

    /// <summary>The kind of code at <paramref name="address"/>.</summary>
    public CodeKind Classify(ulong address)
    {
        var regions = _regions;
        var low = 0;
        var high = regions.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (address < regions[mid].Start)
            {
                high = mid - 1;
            }
            else if (address >= regions[mid].End)
            {
                low = mid + 1;
            }
            else
            {
                return regions[mid].Kind;
            }
        }

        return CodeKind.None;
    }

    /// <summary>Reads the mappings again unless they were read less than <see cref="MinRereadInterval"/> ago.</summary>
    /// <returns>Whether they were read.</returns>
    public bool Refresh()
    {
        var now = _time.GetTimestamp();
        if (_lastRead != long.MinValue && _time.GetElapsedTime(_lastRead, now) < MinRereadInterval)
        {
            return false;
        }

        _lastRead = now;
        try
        {
            _regions = Parse(_read());
            Reads++;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Keep what was read: a native leaf is then left as the kernel walked it.
        }

        return true;
    }

    /// <summary>Parses lines in the <c>/proc/&lt;pid&gt;/maps</c> format into the executable mappings, sorted.</summary>
    internal static Region[] Parse(IEnumerable<string> lines)
    {
        // "7f1c2a000000-7f1c2a200000 r-xp 00012000 08:01 1234   /usr/lib/x86_64-linux-gnu/libc.so.6"
        var regions = new List<Region>();
        foreach (var line in lines)
        {
            var span = line.AsSpan();
            var dash = span.IndexOf('-');
            var space = span.IndexOf(' ');
            if (dash <= 0 || space <= dash + 1 || span.Length < space + 4 || span[space + 3] != 'x')
            {
                continue;
            }

            if (!ulong.TryParse(span[..dash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start)
                || !ulong.TryParse(span[(dash + 1)..space], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end))
            {
                continue;
            }

            // The path is the sixth field; it may be absent (anonymous memory) and may hold spaces ("(deleted)").
            var rest = span[space..];
            for (var field = 0; field < 4 && rest.Length > 0; field++)
            {
                rest = rest.TrimStart(' ');
                var next = rest.IndexOf(' ');
                rest = next < 0 ? [] : rest[next..];
            }

            regions.Add(new Region(start, end, KindOf(rest.Trim(' '))));
        }

        regions.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return [.. regions];
    }

    private static CodeKind KindOf(ReadOnlySpan<char> path)
    {
        // Jitted code is anonymous, or in the runtime's double-mapped memfd (W^X); ready-to-run code is in the
        // image of its .dll. Every other file is an ELF object, and [vdso]/[vsyscall] are native code too.
        if (path.IsEmpty || path.StartsWith("/memfd:", StringComparison.Ordinal) || path.StartsWith("[anon", StringComparison.Ordinal))
        {
            return CodeKind.Managed;
        }

        var file = path.EndsWith(" (deleted)", StringComparison.Ordinal) ? path[..^" (deleted)".Length] : path;
        return file.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".exe", StringComparison.OrdinalIgnoreCase)
            ? CodeKind.Managed
            : CodeKind.Native;
    }

    /// <summary>One executable mapping.</summary>
    internal readonly record struct Region(ulong Start, ulong End, CodeKind Kind);
}
