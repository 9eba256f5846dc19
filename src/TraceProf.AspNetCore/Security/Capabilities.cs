namespace TraceProf.AspNetCore.Security;

/// <summary>What a role may do. Each capture kind and the snapshot API is one capability.</summary>
[Flags]
internal enum Capabilities
{
    None = 0,
    Cpu = 1 << 0,
    Snapshots = 1 << 1,
    Allocs = 1 << 2,
    Contention = 1 << 3,
    Threads = 1 << 4,
    Trace = 1 << 5,
    Heap = 1 << 6,
    Exceptions = 1 << 7,
    All = Cpu | Snapshots | Allocs | Contention | Threads | Trace | Heap | Exceptions,
}

internal static class CapabilityNames
{
    private static readonly (string Name, Capabilities Value)[] Known =
    [
        ("cpu", Capabilities.Cpu),
        ("allocs", Capabilities.Allocs),
        ("contention", Capabilities.Contention),
        ("threads", Capabilities.Threads),
        ("trace", Capabilities.Trace),
        ("heap", Capabilities.Heap),
        ("exceptions", Capabilities.Exceptions),
        ("snapshots", Capabilities.Snapshots),
    ];

    public static IEnumerable<string> All => Known.Select(k => k.Name);

    public static bool TryParseList(string list, out Capabilities capabilities, out string? unknown)
    {
        capabilities = Capabilities.None;
        unknown = null;
        foreach (var part in list.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part == "*")
            {
                capabilities = Capabilities.All;
                continue;
            }

            var match = Array.FindIndex(Known, k => string.Equals(k.Name, part, StringComparison.OrdinalIgnoreCase));
            if (match < 0)
            {
                unknown = part;
                return false;
            }

            capabilities |= Known[match].Value;
        }

        return true;
    }

    public static string Describe(Capabilities capabilities) =>
        capabilities == Capabilities.None
            ? "none"
            : string.Join(", ", Known.Where(k => capabilities.HasFlag(k.Value)).Select(k => k.Name));
}
