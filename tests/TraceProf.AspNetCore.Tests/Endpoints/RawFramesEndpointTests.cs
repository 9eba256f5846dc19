using System.Net;
using System.Runtime.CompilerServices;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary><c>?raw=1</c> keeps the runtime's async plumbing that captures fold by default.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class RawFramesEndpointTests
{
    private const string Dispatch = "System.Threading.ThreadPoolWorkQueue.Dispatch";

    [Fact]
    public async Task CpuProfile_FoldsThePoolsDispatch_UnlessRawIsOne()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var stop = new CancellationTokenSource();
        var busy = Enumerable.Range(0, 2).Select(_ => Task.Run(() => AsyncBurner.RunAsync(stop.Token))).ToArray();
        try
        {
            var folded = await NamesAsync(host, "/debug/profile?seconds=1");
            var raw = await NamesAsync(host, "/debug/profile?seconds=1&raw=1");

            Assert.Contains(raw, n => n.Contains(nameof(AsyncBurner.BurnOnThePoolDistinctively), StringComparison.Ordinal));
            Assert.Contains(Dispatch, raw);
            Assert.Contains(folded, n => n.Contains(nameof(AsyncBurner.BurnOnThePoolDistinctively), StringComparison.Ordinal));
            Assert.DoesNotContain(Dispatch, folded);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(busy);
        }
    }

    [Fact]
    public async Task Raw_NotZeroOrOne_Returns400()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1&raw=yes", "admin"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("raw must be 0", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }

    private static async Task<HashSet<string>> NamesAsync(TraceProfHost host, string path)
    {
        using var response = await host.Client.SendAsync(Requests.Get(path, "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var profile = CpuProfileEndpointTests.Decode(await response.Content.ReadAsByteArrayAsync());
        return [.. profile.Function.Select(f => profile.StringTable[(int)f.Name])];
    }
}

/// <summary>Async work that keeps pool threads busy between awaits.</summary>
internal static class AsyncBurner
{
    public static async Task RunAsync(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            await Task.Yield();
            BurnOnThePoolDistinctively();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static double BurnOnThePoolDistinctively()
    {
        var x = 0.0;
        for (var i = 0; i < 200_000; i++)
        {
            x += Math.Sqrt(i + x);
        }

        return x;
    }
}
