using System.Net;
using System.Text.Json;
using Npgsql;
using TraceProf.AspNetCore.Tests.Infrastructure;

namespace TraceProf.AspNetCore.Tests.Storage;

/// <summary>
/// Keeping the PostgreSQL store in the engine package is only free if a host on the embedded SQLite store never
/// loads Npgsql. Each test runs the sample as its own process (so no other test's use of Npgsql counts) and reads
/// the files the runtime has mapped, /proc/&lt;pid&gt;/maps: every loaded managed assembly is mapped from its file.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class NpgsqlLoadingTests
{
    [SkippableFact]
    public async Task SqliteHost_CapturesStoresListsAndDownloads_NeverLoadsNpgsql()
    {
        var assembly = ShopDemoProcess.FindAssembly();
        Skip.If(assembly is null, "samples/ShopDemo is not built; build the solution (dotnet test Diagnostics.sln does).");
        Skip.IfNot(OperatingSystem.IsLinux(), "/proc/<pid>/maps is Linux only.");
        var folder = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using var shop = await ShopDemoProcess.StartAsync(assembly!, $"--TraceProf:Storage:Path={folder}");
            var id = await CaptureListAndDownloadAsync(shop.Client);
            Assert.True(File.Exists(Path.Combine(folder, "blobs", id + ".pb.gz")), "the snapshot went to the SQLite store's folder");

            var mapped = MappedAssemblies(shop.ProcessId);
            Assert.Contains("Microsoft.Data.Sqlite.dll", mapped); // the check sees assemblies loaded from the app folder
            Assert.Contains("TraceProf.dll", mapped);
            Assert.DoesNotContain("Npgsql.dll", mapped);
        }
        finally
        {
            TraceProfHost.DeleteStorage(folder);
        }
    }

    /// <summary>The control: the same check does see Npgsql when the host is configured for PostgreSQL.</summary>
    [SkippableFact]
    public async Task PostgreSqlHost_LoadsNpgsql()
    {
        var assembly = ShopDemoProcess.FindAssembly();
        Skip.If(assembly is null, "samples/ShopDemo is not built; build the solution (dotnet test Diagnostics.sln does).");
        Skip.IfNot(OperatingSystem.IsLinux(), "/proc/<pid>/maps is Linux only.");
        var postgres = Environment.GetEnvironmentVariable("TRACEPROF_TEST_POSTGRES");
        Skip.If(string.IsNullOrEmpty(postgres), "TRACEPROF_TEST_POSTGRES is not set, so there is no PostgreSQL server; .ci/run starts one and sets it.");
        var schema = "traceprof_test_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(postgres!, $"CREATE SCHEMA {schema};");
        var folder = Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(postgres) { SearchPath = schema }.ConnectionString;
            await using var shop = await ShopDemoProcess.StartAsync(
                assembly!,
                $"--TraceProf:Storage:Path={folder}",
                "--TraceProf:Storage:Provider=PostgreSql",
                $"--TraceProf:Storage:ConnectionString={connectionString}");
            await CaptureListAndDownloadAsync(shop.Client);

            Assert.Contains("Npgsql.dll", MappedAssemblies(shop.ProcessId));
        }
        finally
        {
            await ExecuteAsync(postgres!, $"DROP SCHEMA {schema} CASCADE;");
            TraceProfHost.DeleteStorage(folder);
        }
    }

    /// <summary>An on-demand capture (the store's add), the list (its query) and a download (its artifact read).</summary>
    private static async Task<string> CaptureListAndDownloadAsync(HttpClient client)
    {
        using var capture = await client.SendAsync(Requests.Get("/debug/pprof/profile?seconds=1", "admin"));
        Assert.Equal(HttpStatusCode.OK, capture.StatusCode);
        var id = Assert.Single(capture.Headers.GetValues("X-TraceProf-Snapshot-Id"));

        using var list = await client.SendAsync(Requests.Get("/debug/snapshots", "admin"));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        using var rows = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        Assert.Contains(rows.RootElement.GetProperty("snapshots").EnumerateArray(), row => row.GetProperty("id").GetString() == id);

        using var download = await client.SendAsync(Requests.Get($"/debug/snapshots/{id}?format=pprof", "admin"));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.NotEmpty(await download.Content.ReadAsByteArrayAsync());
        return id;
    }

    private static HashSet<string> MappedAssemblies(int processId) =>
        [.. File.ReadLines($"/proc/{processId}/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && fields[5].EndsWith(".dll", StringComparison.Ordinal))
            .Select(fields => Path.GetFileName(fields[5]))];

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
