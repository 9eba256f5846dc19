using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using TraceProf.AspNetCore.Tests.Infrastructure;
using TraceProf.Pipeline;

namespace TraceProf.AspNetCore.Tests.Endpoints;

public sealed class StorageConfigurationTests
{
    [Fact]
    public async Task UnknownProvider_FailsStart_NamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TraceProfHost.StartAsync(o => o.Storage.Provider = "Mongo"));
        Assert.Contains("TraceProf:Storage:Provider must be Sqlite or PostgreSql; got 'Mongo'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostgreSqlWithoutConnectionString_FailsStart_NamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TraceProfHost.StartAsync(o => o.Storage.Provider = "PostgreSql"));
        Assert.Contains("TraceProf:Storage:ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedConnectionString_FailsStart()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => TraceProfHost.StartAsync(o =>
        {
            o.Storage.Provider = "PostgreSql";
            o.Storage.ConnectionString = "Hots=db;;Frobnicate";
        }));
        Assert.Contains("connection string is not valid", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>A database outage while running: captures still answer, the drop is counted, the app's own requests are untouched.</summary>
[Collection("EventPipe")]
[Trait("Category", "EventPipe")]
public sealed class StorageOutageTests
{
    [SkippableFact]
    public async Task PostgreSqlGoesAway_AppKeepsServing_CaptureAnswersAndDropIsCounted()
    {
        var postgres = Environment.GetEnvironmentVariable("TRACEPROF_TEST_POSTGRES");
        Skip.If(string.IsNullOrEmpty(postgres), "TRACEPROF_TEST_POSTGRES is not set, so there is no PostgreSQL server; .ci/run starts one and sets it.");
        var target = new NpgsqlConnectionStringBuilder(postgres);

        // A schema of its own: the test database is shared (by other branches' runs too), and its public schema may
        // hold another version's tables.
        var schema = "traceprof_test_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(postgres!, $"CREATE SCHEMA {schema};");
        try
        {
            await RunOutageAsync(postgres!, target, schema);
        }
        finally
        {
            await ExecuteAsync(postgres!, $"DROP SCHEMA {schema} CASCADE;");
        }
    }

    private static async Task RunOutageAsync(string postgres, NpgsqlConnectionStringBuilder target, string schema)
    {
        await using var proxy = new TcpProxy(target.Host!, target.Port);
        var throughProxy = new NpgsqlConnectionStringBuilder(postgres) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 3, Pooling = false, SearchPath = schema };
        await using var host = await TraceProfHost.StartAsync(o =>
        {
            o.Storage.Provider = "PostgreSql";
            o.Storage.ConnectionString = throughProxy.ConnectionString;
        });

        using var before = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1", "admin"));
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Single(before.Headers.GetValues("X-TraceProf-Snapshot-Id"));

        await proxy.CutAsync();

        using var during = await host.Client.SendAsync(Requests.Get("/debug/profile?seconds=1", "admin"));
        Assert.Equal(HttpStatusCode.OK, during.StatusCode);
        Assert.Equal("dropped", Assert.Single(during.Headers.GetValues("X-TraceProf-Snapshot-Status")));
        Assert.False(during.Headers.Contains("X-TraceProf-Snapshot-Id"));
        Assert.NotEmpty(CpuProfileEndpointTests.Decode(await during.Content.ReadAsByteArrayAsync()).Sample);

        using var own = await host.Client.GetAsync(new Uri("/hello", UriKind.Relative));
        Assert.Equal("hello", await own.Content.ReadAsStringAsync());
        Assert.Equal(1, host.Services.GetRequiredService<CaptureCoordinator>().DroppedSnapshots);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
