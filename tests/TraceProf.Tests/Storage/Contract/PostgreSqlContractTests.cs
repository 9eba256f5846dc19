using Npgsql;
using TraceProf.Storage;

namespace TraceProf.Tests.Storage.Contract;

/// <summary>
/// The contract against a real PostgreSQL server named by <c>TRACEPROF_TEST_POSTGRES</c> (a connection string;
/// <c>.ci/run</c> installs, starts and sets it). Each test works in a schema of its own, dropped afterwards.
/// </summary>
public sealed class PostgreSqlContractTests : SnapshotStoreContractTests
{
    public const string EnvironmentVariable = "TRACEPROF_TEST_POSTGRES";

    private readonly List<PostgreSqlSnapshotStore> _stores = [];
    private string? _schema;

    public static string? ConnectionString => Environment.GetEnvironmentVariable(EnvironmentVariable);

    protected override ISnapshotStore Open(SnapshotStoreOptions limits)
    {
        Skip.If(string.IsNullOrEmpty(ConnectionString), $"{EnvironmentVariable} is not set, so there is no PostgreSQL server to test against; .ci/run starts one and sets it.");
        _schema ??= CreateSchema();
        var store = PostgreSqlSnapshotStore.OpenAsync(new NpgsqlConnectionStringBuilder(ConnectionString) { SearchPath = _schema }.ConnectionString, limits, Time).GetAwaiter().GetResult();
        _stores.Add(store);
        return store;
    }

    protected override void DisposeStores()
    {
        _stores.ForEach(s => s.Dispose());
        if (_schema is not null)
        {
            using var connection = new NpgsqlConnection(ConnectionString);
            connection.Open();
            using var drop = new NpgsqlCommand($"DROP SCHEMA {_schema} CASCADE;", connection);
            drop.ExecuteNonQuery();
        }
    }

    internal static string CreateSchema()
    {
        var schema = "traceprof_test_" + Guid.NewGuid().ToString("N")[..12];
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var create = new NpgsqlCommand($"CREATE SCHEMA {schema};", connection);
        create.ExecuteNonQuery();
        return schema;
    }
}
