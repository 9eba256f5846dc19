namespace TraceProf.Tests.Kinds.Heap;

/// <summary>An object the heap tests leak on purpose, each holding a byte array of known length.</summary>
internal sealed class LeakedOrder(int id, byte[] payload)
{
    public int Id { get; } = id;

    public byte[] Payload { get; } = payload;
}

/// <summary>Leaked by the diff test, snapshot after snapshot.</summary>
internal sealed class GrowingOrder(int id)
{
    public int Id { get; } = id;
}

/// <summary>Allocated once; a diff shows it unchanged.</summary>
internal sealed class StableCustomer(int id)
{
    public int Id { get; } = id;
}

/// <summary>Static holders: what the retention paths of the leaked objects must name.</summary>
internal static class HeapLeaks
{
    public const int PayloadBytes = 1000;

    public static readonly List<LeakedOrder> Orders = [];

    public static readonly List<GrowingOrder> Growing = [];

    public static readonly List<StableCustomer> Customers = [.. Enumerable.Range(0, 1000).Select(i => new StableCustomer(i))];

    public static void LeakOrders(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Orders.Add(new LeakedOrder(i, new byte[PayloadBytes]));
        }
    }

    public static void Grow(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Growing.Add(new GrowingOrder(i));
        }
    }
}
