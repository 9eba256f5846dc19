namespace ShopDemo;

/// <summary>Where the shop reserves stock: in process, or at the inventory service.</summary>
public interface IStockReservations
{
    Task ReserveAsync(IReadOnlyList<Product> products, CancellationToken cancellationToken);
}

/// <summary>Reservations in this process (the single-service demo).</summary>
public sealed class LocalInventory(Inventory inventory) : IStockReservations
{
    public Task ReserveAsync(IReadOnlyList<Product> products, CancellationToken cancellationToken)
    {
        inventory.ReserveAndReconcile(products);
        return Task.CompletedTask;
    }
}

/// <summary>Reservations at the inventory service, over HTTP with W3C trace propagation.</summary>
public sealed class RemoteInventory(HttpClient http) : IStockReservations
{
    public async Task ReserveAsync(IReadOnlyList<Product> products, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(new Uri($"/inventory/reserve?items={products.Count}", UriKind.Relative), null, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The inventory service refused the reservation: {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
    }
}
