using System.Text;

namespace ShopDemo;

/// <summary>Stock reservations behind one lock, as a naive inventory would have: concurrent orders wait here.</summary>
public sealed class Inventory
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _reserved = [];

    public string Reserve(IReadOnlyList<Product> products)
    {
        lock (_gate)
        {
            // A reservation ledger line per product, built under the lock (allocation- and contention-heavy on purpose).
            var ledger = new StringBuilder();
            foreach (var product in products)
            {
                _reserved[product.Sku] = _reserved.GetValueOrDefault(product.Sku) + 1;
                ledger.Append(product.Sku).Append(':').Append(_reserved[product.Sku]).Append(';');
            }

            Thread.Sleep(1);
            return ledger.ToString();
        }
    }
}
