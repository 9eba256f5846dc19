using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Npgsql;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.AspNetCore.Tests.Triggers;
using Xunit.Abstractions;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>
/// The sample's two processes — the shop and the inventory it calls — share one store; one failing order's span
/// table, asked of either, has rows from both services, each with the hot method of its own code.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class CrossServiceSpanTableTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("PostgreSql")]
    public async Task FailingOrderAcrossTwoServices_SpanTableHasRowsFromBoth(string provider)
    {
        var assembly = ShopDemoProcess.FindAssembly();
        Skip.If(assembly is null, "samples/ShopDemo is not built; build the solution (dotnet test Diagnostics.sln does).");
        var postgres = Environment.GetEnvironmentVariable("TRACEPROF_TEST_POSTGRES");
        Skip.If(provider == "PostgreSql" && string.IsNullOrEmpty(postgres), "TRACEPROF_TEST_POSTGRES is not set, so there is no PostgreSQL server to share; .ci/run starts one and sets it.");

        var folder = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        var schema = provider == "PostgreSql" ? "traceprof_test_" + Guid.NewGuid().ToString("N")[..12] : null;
        if (schema is not null)
        {
            await ExecuteAsync(postgres!, $"CREATE SCHEMA {schema};");
        }

        // EventPipe's sampler: the inventory's span is one short request (≈ 100 ms of CPU, much of it first-call JIT),
        // a handful of samples at perf_event's 100 Hz of CPU, too few for its own code to be reliably among its top frames.
        string[] store = schema is not null
            ? ["--TraceProf:Storage:Provider=PostgreSql", $"--TraceProf:Storage:ConnectionString={new NpgsqlConnectionStringBuilder(postgres) { SearchPath = schema }}", $"--TraceProf:Storage:Path={folder}", "--TraceProf:Cpu:Sampler=eventpipe"]
            : [$"--TraceProf:Storage:Path={folder}", "--TraceProf:Cpu:Sampler=eventpipe"];
        try
        {
            await using var inventory = await ShopDemoProcess.StartAsync(assembly!, [.. store, "--ShopDemo:Role=inventory"]);
            await using var shop = await ShopDemoProcess.StartAsync(assembly!, [.. store, $"--ShopDemo:InventoryUrl={inventory.Address}"]);
            var traceId = await FailOrderAsync(shop, inventory);

            using var response = await inventory.Client.SendAsync(Requests.Get($"/debug/traces/{traceId}/spans", "admin"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var json = await response.Content.ReadAsStringAsync();
            output.WriteLine(json);
            using var doc = JsonDocument.Parse(json);
            var spans = doc.RootElement.GetProperty("spans").EnumerateArray().ToList();
            // The order's request span; its HttpClient call to the inventory is a span of its own (first to last sample).
            var order = Assert.Single(spans, s => s.GetProperty("serviceName").GetString() == "shop" && s.GetProperty("route").GetString() == "/orders" && s.GetProperty("durationSource").GetString() == "span");
            Assert.Contains(spans, s => s.GetProperty("serviceName").GetString() == "shop" && s.GetProperty("localRootSpanId").GetString() == order.GetProperty("spanId").GetString() && s.GetProperty("durationSource").GetString() == "samples");
            var stock = Assert.Single(spans, s => s.GetProperty("serviceName").GetString() == "inventory" && s.GetProperty("durationSource").GetString() == "span");
            Assert.Equal("span", order.GetProperty("durationSource").GetString());
            Assert.Equal("POST", order.GetProperty("method").GetString());

            // The order's span began before and ended after the inventory call it made.
            var orderStart = DateTimeOffset.Parse(order.GetProperty("start").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            var stockStart = DateTimeOffset.Parse(stock.GetProperty("start").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(orderStart <= stockStart, $"order {orderStart:O}, inventory {stockStart:O}");
            Assert.True(order.GetProperty("durationMs").GetDouble() >= stock.GetProperty("durationMs").GetDouble());
            bool Lists(JsonElement span, string method) => span.GetProperty("topFrames").EnumerateArray().Any(f => f.GetProperty("function").GetString()!.Contains(method, StringComparison.Ordinal));
            Assert.True(Lists(order, "PricingEngine.ComputeVolumeDiscountFactor"), "the shop's order span lists its pricing code among its top frames");
            Assert.True(Lists(stock, "Inventory.ReconcileStockLevels"), "the inventory span lists the inventory's code among its top frames");
            Assert.DoesNotContain(stock.GetProperty("topFrames").EnumerateArray(), f => f.GetProperty("function").GetString()!.Contains("PricingEngine", StringComparison.Ordinal));
            var waitKnown = doc.RootElement.GetProperty("snapshots").TryGetProperty("contention", out _) || doc.RootElement.GetProperty("snapshots").TryGetProperty("block", out _);
            Assert.Equal(waitKnown ? JsonValueKind.Number : JsonValueKind.Null, stock.GetProperty("waitMs").ValueKind);
        }
        finally
        {
            TraceProfHost.DeleteStorage(folder);
            if (schema is not null)
            {
                await ExecuteAsync(postgres!, $"DROP SCHEMA {schema} CASCADE;");
            }
        }
    }

    /// <summary>Sends one failing order through the shop and waits for both services' recorder snapshots of it.</summary>
    internal static async Task<string> FailOrderAsync(ShopDemoProcess shop, ShopDemoProcess inventory)
    {
        await FlightRecorderServiceTests.WaitUntilRecordingAsync(shop.Client);
        await FlightRecorderServiceTests.WaitUntilRecordingAsync(inventory.Client);
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var order = new HttpRequestMessage(HttpMethod.Post, new Uri("/orders?items=50", UriKind.Relative));
        order.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using (var failed = await shop.Client.SendAsync(order))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var rows = await shop.Client.SendAsync(Requests.Get($"/debug/snapshots?traceId={traceId}&kind=cpu", "admin"));
            using var list = JsonDocument.Parse(await rows.Content.ReadAsStringAsync());
            var services = list.RootElement.GetProperty("snapshots").EnumerateArray().Select(r => r.GetProperty("serviceName").GetString()).Distinct().Order().ToList();
            if (services is ["inventory", "shop"])
            {
                return traceId;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"both services' recorder snapshots of trace {traceId}; found [{string.Join(", ", services)}]");
            await Task.Delay(200);
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
