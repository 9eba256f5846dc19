using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Npgsql;
using TraceProf.AspNetCore.Tests.Infrastructure;
using PprofSample = TraceProf.Encoding.Pprof.Sample;

namespace TraceProf.AspNetCore.Tests.Endpoints;

/// <summary>
/// Two real processes of the sample — the shop and the inventory service it calls — share one store; a trace
/// that crosses both comes back from either as one profile with both services' samples.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class CrossServiceTraceTests
{

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("PostgreSql")]
    public async Task FailingRequestAcrossTwoServices_TraceViewMergesBothServicesSamples(string provider)
    {
        var assembly = ShopDemoProcess.FindAssembly();
        Skip.If(assembly is null, "samples/ShopDemo is not built; build the solution (dotnet test Diagnostics.sln does).");
        var postgres = Environment.GetEnvironmentVariable("TRACEPROF_TEST_POSTGRES");
        Skip.If(provider == "PostgreSql" && string.IsNullOrEmpty(postgres), "TRACEPROF_TEST_POSTGRES is not set, so there is no PostgreSQL server to share; .ci/run starts one and sets it.");

        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var folder = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        var schema = provider == "PostgreSql" ? await CreateSchemaAsync(postgres!) : null;
        string[] store = schema is not null
            ? ["--TraceProf:Storage:Provider=PostgreSql", $"--TraceProf:Storage:ConnectionString={new NpgsqlConnectionStringBuilder(postgres) { SearchPath = schema }}", $"--TraceProf:Storage:Path={folder}"]
            : [$"--TraceProf:Storage:Path={folder}"];
        try
        {
            await using var inventory = await ShopDemoProcess.StartAsync(assembly!, [.. store, "--ShopDemo:Role=inventory"]);
            await using var shop = await ShopDemoProcess.StartAsync(assembly!, [.. store, $"--ShopDemo:InventoryUrl={inventory.Address}"]);

            var captures = new[] { shop, inventory }.Select(s => s.Client.SendAsync(Requests.Get("/debug/profile?seconds=5", "admin"))).ToList();
            await Task.Delay(TimeSpan.FromSeconds(1.5));

            // The same trace, retried: each order fails deep in the inventory (more than 45 items).
            for (var i = 0; i < 15; i++)
            {
                using var order = new HttpRequestMessage(HttpMethod.Post, new Uri("/orders?items=50", UriKind.Relative));
                order.Headers.Add("traceparent", $"00-{traceId}-{i + 1:x16}-01");
                using var failed = await shop.Client.SendAsync(order);
                Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            }

            foreach (var capture in captures)
            {
                using var done = await capture;
                Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            }

            // Either service finds both services' rows and serves the merged trace.
            using var rows = await inventory.Client.SendAsync(Requests.Get($"/debug/snapshots?traceId={traceId}", "admin"));
            using var list = JsonDocument.Parse(await rows.Content.ReadAsStringAsync());
            var snapshots = list.RootElement.GetProperty("snapshots").EnumerateArray().ToList();
            Assert.Equal(["inventory", "shop"], snapshots.Where(r => r.GetProperty("trigger").GetString() == "request").Select(r => r.GetProperty("serviceName").GetString()).Order());

            // Each service's flight recorder also saved the failure on its own, once for the trace despite 15 failures.
            Assert.Equal(
                ["inventory", "shop"],
                snapshots.Where(r => r.GetProperty("trigger").GetString() == "status:500" && r.GetProperty("kind").GetString() == "cpu").Select(r => r.GetProperty("serviceName").GetString()).Order());

            using var merged = await shop.Client.SendAsync(Requests.Get($"/debug/traces/{traceId}?format=pprof", "admin"));
            Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
            var profile = CpuProfileEndpointTests.Decode(await merged.Content.ReadAsByteArrayAsync());
            string S(long i) => profile.StringTable[(int)i];
            string? Label(PprofSample s, string key) => s.Label.Where(l => S(l.Key) == key).Select(l => S(l.Str)).FirstOrDefault();
            var names = profile.Function.ToDictionary(f => f.Id, f => S(f.Name));
            var locations = profile.Location.ToDictionary(l => l.Id, l => names[l.Line[0].FunctionId]);
            bool Has(PprofSample s, string method) => s.LocationId.Any(id => locations[id].Contains(method, StringComparison.Ordinal));

            Assert.All(profile.Sample, s => Assert.Equal(traceId, Label(s, "trace_id")));
            Assert.Contains(profile.Sample, s => Label(s, "service.name") == "shop" && Has(s, "PricingEngine.ComputeVolumeDiscountFactor"));
            Assert.Contains(profile.Sample, s => Label(s, "service.name") == "inventory" && Has(s, "Inventory.ReserveAndReconcile"));

            using var speedscope = await inventory.Client.SendAsync(Requests.Get($"/debug/traces/{traceId}?format=speedscope", "admin"));
            using var doc = JsonDocument.Parse(await speedscope.Content.ReadAsStringAsync());
            Assert.Equal(["inventory (cpu/nanoseconds)", "shop (cpu/nanoseconds)"], doc.RootElement.GetProperty("profiles").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
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

    private static async Task<string> CreateSchemaAsync(string connectionString)
    {
        var schema = "traceprof_test_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(connectionString, $"CREATE SCHEMA {schema};");
        return schema;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
