using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using TraceProf.AspNetCore.Tests.Endpoints;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.AspNetCore.Triggers;

namespace TraceProf.AspNetCore.Tests.Triggers;

/// <summary>
/// The thread-pool starvation trigger (issue 14) through a real host and this process's real pool: concurrent
/// sync-over-async requests block more workers than the pool has until the runtime injects threads.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class StarvationTriggerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task SyncOverAsyncRequestsStarveThePool_ABlockAndAThreadsSnapshotAreStoredNamingTheBlockingMethod_AndTheHostKeepsServing()
    {
        await using var host = await TraceProfHost.StartAsync(
            options => options.FlightRecorder.Enabled = true,
            configureApp: app =>
            {
                app.MapGet("/sync-over-async", (int ms) => StarvationWorkload.WaitForTheSlowDependencySynchronously(ms));
                app.MapGet("/healthy", () => "ok");
            });
        await FlightRecorderServiceTests.WaitUntilRecordingAsync(host.Client);

        ThreadPool.GetMinThreads(out var minWorkers, out _);
        var concurrency = Math.Max(minWorkers, ThreadPool.ThreadCount) + 8;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await host.Client.SendAsync(Requests.Get("/sync-over-async?ms=300"), stop.Token);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
            }
        })).ToArray();

        JsonElement block;
        try
        {
            block = await WaitForRowAsync(host.Client, "block");
            await WaitForRowAsync(host.Client, "threads");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(load).WaitAsync(Patience);
        }

        Assert.Equal(StarvationTrigger.Trigger, block.GetProperty("trigger").GetString());
        using var download = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{block.GetProperty("id").GetString()}", "admin"));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var profile = CpuProfileEndpointTests.Decode(await download.Content.ReadAsByteArrayAsync());
        var blocked = FlightRecorderExceptionsTests.Samples(profile)
            .Where(s => s.Frames.Any(f => f.Contains(nameof(StarvationWorkload.WaitForTheSlowDependencySynchronously), StringComparison.Ordinal)))
            .ToList();
        Assert.NotEmpty(blocked);
        Assert.Contains(blocked, s => s.Labels.GetValueOrDefault("threadpool") == "true" && s.Labels.GetValueOrDefault("http.route") == "/sync-over-async");

        // The host keeps serving, and the index counts what the recorder saw.
        using (var healthy = await host.Client.SendAsync(Requests.Get("/healthy")))
        {
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        }

        using var index = await host.Client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
        using var doc = JsonDocument.Parse(await index.Content.ReadAsStringAsync());
        var pool = doc.RootElement.GetProperty("threadPool");
        Assert.True(pool.GetProperty("starvationAdjustments").GetInt64() + pool.GetProperty("blockingInjections").GetInt64() >= 1);
        Assert.Equal(1, pool.GetProperty("starvationSnapshots").GetInt64());

        // One per minute by default: the pool kept injecting during the load, but only one pair was taken.
        Assert.Equal(1, host.Services.GetRequiredService<StarvationTrigger>().Saved);
    }

    [Fact]
    public async Task StarvationIntervalOutOfRange_FailsStartWithItsName()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TraceProfHost.StartAsync(configureBuilder: builder => builder.Configuration["TraceProf:FlightRecorder:StarvationSnapshotMinIntervalSeconds"] = "5"));
        Assert.Contains("StarvationSnapshotMinIntervalSeconds", error.Message, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> WaitForRowAsync(HttpClient client, string kind)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            using (var response = await client.SendAsync(Requests.Get($"/debug/snapshots?trigger={StarvationTrigger.Trigger}&kind={kind}", "admin")))
            {
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var rows = doc.RootElement.GetProperty("snapshots");
                if (rows.GetArrayLength() > 0)
                {
                    return rows[0].Clone();
                }
            }

            Assert.True(waited.Elapsed < Patience, $"Timed out after {Patience.TotalSeconds} s waiting for a {StarvationTrigger.Trigger} {kind} snapshot.");
            await Task.Delay(200);
        }
    }
}

internal static class StarvationWorkload
{
    /// <summary>Sync-over-async: blocks its pool thread on a task (Task.Wait), as .Result on an async client would.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static string WaitForTheSlowDependencySynchronously(int ms)
    {
        Task.Delay(ms).Wait();
        return "done";
    }
}
