using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>
/// A snapshot row says how many traces it holds; the ids themselves only with <c>?include=traces</c> (a 30 s capture held
/// 657 of them: 29.5 KB of JSON for one row).
/// </summary>
public sealed class SnapshotListTests
{
    private static readonly string[] Contained = [.. Enumerable.Range(1, 300).Select(i => "a" + i.ToString("x31", System.Globalization.CultureInfo.InvariantCulture))];

    private static async Task<TraceProfHost> StartWithARowHoldingManyTracesAsync()
    {
        var host = await TraceProfHost.StartAsync();
        var file = Path.Combine(host.StoragePath, "profile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(host.StoragePath);
        await File.WriteAllBytesAsync(file, [1, 2, 3]);
        await host.Services.GetRequiredService<ISnapshotStore>().AddAsync(
            new SnapshotInfo
            {
                Id = SnapshotIds.NewId(TimeProvider.System),
                TraceId = Contained[0],
                Kind = "cpu",
                ServiceName = "shop",
                HostName = "test-host",
                StartedAt = DateTimeOffset.UtcNow,
                Duration = TimeSpan.FromSeconds(30),
                ContainedTraceIds = Contained,
            },
            new Dictionary<SnapshotArtifact, string> { [SnapshotArtifact.Pprof] = file },
            CancellationToken.None);
        return host;
    }

    [Fact]
    public async Task List_GivesTheContainedTraceCount_NotTheIds()
    {
        await using var host = await StartWithARowHoldingManyTracesAsync();
        using var response = await host.Client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        var row = json.RootElement.GetProperty("snapshots")[0];

        Assert.Equal(300, row.GetProperty("containedTraceCount").GetInt32());
        Assert.False(row.TryGetProperty("containedTraceIds", out _));
        Assert.DoesNotContain(Contained[^1], body, StringComparison.Ordinal);
        Assert.True(body.Length < 2048, $"one row without the ids is {body.Length} bytes");
    }

    [Fact]
    public async Task List_IncludeTraces_ListsEveryContainedId()
    {
        await using var host = await StartWithARowHoldingManyTracesAsync();
        using var response = await host.Client.SendAsync(Requests.Get("/debug/snapshots?include=traces", "admin"));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var row = json.RootElement.GetProperty("snapshots")[0];

        Assert.Equal(300, row.GetProperty("containedTraceCount").GetInt32());
        Assert.Equal(Contained, row.GetProperty("containedTraceIds").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task List_ByAContainedTraceId_FindsTheRow_WithoutTheIds()
    {
        await using var host = await StartWithARowHoldingManyTracesAsync();
        using var response = await host.Client.SendAsync(Requests.Get($"/debug/snapshots?traceId={Contained[123]}", "admin"));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(1, json.RootElement.GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("include=trace", "'trace'")]
    [InlineData("include=traces,ids", "'traces,ids'")]
    [InlineData("include=traces&include=traces", "include")]
    public async Task List_IncludeOtherThanTraces_Returns400SayingWhatIsAllowed(string query, string echoed)
    {
        await using var host = await TraceProfHost.StartAsync();
        using var response = await host.Client.SendAsync(Requests.Get("/debug/snapshots?" + query, "admin"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(echoed, await ProblemResponses.DetailAsync(response), StringComparison.Ordinal);
    }
}
