using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using TraceProf.AspNetCore.Endpoints;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary><c>/debug/pprof/heap</c> and <c>/debug/pprof/exceptions</c> through real HTTP, real snapshots and go tool pprof.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class HeapAndExceptionsEndpointTests
{
    private const int Leaked = 3_000;

    [SkippableFact]
    public async Task Heap_NamesTheLeakAndItsHolder_StoresKindHeap_AndBaseShowsWhatGrew()
    {
        await using var host = await TraceProfHost.StartAsync();
        EndpointLeak.Leak(Leaked);

        using var first = await host.Client.SendAsync(Requests.Get("/debug/pprof/heap?gc=1", "admin"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("true", Header(first, HeapEndpoints.CompleteHeader));
        Assert.True(long.Parse(Header(first, HeapEndpoints.ObjectsHeader)!, System.Globalization.CultureInfo.InvariantCulture) > Leaked);
        var firstId = Header(first, ProfileResponses.SnapshotIdHeader)!;
        var profile = CpuProfileEndpointTests.Decode(await first.Content.ReadAsByteArrayAsync());
        Assert.Equal("inuse_space", profile.StringTable[(int)profile.DefaultSampleType]);
        Assert.Contains(typeof(EndpointLeakedItem).FullName!, profile.StringTable);

        // The row is a heap snapshot under the request's trace.
        using var list = await host.Client.SendAsync(Requests.Get("/debug/snapshots?kind=heap", "admin"));
        using var rows = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        Assert.Contains(rows.RootElement.GetProperty("snapshots").EnumerateArray(), r => r.GetProperty("id").GetString() == firstId);

        EndpointLeak.Leak(Leaked);
        using var grew = await host.Client.SendAsync(Requests.Get($"/debug/pprof/heap?base={firstId}", "admin"));
        Assert.Equal(HttpStatusCode.OK, grew.StatusCode);
        Assert.Equal(firstId, Header(grew, HeapEndpoints.BaseHeader));
        var bytes = await grew.Content.ReadAsByteArrayAsync();

        var go = GoToolPprofTests.FindOnPath("go");
        Skip.If(go is null, "'go' is not on PATH, so 'go tool pprof' cannot be run; install it (apt-get install golang-go). .ci/run does.");
        var file = Path.Combine(host.StoragePath, "grew.pb.gz");
        await File.WriteAllBytesAsync(file, bytes);
        var top = await GoToolPprofTests.RunAsync(go!, $"tool pprof -sample_index=inuse_objects -top {file}");
        var line = top.Split('\n').Single(l => l.TrimEnd().EndsWith(typeof(EndpointLeakedItem).FullName!, StringComparison.Ordinal));
        Assert.StartsWith(Leaked.ToString(System.Globalization.CultureInfo.InvariantCulture) + " ", line.TrimStart(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/debug/pprof/heap?base=nothex", HttpStatusCode.BadRequest, "base must be a snapshot id")]
    [InlineData("/debug/pprof/heap?base=0123456789abcdef0123456789abcdef", HttpStatusCode.NotFound, "No snapshot with id")]
    [InlineData("/debug/pprof/heap?gc=2", HttpStatusCode.BadRequest, "gc must be 0 or 1")]
    [InlineData("/debug/pprof/heap?seconds=5", HttpStatusCode.BadRequest, "one moment")]
    [InlineData("/debug/pprof/heap?format=nettrace", HttpStatusCode.BadRequest, "no raw trace")]
    [InlineData("/debug/pprof/exceptions?seconds=0", HttpStatusCode.BadRequest, "seconds")]
    public async Task BadParameters_Return400Or404_BeforeAnythingRuns(string path, HttpStatusCode status, string detail)
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get(path, "admin"));
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
        using var list = await host.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        using var rows = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        Assert.Empty(rows.RootElement.GetProperty("snapshots").EnumerateArray());
    }

    [Theory]
    [InlineData("/debug/pprof/heap")]
    [InlineData("/debug/pprof/exceptions?seconds=1")]
    public async Task SreProfileRole_LacksTheCapability_Returns403(string path)
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get(path, "sre:profile"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Heap_BaseOfAnotherKind_Returns400()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var cpu = await host.Client.SendAsync(Requests.Get("/debug/pprof/exceptions?seconds=1", "admin"));
        var cpuId = Header(cpu, ProfileResponses.SnapshotIdHeader);
        using var response = await host.Client.SendAsync(Requests.Get($"/debug/pprof/heap?base={cpuId}", "admin"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is a exceptions snapshot", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heap_LargerThanTheLimit_Returns507NamingTheSetting_AndTheHostKeepsServing()
    {
        await using var host = await TraceProfHost.StartAsync(o => o.Heap.MaxHeapMegabytes = 1);
        EndpointLeak.Leak(Leaked); // well over a megabyte of heap
        using var response = await host.Client.SendAsync(Requests.Get("/debug/pprof/heap", "admin"));
        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        Assert.Contains("TraceProf:Heap:MaxHeapMegabytes", await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
        Assert.Equal("hello", await host.Client.GetStringAsync(new Uri("/hello", UriKind.Relative)));
    }

    [SkippableFact]
    public async Task Heap_SecondAtTheSameTime_Returns429WithRetryAfter()
    {
        await using var host = await TraceProfHost.StartAsync();
        EndpointLeak.Leak(Leaked);
        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => host.Client.SendAsync(Requests.Get("/debug/pprof/heap", "admin"))));
        try
        {
            Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
            Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r =>
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode);
                Assert.NotNull(r.Headers.RetryAfter);
            });
            Skip.If(responses.All(r => r.StatusCode == HttpStatusCode.OK), "the snapshots ran one after another on this machine; nothing to refuse");
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task Exceptions_CountsEachThrow_TypeAsTheLeaf_NoMessagesByDefault()
    {
        await using var host = await TraceProfHost.StartAsync();
        using var stop = new CancellationTokenSource();
        var thrower = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                EndpointThrower.RejectDistinctively();
                await Task.Delay(2);
            }
        });
        using var response = await host.Client.SendAsync(Requests.Get("/debug/pprof/exceptions?seconds=1", "admin"));
        await stop.CancelAsync();
        await thrower;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var profile = CpuProfileEndpointTests.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("exceptions", profile.StringTable[(int)profile.SampleType[0].Type]);
        Assert.Contains(typeof(EndpointRejectedException).FullName!, profile.StringTable);
        Assert.Contains("exception_type", profile.StringTable);
        Assert.DoesNotContain("exception_message", profile.StringTable);
        Assert.DoesNotContain(profile.StringTable, s => s.Contains("secret-coupon", StringComparison.Ordinal));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;
}

/// <summary>What the heap tests leak: a static list of items holding byte arrays.</summary>
internal static class EndpointLeak
{
    private static readonly List<EndpointLeakedItem> Items = [];

    public static void Leak(int count)
    {
        lock (Items)
        {
            for (var i = 0; i < count; i++)
            {
                Items.Add(new EndpointLeakedItem(new byte[1000]));
            }
        }
    }
}

/// <summary>A distinctive leaked type.</summary>
/// <param name="Payload">What it holds.</param>
internal sealed record EndpointLeakedItem(byte[] Payload);

/// <summary>A distinctive thrower.</summary>
internal static class EndpointThrower
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RejectDistinctively()
    {
        try
        {
            throw new EndpointRejectedException("secret-coupon expired");
        }
        catch (EndpointRejectedException)
        {
        }
    }
}

/// <summary>A distinctive exception type (top level: the runtime's event names nested types without their outer type).</summary>
/// <param name="message">The message (never in the profile by default).</param>
internal sealed class EndpointRejectedException(string message) : Exception(message);
