using System.Runtime.CompilerServices;

namespace TraceProf.Tests.Parsing;

/// <summary>
/// Purpose-built code whose compiled names are what C# hides behind a method: an async state machine awaited by
/// another, an iterator, a lambda, a local function, a generic type and a generic method. Each burns CPU in its
/// own body, so a capture sees it as a leaf.
/// </summary>
internal sealed class PricingEngine
{
    private double _discount;

    public static double Sink { get; set; }

    public async Task<double> CheckoutAsync(CancellationToken stop)
    {
        var total = 0.0;
        while (!stop.IsCancellationRequested)
        {
            total += await QuoteAsync(3).ConfigureAwait(false);
            foreach (var price in Prices(2))
            {
                total += price;
            }

            total += WithLambda() + WithLocalFunction() + new PriceList<string>().Add("x") + Sum<int>(5);
            total += await QuoteGenericAsync(3).ConfigureAwait(false) + await new PriceList<string>().RecalculateAsync(2).ConfigureAwait(false);
            await Task.Yield();
        }

        _discount = total > 0 ? 0 : 1;
        return total;
    }

    // Burns before its first await, so its frames sit under CheckoutAsync's through AsyncMethodBuilderCore.Start.
    public async Task<double> QuoteAsync(int rounds)
    {
        var x = Burn(rounds) + _discount;
        await Task.Yield();
        return x + Burn(rounds);
    }

    // A generic async method: its state machine is generic (<QuoteGenericAsync>d__7`1), as Kestrel's
    // HttpProtocol.ProcessRequests<TContext> is.
    public async Task<double> QuoteGenericAsync<T>(T rounds)
        where T : IConvertible
    {
        var x = Burn(rounds.ToInt32(null)) + _discount;
        await Task.Yield();
        return x;
    }

    public IEnumerable<double> Prices(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return Burn(3) + _discount;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static double WithLambda()
    {
        Func<int, double> price = rounds =>
        {
            var x = 0.0;
            for (var i = 1; i < rounds * 20_000; i++)
            {
                x += Math.Sqrt(i) / i;
            }

            return x + Sink;
        };
        return price(3);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static double WithLocalFunction()
    {
        return Discount(3);

        static double Discount(int rounds)
        {
            var x = 0.0;
            for (var i = 1; i < rounds * 20_000; i++)
            {
                x += Math.Sqrt(i) / i;
            }

            return x;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static double Sum<T>(T rounds)
        where T : IConvertible
    {
        var x = 0.0;
        for (var i = 1; i < rounds.ToInt32(null) * 20_000; i++)
        {
            x += Math.Sqrt(i) / i;
        }

        return x;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static double Burn(int rounds)
    {
        var x = 0.0;
        for (var i = 1; i < rounds * 20_000; i++)
        {
            x += Math.Sqrt(i) / i;
        }

        return x;
    }
}

internal sealed class PriceList<T>
{
    private readonly List<T> _items = [];

    [MethodImpl(MethodImplOptions.NoInlining)]
    public double Add(T item)
    {
        _items.Add(item);
        var x = 0.0;
        for (var i = 1; i < 60_000; i++)
        {
            x += Math.Sqrt(i) / i;
        }

        return x;
    }

    // A generic async method of a generic type: <RecalculateAsync>d__2`1 nested in PriceList`1.
    public async Task<double> RecalculateAsync<TKey>(TKey key)
        where TKey : IConvertible
    {
        var x = PricingEngine.Burn(key.ToInt32(null) + 1);
        await Task.Yield();
        return x + _items.Count;
    }
}
