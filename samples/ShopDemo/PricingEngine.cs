using System.Runtime.CompilerServices;

namespace ShopDemo;

/// <summary>Prices an order. Deliberately CPU-heavy, so a profile has something to show.</summary>
public sealed class PricingEngine(Catalog catalog)
{
    public Quote Quote(int items)
    {
        var products = catalog.All.Take(items).ToArray();
        decimal subtotal = 0;
        foreach (var product in products)
        {
            subtotal += product.Price * ComputeVolumeDiscountFactor(product, items);
        }

        var tax = Math.Round(subtotal * 0.2m, 2);
        return new Quote(items, Math.Round(subtotal, 2), tax, Math.Round(subtotal + tax, 2));
    }

    // A stand-in for a real pricing model: iterate a discount curve to convergence.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static decimal ComputeVolumeDiscountFactor(Product product, int items)
    {
        var factor = 1.0;
        var seed = product.Sku.GetHashCode(StringComparison.Ordinal) & 0xFFFF;
        for (var i = 0; i < 40_000; i++)
        {
            factor = (factor * 0.999_99) + (Math.Sin(seed + i) * 1e-7 * items);
        }

        return (decimal)Math.Clamp(factor, 0.5, 1.0);
    }
}

public sealed record Quote(int Items, decimal Subtotal, decimal Tax, decimal Total);
