using System.Diagnostics.CodeAnalysis;

namespace ShopDemo;

/// <summary>The shop's products and stock, in memory.</summary>
public sealed class Catalog
{
    private readonly Dictionary<string, Product> _products = Enumerable.Range(1, 200)
        .Select(i => new Product($"SKU-{i:D4}", $"Product {i}", 5m + (i % 37) * 1.25m, 100 + i % 13))
        .ToDictionary(p => p.Sku);

    public IReadOnlyCollection<Product> All => _products.Values;

    public bool TryGet(string sku, [NotNullWhen(true)] out Product? product) => _products.TryGetValue(sku, out product);
}

public sealed record Product(string Sku, string Name, decimal Price, int Stock);
