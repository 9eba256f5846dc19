using System.Text.Json;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Triggers;

/// <summary>The memory-growth trigger through a real host: a heap that grows past the threshold gets a heap snapshot.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class HeapGrowthTriggerTests
{
    private static List<byte[]>? _leak;

    [Fact]
    public async Task HeapGrowingPastTheThreshold_SavesOneHeapSnapshot_WithTriggerHeapGrowth()
    {
        await using var host = await TraceProfHost.StartAsync(o =>
        {
            o.FlightRecorder.HeapGrowthPercent = 20;
            o.FlightRecorder.HeapGrowthCheckSeconds = 1;
        });
        try
        {
            // The baseline: the heap after a full GC, read at the trigger's next tick.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            await Task.Delay(TimeSpan.FromSeconds(2.5));

            // Grow the live heap well past 20 % of itself, then let a full GC record it.
            var live = GC.GetGCMemoryInfo(GCKind.FullBlocking).HeapSizeBytes;
            _leak = [.. Enumerable.Range(0, (int)Math.Max(64, live * 3 / 2 / 65536)).Select(_ => new byte[65536])];
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);

            JsonElement? row = null;
            for (var i = 0; i < 60 && row is null; i++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                using var list = await host.Client.SendAsync(Requests.Get("/debug/snapshots?kind=heap", "admin"));
                using var rows = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
                row = rows.RootElement.GetProperty("snapshots").EnumerateArray()
                    .Where(r => r.GetProperty("trigger").GetString()!.StartsWith("heap-growth:", StringComparison.Ordinal))
                    .Select(r => (JsonElement?)r.Clone())
                    .FirstOrDefault();
            }

            Assert.NotNull(row);
            var percent = int.Parse(row.Value.GetProperty("trigger").GetString()!["heap-growth:".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(percent >= 20, $"trigger {row.Value.GetProperty("trigger").GetString()}");

            // At most one per interval (60 minutes by default), however long the heap stays grown.
            await Task.Delay(TimeSpan.FromSeconds(3));
            using var again = await host.Client.SendAsync(Requests.Get("/debug/snapshots?kind=heap", "admin"));
            using var all = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
            Assert.Single(all.RootElement.GetProperty("snapshots").EnumerateArray(), r => r.GetProperty("trigger").GetString()!.StartsWith("heap-growth:", StringComparison.Ordinal));
        }
        finally
        {
            _leak = null;
        }
    }
}
