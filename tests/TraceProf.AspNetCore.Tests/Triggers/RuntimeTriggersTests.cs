using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TraceProf.AspNetCore.Tests.Endpoints;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.AspNetCore.Triggers;
using TraceProf.Tests;

namespace TraceProf.AspNetCore.Tests.Triggers;

/// <summary>
/// The runtime triggers (issue 19) through a real host, the runtime's real System.Runtime meter and the real flight
/// recorder: a CPU-bound load and a thread-pool queue build-up.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class RuntimeTriggersTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task CpuBoundLoad_WithCpuPercentSetLow_SavesOneProcessWideCpuSnapshotOfTheWindow_ThenRespectsTheCooldown()
    {
        using var hot = new HotLoop();
        await using var host = await TraceProfHost.StartAsync(options =>
        {
            options.FlightRecorder.Enabled = true;
            options.FlightRecorder.OnThreadPoolStarvation = false;
            options.FlightRecorder.Triggers.CpuPercent = 1;
            options.FlightRecorder.Triggers.CpuWindowSeconds = 1;
        });
        var triggers = host.Services.GetRequiredService<RuntimeTriggers>();

        var row = await WaitForRowAsync(host.Client, "cpu:", "cpu");
        Assert.Matches(@"^cpu:\d+%$", row.GetProperty("trigger").GetString());
        using var download = await host.Client.SendAsync(Requests.Get($"/debug/snapshots/{row.GetProperty("id").GetString()}", "admin"));
        var profile = CpuProfileEndpointTests.Decode(await download.Content.ReadAsByteArrayAsync());
        var samples = FlightRecorderExceptionsTests.Samples(profile).ToList();
        Assert.Contains(samples, s => s.Frames.Any(f => f.Contains(HotLoop.MethodName, StringComparison.Ordinal)));
        Assert.All(samples, s => Assert.False(s.Labels.ContainsKey("scope"), "a process-wide snapshot has no request scope"));

        // The load goes on; three more readings over the threshold are held back by the 10-minute cooldown.
        var (evaluations, _) = triggers.Counts;
        await WaitAsync(() => triggers.Counts.Evaluations >= evaluations + 3 && triggers.Counts.CooledDown >= 1, "three more readings");
        Assert.Equal(1, triggers.Saved);
        Assert.Equal(1, await CountAsync(host.Client, "cpu:", "cpu"));

        using var index = await host.Client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
        using var doc = JsonDocument.Parse(await index.Content.ReadAsStringAsync());
        var status = doc.RootElement.GetProperty("flightRecorder").GetProperty("runtimeTriggers");
        Assert.Equal(1, status.GetProperty("fired").GetInt64());
        Assert.True(status.GetProperty("lastWindow").GetProperty("cpuPercent").GetDouble() >= 1);
    }

    [Fact]
    public async Task ThreadPoolQueueBuildUp_FiresTheQueueTrigger()
    {
        await using var host = await TraceProfHost.StartAsync(options =>
        {
            options.FlightRecorder.Enabled = true;
            options.FlightRecorder.OnThreadPoolStarvation = false;
            options.FlightRecorder.Triggers.ThreadPoolQueueLength = 20;
            options.FlightRecorder.Triggers.CpuWindowSeconds = 1;
        });
        await FlightRecorderServiceTests.WaitUntilRecordingAsync(host.Client);

        // Work items that sleep (the pool is not told they block), fed from a dedicated thread so that the queue stays
        // over the threshold however many workers the pool has (earlier tests may have left it many), until the
        // evaluator has seen a whole window of it.
        var triggers = host.Services.GetRequiredService<RuntimeTriggers>();
        var sustained = 0;
        var feeder = new Thread(() =>
        {
            var waited = Stopwatch.StartNew();
            while (Volatile.Read(ref sustained) == 0 && waited.Elapsed < Patience)
            {
                while (ThreadPool.PendingWorkItemCount < 200)
                {
                    ThreadPool.QueueUserWorkItem(static _ => Thread.Sleep(20));
                }

                if (triggers.Last is { MinQueueLength: >= 20 })
                {
                    Volatile.Write(ref sustained, 1);
                }

                Thread.Sleep(5);
            }
        }) { IsBackground = true, Name = "queue feeder" };
        feeder.Start();
        try
        {
            await WaitAsync(() => Volatile.Read(ref sustained) == 1, "a whole window of a long queue");
            var row = await WaitForRowAsync(host.Client, "threadpool-queue:", kind: null);
            Assert.Matches(@"^threadpool-queue:\d+$", row.GetProperty("trigger").GetString());
            Assert.True(int.Parse(row.GetProperty("trigger").GetString()!["threadpool-queue:".Length..], System.Globalization.CultureInfo.InvariantCulture) >= 20);
        }
        finally
        {
            Volatile.Write(ref sustained, 1);
            feeder.Join();
        }
    }

    [Theory]
    [InlineData("TraceProf:FlightRecorder:Triggers:CpuPercent", "101", "Triggers:CpuPercent")]
    [InlineData("TraceProf:FlightRecorder:Triggers:CpuWindowSeconds", "0", "Triggers:CpuWindowSeconds")]
    [InlineData("TraceProf:FlightRecorder:Triggers:TriggerCooldownMinutes", "0", "Triggers:TriggerCooldownMinutes")]
    [InlineData("TraceProf:FlightRecorder:Triggers:ThreadPoolQueueLength", "-1", "Triggers:ThreadPoolQueueLength")]
    public async Task BadTriggerSetting_FailsStartWithItsName(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TraceProfHost.StartAsync(configureBuilder: builder => builder.Configuration[key] = value));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> WaitForRowAsync(HttpClient client, string trigger, string? kind)
    {
        JsonElement found = default;
        await WaitAsync(
            async () =>
            {
                using var response = await client.SendAsync(Requests.Get($"/debug/snapshots?trigger={Uri.EscapeDataString(trigger)}" + (kind is null ? "" : $"&kind={kind}"), "admin"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var rows = doc.RootElement.GetProperty("snapshots");
                if (rows.GetArrayLength() == 0)
                {
                    return false;
                }

                found = rows[0].Clone();
                return true;
            },
            $"a snapshot with trigger {trigger}");
        return found;
    }

    private static async Task<int> CountAsync(HttpClient client, string trigger, string kind)
    {
        using var response = await client.SendAsync(Requests.Get($"/debug/snapshots?trigger={Uri.EscapeDataString(trigger)}&kind={kind}", "admin"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("snapshots").GetArrayLength();
    }

    private static Task WaitAsync(Func<bool> condition, string what) => WaitAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < Patience, $"Timed out after {Patience.TotalSeconds} s waiting for {what}.");
            await Task.Factory.StartNew(() => Thread.Sleep(100), TaskCreationOptions.LongRunning);
        }
    }
}
