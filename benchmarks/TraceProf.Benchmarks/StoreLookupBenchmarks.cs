using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Npgsql;
using TraceProf.Storage;

namespace TraceProf.Benchmarks;

/// <summary>
/// Looking snapshots up by trace id in a store of N rows (each row stored under one trace and holding
/// samples of another). PostgreSQL needs <c>TRACEPROF_TEST_POSTGRES</c>; each run works in a schema of its own.
/// </summary>
public class StoreLookupBenchmarks
{
    private string _folder = null!;
    private string? _schema;
    private ISnapshotStore _store = null!;
    private string[] _traceIds = null!;
    private int _next;

    [Params(10_000, 100_000, 1_000_000)]
    public int Rows { get; set; }

    [Params("Sqlite", "PostgreSql")]
    public string Provider { get; set; } = "Sqlite";

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "traceprof-bench", Guid.NewGuid().ToString("N"));
        var limits = new SnapshotStoreOptions { Path = _folder, MaxCount = SnapshotStoreOptions.MaxCountLimit, MaxAge = SnapshotStoreOptions.MaxAgeLimit };
        _traceIds = [.. Enumerable.Range(0, Rows).Select(_ => ActivityTraceId.CreateRandom().ToHexString())];
        if (Provider == "PostgreSql")
        {
            var connection = Environment.GetEnvironmentVariable("TRACEPROF_TEST_POSTGRES")
                ?? throw new InvalidOperationException("Set TRACEPROF_TEST_POSTGRES to a PostgreSQL connection string.");
            _schema = "traceprof_bench_" + Guid.NewGuid().ToString("N")[..8];
            Execute(connection, $"CREATE SCHEMA {_schema};");
            var scoped = new NpgsqlConnectionStringBuilder(connection) { SearchPath = _schema }.ConnectionString;
            _store = PostgreSqlSnapshotStore.OpenAsync(scoped, limits).GetAwaiter().GetResult();
            FillPostgreSql(scoped);
        }
        else
        {
            var sqlite = new SqliteSnapshotStore(limits);
            FillSqlite(Path.Combine(_folder, SqliteSnapshotStore.DatabaseFileName));
            _store = sqlite;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        (_store as IDisposable)?.Dispose();
        if (_schema is not null)
        {
            Execute(Environment.GetEnvironmentVariable("TRACEPROF_TEST_POSTGRES")!, $"DROP SCHEMA {_schema} CASCADE;");
        }

        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Benchmark]
    public async Task<int> ListByTraceId()
    {
        var traceId = _traceIds[_next++ % _traceIds.Length];
        var rows = await _store.ListAsync(new SnapshotQuery { TraceId = traceId, Limit = 10 }, CancellationToken.None);
        return rows.Count;
    }

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private void FillSqlite(string database)
    {
        using var connection = new SqliteConnection($"Data Source={database}");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var row = connection.CreateCommand();
        row.Transaction = transaction;
        row.CommandText = """
            INSERT INTO snapshots (id, trace_id, span_id, kind, trigger, status, service_name, host_name, started_at, duration, sample_count, profile_bytes, nettrace_bytes, stored_at)
            VALUES ($id, $trace, NULL, 'cpu', 'request', 'complete', 'bench', 'host', $t, 1, 1, 1, 1, $t);
            """;
        using var contained = connection.CreateCommand();
        contained.Transaction = transaction;
        contained.CommandText = "INSERT INTO snapshot_traces (trace_id, snapshot_id) VALUES ($trace, $id);";
        var id = row.Parameters.Add("$id", SqliteType.Text);
        var trace = row.Parameters.Add("$trace", SqliteType.Text);
        var time = row.Parameters.Add("$t", SqliteType.Integer);
        var containedId = contained.Parameters.Add("$id", SqliteType.Text);
        var containedTrace = contained.Parameters.Add("$trace", SqliteType.Text);
        for (var i = 0; i < Rows; i++)
        {
            id.Value = containedId.Value = Guid.NewGuid().ToString("N");
            trace.Value = _traceIds[i];
            time.Value = DateTime.UtcNow.Ticks + i;
            row.ExecuteNonQuery();
            containedTrace.Value = _traceIds[(i + 1) % Rows];
            contained.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private void FillPostgreSql(string connectionString)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        var ids = Enumerable.Range(0, Rows).Select(_ => Guid.NewGuid().ToString("N")).ToArray();
        using (var import = connection.BeginBinaryImport("COPY traceprof_snapshots (id, trace_id, kind, trigger, status, service_name, host_name, started_at, duration, sample_count, profile_bytes, nettrace_bytes, stored_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < Rows; i++)
            {
                var t = DateTime.UtcNow.Ticks + i;
                import.WriteRow(ids[i], _traceIds[i], "cpu", "request", "complete", "bench", "host", t, 1L, 1L, 1L, 1L, t);
            }

            import.Complete();
        }

        using (var import = connection.BeginBinaryImport("COPY traceprof_snapshot_traces (trace_id, snapshot_id) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < Rows; i++)
            {
                import.WriteRow(_traceIds[(i + 1) % Rows], ids[i]);
            }

            import.Complete();
        }

        using var analyze = new NpgsqlCommand("ANALYZE;", connection);
        analyze.ExecuteNonQuery();
    }
}
