namespace ShopDemo;

/// <summary>A pretend payment provider: a little latency, and now and then a failure.</summary>
public sealed class PaymentGateway
{
    public async Task<Receipt> ChargeAsync(decimal amount, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(20 + Random.Shared.Next(30)), cancellationToken);
        if (Random.Shared.Next(200) == 0)
        {
            throw new InvalidOperationException($"Payment provider declined a charge of {amount}.");
        }

        return new Receipt(Guid.NewGuid().ToString("N")[..12], "paid");
    }
}

public sealed record Receipt(string OrderId, string Status);
