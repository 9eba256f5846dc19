using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.Storage;

namespace TraceProf.AspNetCore.Tests.Storage;

/// <summary>
/// Issue 16, fault 8: a snapshot store that cannot be used at start never stops the host. Real faults: a database
/// file with garbage over its header, a store folder on a read-only mount, a PostgreSQL port nobody listens on.
/// </summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class StoreFaultTests
{
    [Fact]
    public async Task CorruptDatabase_HostStartsAndServes_FileIsMovedAside_AndAFreshStoreTakesSnapshots()
    {
        var folder = NewFolder();
        try
        {
            await SeedAsync(folder);
            var database = Path.Combine(folder, SqliteSnapshotStore.DatabaseFileName);
            await using (var file = new FileStream(database, FileMode.Open, FileAccess.Write))
            {
                file.Write(System.Text.Encoding.ASCII.GetBytes(new string('X', 100))); // the header: "SQLite format 3\0" and page size
            }

            var logs = new LogCollector();
            await using var host = await TraceProfHost.StartAsync(storagePath: folder, configureBuilder: b => b.Logging.AddProvider(logs));

            Assert.Equal("hello", await host.Client.GetStringAsync(new Uri("/hello", UriKind.Relative)));
            var store = await StoreStatusAsync(host.Client);
            Assert.Equal("ready", store.GetProperty("state").GetString());

            var movedAside = Assert.Single(Directory.GetFiles(folder, "snapshots.db.corrupt-*"));
            Assert.Matches(@"snapshots\.db\.corrupt-\d{8}T\d{6}Z$", movedAside);
            Assert.StartsWith("XXXX", File.ReadAllText(movedAside)[..4], StringComparison.Ordinal);

            var error = Assert.Single(logs.Entries, e => e.Level >= LogLevel.Error);
            Assert.Contains(database, error.Message, StringComparison.Ordinal);
            Assert.Contains("TraceProf:Storage:Path", error.Message, StringComparison.Ordinal);
            Assert.Contains("moved aside to " + movedAside, error.Message, StringComparison.Ordinal);

            using var hot = new HotLoop();
            using var capture = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1", "admin"));
            Assert.Equal(HttpStatusCode.OK, capture.StatusCode);
            Assert.Single(capture.Headers.GetValues("X-TraceProf-Snapshot-Id"));
        }
        finally
        {
            TraceProfHost.DeleteStorage(folder);
        }
    }

    [SkippableFact]
    public async Task ReadOnlyStore_HostStartsAndServes_CapturesAnswerNotStored_IndexAndLogSayWhy()
    {
        var folder = NewFolder();
        await SeedAsync(folder);

        // Root (as these tests run) writes through chmod, so the folder goes on a read-only bind mount instead:
        // the kernel refuses every write with EROFS, as on a read-only volume in production.
        Skip.IfNot(Run("mount", "--bind", folder, folder) == 0, "mounting needs root (CAP_SYS_ADMIN); there is no other real read-only store here");
        try
        {
            Assert.Equal(0, Run("mount", "-o", "remount,bind,ro", folder, folder));
            Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(folder, "probe"), "x"));

            var logs = new LogCollector();
            await using var host = await TraceProfHost.StartAsync(storagePath: folder, configureBuilder: b => b.Logging.AddProvider(logs));

            Assert.Equal("hello", await host.Client.GetStringAsync(new Uri("/hello", UriKind.Relative)));
            var store = await StoreStatusAsync(host.Client);
            Assert.Equal("unavailable", store.GetProperty("state").GetString());
            Assert.Equal("TraceProf:Storage:Path", store.GetProperty("setting").GetString());
            var reason = store.GetProperty("reason").GetString()!;
            Assert.Contains("read", reason, StringComparison.OrdinalIgnoreCase);

            var error = Assert.Single(logs.Entries, e => e.Level >= LogLevel.Error);
            Assert.Contains(Path.Combine(folder, SqliteSnapshotStore.DatabaseFileName), error.Message, StringComparison.Ordinal);
            Assert.Contains("TraceProf:Storage:Path", error.Message, StringComparison.Ordinal);
            Assert.Contains("not stored", error.Message, StringComparison.Ordinal);

            using var hot = new HotLoop();
            using var capture = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1", "admin"));
            Assert.Equal(HttpStatusCode.OK, capture.StatusCode);
            Assert.Equal("not-stored", Assert.Single(capture.Headers.GetValues("X-TraceProf-Snapshot-Status")));
            Assert.Contains("read", Assert.Single(capture.Headers.GetValues("X-TraceProf-Snapshot-Status-Reason")), StringComparison.OrdinalIgnoreCase);
            Assert.False(capture.Headers.Contains("X-TraceProf-Snapshot-Id"));
            Assert.NotEmpty(Endpoints.CpuProfileEndpointTests.Decode(await capture.Content.ReadAsByteArrayAsync()).Sample);
            Assert.Equal(1, (await StoreStatusAsync(host.Client)).GetProperty("droppedSnapshots").GetInt64());
        }
        finally
        {
            Run("umount", folder);
            TraceProfHost.DeleteStorage(folder);
        }
    }

    [SkippableFact]
    public async Task PostgreSqlUnreachableAtStart_HostStarts_DropsAreCounted_AndTheStoreComesBackInTheBackground()
    {
        var postgres = Environment.GetEnvironmentVariable("TRACEPROF_TEST_POSTGRES");
        Skip.If(string.IsNullOrEmpty(postgres), "TRACEPROF_TEST_POSTGRES is not set, so there is no PostgreSQL server; .ci/run starts one and sets it.");
        var target = new NpgsqlConnectionStringBuilder(postgres);
        var closedPort = FreePort();
        var schema = "traceprof_test_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(postgres!, $"CREATE SCHEMA {schema};");
        try
        {
            var throughClosedPort = new NpgsqlConnectionStringBuilder(postgres) { Host = "127.0.0.1", Port = closedPort, Timeout = 3, SearchPath = schema, Pooling = false };
            var logs = new LogCollector();
            await using var host = await TraceProfHost.StartAsync(
                o =>
                {
                    o.Storage.Provider = "PostgreSql";
                    o.Storage.ConnectionString = throughClosedPort.ConnectionString;
                },
                configureBuilder: b => b.Logging.AddProvider(logs));

            Assert.Equal("hello", await host.Client.GetStringAsync(new Uri("/hello", UriKind.Relative)));
            var store = await StoreStatusAsync(host.Client);
            Assert.Equal("unavailable", store.GetProperty("state").GetString());
            Assert.Equal($"127.0.0.1:{closedPort}/{target.Database}", store.GetProperty("location").GetString());
            Assert.Equal("TraceProf:Storage:ConnectionString", store.GetProperty("setting").GetString());
            var error = Assert.Single(logs.Entries, e => e.Level >= LogLevel.Error);
            Assert.Contains($"127.0.0.1:{closedPort}/{target.Database}", error.Message, StringComparison.Ordinal);
            Assert.Contains("retries in the background", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Password", error.Message, StringComparison.OrdinalIgnoreCase);

            using (var hot = new HotLoop())
            {
                using var during = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1", "admin"));
                Assert.Equal(HttpStatusCode.OK, during.StatusCode);
                Assert.Equal("not-stored", Assert.Single(during.Headers.GetValues("X-TraceProf-Snapshot-Status")));
            }

            Assert.Equal(1, (await StoreStatusAsync(host.Client)).GetProperty("droppedSnapshots").GetInt64());

            // The server becomes reachable on the configured port; the background retry finds it.
            await using var proxy = new TcpProxy(target.Host!, target.Port, closedPort);
            var waited = Stopwatch.StartNew();
            while ((await StoreStatusAsync(host.Client)).GetProperty("state").GetString() != "ready")
            {
                Assert.True(waited.Elapsed < TimeSpan.FromMinutes(3), "the store did not come back within three minutes of backoff");
                await Task.Delay(250);
            }

            using var after = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1", "admin"));
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
            var id = Assert.Single(after.Headers.GetValues("X-TraceProf-Snapshot-Id"));
            Assert.NotNull(await host.Services.GetRequiredService<ISnapshotStore>().GetAsync(id, CancellationToken.None));
        }
        finally
        {
            await ExecuteAsync(postgres!, $"DROP SCHEMA {schema} CASCADE;");
        }
    }

    private static string NewFolder() => Path.Combine(Path.GetTempPath(), "traceprof-tests", Guid.NewGuid().ToString("N"));

    /// <summary>A store with one snapshot in it, closed.</summary>
    private static async Task SeedAsync(string folder)
    {
        var incoming = Path.Combine(folder, "incoming.tmp");
        Directory.CreateDirectory(folder);
        await File.WriteAllBytesAsync(incoming, new byte[100]);
        using var store = new SqliteSnapshotStore(new SnapshotStoreOptions { Path = folder });
        await store.AddAsync(
            new SnapshotInfo
            {
                Id = SnapshotIds.NewId(TimeProvider.System),
                TraceId = "4bf92f3577b34da6a3ce929d0e0e4736",
                Kind = "cpu",
                ServiceName = "seed",
                HostName = "host",
                StartedAt = DateTimeOffset.UtcNow,
                Duration = TimeSpan.FromSeconds(1),
            },
            new Dictionary<SnapshotArtifact, string> { [SnapshotArtifact.Pprof] = incoming },
            CancellationToken.None);
    }

    private static async Task<JsonElement> StoreStatusAsync(HttpClient client)
    {
        using var index = await client.SendAsync(Requests.Get("/debug/pprof/", "admin"));
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        return JsonDocument.Parse(await index.Content.ReadAsStringAsync()).RootElement.GetProperty("store").Clone();
    }

    private static int Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        arguments.ToList().ForEach(info.ArgumentList.Add);
        try
        {
            using var process = Process.Start(info)!;
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
