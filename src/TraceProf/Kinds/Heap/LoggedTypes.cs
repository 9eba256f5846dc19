namespace TraceProf.Kinds.Heap;

/// <summary>
/// The type descriptions (BulkType) of every heap snapshot this process has taken, by type id, for the snapshots that
/// come after: the runtime sends a type's BulkType once and forgets that it did only when no session keeps the runtime
/// provider enabled. With the flight recorder's long-lived session running (on by default), a second snapshot received
/// almost no descriptions and named 1,514 of 1,540 types <c>[type 0x…]</c> (measured, issue 14); an in-process
/// EventListener on the provider did the same (docs/design-notes.md). A type id is the type's method table, stable
/// for the life of the process (a collectible assembly's unloaded types could in principle be reused: rare, and a
/// stale name is better than none). Bounded.
/// </summary>
internal static class LoggedTypes
{
    private const int MaxTypes = 500_000;

    private static readonly Lock Gate = new();
    private static readonly Dictionary<ulong, (string Name, ulong[] Arguments)> Known = [];

    /// <summary>Keeps a snapshot's descriptions (those with a name) for later snapshots.</summary>
    /// <param name="descriptions">What this snapshot received.</param>
    public static void Remember(IReadOnlyDictionary<ulong, (string Name, ulong[] Arguments)> descriptions)
    {
        lock (Gate)
        {
            foreach (var (id, description) in descriptions)
            {
                if (description.Name.Length > 0 && (Known.Count < MaxTypes || Known.ContainsKey(id)))
                {
                    Known[id] = description;
                }
            }
        }
    }

    /// <summary>Finds a description an earlier snapshot received.</summary>
    /// <param name="typeId">The type id.</param>
    /// <param name="description">Its description.</param>
    /// <returns>Whether one was known.</returns>
    public static bool TryGet(ulong typeId, out (string Name, ulong[] Arguments) description)
    {
        lock (Gate)
        {
            return Known.TryGetValue(typeId, out description);
        }
    }
}
