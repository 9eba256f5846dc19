using System.Runtime.CompilerServices;

namespace ShopDemo;

/// <summary>
/// DEMO ONLY — endpoints that misbehave on purpose, so TraceProf's heap, block and exceptions profiles have something
/// to find: a leak, sync-over-async waits, and a flood of first-chance exceptions. Mapped under <c>/trouble/</c>;
/// turned off with <c>ShopDemo:Troublemakers=false</c>. Never copy these into a real service.
/// </summary>
internal static class Troublemakers
{
    public static void Map(WebApplication app)
    {
        var trouble = app.MapGroup("/trouble");

        // Every call leaks `carts` abandoned carts of ~4 KB into a static cache that nothing ever clears.
        trouble.MapPost("/leak", (int? carts) =>
        {
            var count = Math.Clamp(carts ?? 1000, 1, 100_000);
            SessionCache.Remember(count);
            return Results.Ok(new { leaked = count, totalCarts = SessionCache.Count, note = "DEMO: leaked on purpose" });
        });

        // Blocks a thread-pool thread on a task (sync over async): enough of these at once starve the pool.
        trouble.MapGet("/sync-over-async", (int? ms) =>
        {
            var wait = Math.Clamp(ms ?? 200, 1, 5_000);
            LegacyTaxService.ComputeTaxBlocking(wait);
            return Results.Ok(new { blockedMs = wait, note = "DEMO: Task.Delay(...).Wait() on a pool thread" });
        });

        // Throws and catches `count` exceptions: an exceptions profile shows the type and who throws it.
        trouble.MapGet("/throw", (int? count) =>
        {
            var n = Math.Clamp(count ?? 100, 1, 10_000);
            var rejected = 0;
            for (var i = 0; i < n; i++)
            {
                rejected += CouponValidator.IsValid($"SPRING{i}") ? 0 : 1;
            }

            return Results.Ok(new { thrown = rejected, note = "DEMO: exceptions used for control flow" });
        });

        MapPileUp(trouble);
    }

    // DEMO ONLY — an async pile-up: every GET /trouble/pileup awaits one shared gate through a two-level async chain
    // (Orders.CheckoutAsync → Payments.ChargeAsync → the payment provider's gate), invisible on any thread stack;
    // POST /trouble/pileup/open lets them all through. The gate opens on its own after two minutes.
    private static void MapPileUp(RouteGroupBuilder trouble)
    {
        trouble.MapGet("/pileup", async () =>
        {
            var receipt = await StuckOrders.CheckoutAsync().ConfigureAwait(false);
            return Results.Ok(new { receipt, note = "DEMO: waited for the payment gate with every other request" });
        });
        trouble.MapPost("/pileup/open", () => Results.Ok(new { released = PaymentGate.Open(), note = "DEMO: gate opened" }));
    }
}

/// <summary>DEMO ONLY: a cache that only grows.</summary>
internal static class SessionCache
{
    private static readonly List<AbandonedCart> Carts = [];

    public static int Count
    {
        get
        {
            lock (Carts)
            {
                return Carts.Count;
            }
        }
    }

    public static void Remember(int count)
    {
        lock (Carts)
        {
            for (var i = 0; i < count; i++)
            {
                Carts.Add(new AbandonedCart(Guid.NewGuid(), new byte[4096]));
            }
        }
    }
}

/// <summary>DEMO ONLY: what the leak holds.</summary>
/// <param name="Id">The cart.</param>
/// <param name="Snapshot">Its serialized contents (4 KB).</param>
internal sealed record AbandonedCart(Guid Id, byte[] Snapshot);

/// <summary>DEMO ONLY: a "legacy" client that blocks on async work.</summary>
internal static class LegacyTaxService
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ComputeTaxBlocking(int milliseconds) => Task.Delay(milliseconds).Wait();
}

/// <summary>DEMO ONLY: validation by exception.</summary>
internal static class CouponValidator
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static bool IsValid(string code)
    {
        try
        {
            throw new CouponExpiredException(code);
        }
        catch (CouponExpiredException)
        {
            return false;
        }
    }
}

/// <summary>DEMO ONLY: the exception the validator throws.</summary>
/// <param name="code">The coupon.</param>
internal sealed class CouponExpiredException(string code) : Exception($"coupon {code} has expired");

/// <summary>DEMO ONLY: the outer level of the pile-up's chain.</summary>
internal static class StuckOrders
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static async Task<string> CheckoutAsync()
    {
        var charge = await StuckPayments.ChargeAsync().ConfigureAwait(false);
        return $"order-{charge}";
    }
}

/// <summary>DEMO ONLY: the inner level: waits on the payment provider (a gate every request shares).</summary>
internal static class StuckPayments
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static async Task<int> ChargeAsync()
    {
        var id = await PaymentGate.Current.ConfigureAwait(false);
        return id;
    }
}

/// <summary>DEMO ONLY: one <see cref="TaskCompletionSource{TResult}"/> that every pile-up request awaits until it is opened.</summary>
internal static class PaymentGate
{
    private static readonly Lock Gate = new();
    private static TaskCompletionSource<int> s_gate = NewGate();
    private static int s_waiting;

    /// <summary>Gets the gate's task; the caller counts as waiting until it opens.</summary>
    public static Task<int> Current
    {
        get
        {
            lock (Gate)
            {
                s_waiting++;
                return s_gate.Task;
            }
        }
    }

    /// <summary>Opens the gate (everyone waiting goes on) and closes a new one; returns how many were waiting.</summary>
    public static int Open()
    {
        TaskCompletionSource<int> opened;
        int waiting;
        lock (Gate)
        {
            opened = s_gate;
            waiting = s_waiting;
            s_waiting = 0;
            s_gate = NewGate();
        }

        opened.TrySetResult(waiting);
        return waiting;
    }

    private static TaskCompletionSource<int> NewGate()
    {
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        // Nobody is stuck forever in a demo: a gate nobody opens opens itself after two minutes.
        _ = Task.Delay(TimeSpan.FromMinutes(2)).ContinueWith(_ => gate.TrySetResult(-1), TaskScheduler.Default);
        return gate;
    }
}
