using System.Runtime.CompilerServices;
using System.Text;

namespace ShopDemo;

/// <summary>Stock reservations behind one lock, as a naive inventory would have: concurrent orders wait here.</summary>
public sealed class Inventory
{
    /// <summary>More items than this in one reservation fail, deep in the inventory: the demo's failing request.</summary>
    public const int MaxItemsPerReservation = 45;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _reserved = [];

    public string ReserveAndReconcile(IReadOnlyList<Product> products)
    {
        string ledger;
        lock (_gate)
        {
            // A reservation ledger line per product, built under the lock (allocation- and contention-heavy on purpose).
            var lines = new StringBuilder();
            foreach (var product in products)
            {
                _reserved[product.Sku] = _reserved.GetValueOrDefault(product.Sku) + 1;
                lines.Append(product.Sku).Append(':').Append(_reserved[product.Sku]).Append(';');
            }

            Thread.Sleep(1);
            ledger = lines.ToString();
        }

        ReconcileStockLevels(products);
        if (products.Count > MaxItemsPerReservation)
        {
            throw new InvalidOperationException($"Cannot reserve {products.Count} items at once; the warehouse allows {MaxItemsPerReservation}.");
        }

        return ledger;
    }

    // A stand-in for checking stock against the warehouse: CPU work proportional to the order.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReconcileStockLevels(IReadOnlyList<Product> products)
    {
        var checksum = 0L;
        foreach (var product in products)
        {
            for (var i = 0; i < 20_000; i++)
            {
                checksum = (checksum * 31) + product.Sku[i % product.Sku.Length] + i;
            }
        }

        GC.KeepAlive(checksum);
    }
}
