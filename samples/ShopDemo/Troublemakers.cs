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
