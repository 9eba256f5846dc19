using System.Data.Common;
using System.Globalization;

namespace TraceProf.Storage;

/// <summary>
/// The SQL shape both stores share: the column list, the insert, the list query built from a
/// <see cref="SnapshotQuery"/>, the retention ranking and the row mapping. A <see cref="SnapshotSqlDialect"/>
/// carries the few places where SQLite and PostgreSQL differ (parameter prefix, table names, string
/// aggregation, how the trace filter is written).
/// </summary>
/// <remarks>
/// Only constant fragments are concatenated into statements; every value is a parameter.
/// Times are UTC ticks and durations ticks in both databases, so values round-trip exactly.
/// </remarks>
internal static class SnapshotSql
{
    /// <summary>The columns <see cref="ReadInfo"/> reads, in order, for a row aliased <c>s</c>.</summary>
    public static string SelectColumns(SnapshotSqlDialect d) =>
        "s.id, s.trace_id, s.span_id, s.kind, s.trigger, s.status, s.service_name, s.host_name, s.started_at, s.duration, " +
        "s.sample_count, s.profile_bytes, s.nettrace_bytes, " +
        $"(SELECT {d.AggregateTraceIds} FROM {d.TracesTable} t WHERE t.snapshot_id = s.id), " +
        "s.service_instance_id, s.nettrace_omitted";

    /// <summary>One row by id; the parameter is <c>id</c>.</summary>
    public static string SelectById(SnapshotSqlDialect d) =>
        $"SELECT {SelectColumns(d)} FROM {d.SnapshotsTable} s WHERE s.id = {d.P}id;";

    /// <summary>Fills <paramref name="command"/> with the list query for <paramref name="query"/> (already validated).</summary>
    public static void BuildList(DbCommand command, SnapshotSqlDialect d, SnapshotQuery query)
    {
        var where = new List<string>(3);
        if (query.TraceId is not null)
        {
            where.Add(d.TraceFilter);
            AddParameter(command, d, "trace_id", query.TraceId);
        }

        if (query.Kind is not null)
        {
            where.Add($"s.kind = {d.P}kind");
            AddParameter(command, d, "kind", query.Kind);
        }

        if (query.Trigger is { } trigger)
        {
            where.Add(d.TriggerPrefixFilter);
            AddParameter(command, d, "trigger", d.TriggerPrefixValue(trigger));
            AddParameter(command, d, "trigger_end", trigger + "\U0010FFFF");
        }

        if (query.Since is { } since)
        {
            where.Add($"s.started_at >= {d.P}since");
            AddParameter(command, d, "since", since.UtcTicks);
        }

        command.CommandText =
            $"SELECT {SelectColumns(d)} FROM {d.SnapshotsTable} s" +
            (where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where)) +
            $" ORDER BY s.started_at DESC, s.id DESC LIMIT {d.P}limit;";
        AddParameter(command, d, "limit", query.Limit);
    }

    /// <summary>Fills <paramref name="command"/> with the insert of one snapshot row (not its trace ids).</summary>
    public static void BuildInsert(DbCommand command, SnapshotSqlDialect d, SnapshotInfo info, long? profileBytes, long? nettraceBytes, DateTimeOffset storedAt)
    {
        string[] columns =
        [
            "id", "trace_id", "span_id", "kind", "trigger", "status", "service_name", "service_instance_id", "host_name",
            "started_at", "duration", "sample_count", "profile_bytes", "nettrace_bytes", "stored_at", "nettrace_omitted",
        ];
        command.CommandText =
            $"INSERT INTO {d.SnapshotsTable} ({string.Join(", ", columns)}) " +
            $"VALUES ({string.Join(", ", columns.Select(c => d.P + c))});";
        AddParameter(command, d, "id", info.Id);
        AddParameter(command, d, "trace_id", info.TraceId);
        AddParameter(command, d, "span_id", info.SpanId);
        AddParameter(command, d, "kind", info.Kind);
        AddParameter(command, d, "trigger", info.Trigger);
        AddParameter(command, d, "status", info.Status);
        AddParameter(command, d, "service_name", info.ServiceName);
        AddParameter(command, d, "service_instance_id", info.ServiceInstanceId);
        AddParameter(command, d, "host_name", info.HostName);
        AddParameter(command, d, "started_at", info.StartedAt.UtcTicks);
        AddParameter(command, d, "duration", info.Duration.Ticks);
        AddParameter(command, d, "sample_count", info.SampleCount);
        AddParameter(command, d, "profile_bytes", profileBytes);
        AddParameter(command, d, "nettrace_bytes", nettraceBytes);
        AddParameter(command, d, "stored_at", storedAt.UtcTicks);
        AddParameter(command, d, "nettrace_omitted", info.NettraceOmitted);
    }

    /// <summary>Fills <paramref name="command"/> with the insert of one contained trace id.</summary>
    public static void BuildInsertTrace(DbCommand command, SnapshotSqlDialect d, string snapshotId, string traceId)
    {
        command.CommandText = $"INSERT INTO {d.TracesTable} (trace_id, snapshot_id) VALUES ({d.P}trace_id, {d.P}id);";
        AddParameter(command, d, "trace_id", traceId);
        AddParameter(command, d, "id", snapshotId);
    }

    /// <summary>
    /// The ids retention removes: one pass, newest first, where a row's position and the bytes of it plus
    /// everything newer decide, and rows stored before the cutoff go. With <paramref name="withKeep"/>, the row
    /// named by the <c>keep</c> parameter is never chosen: the snapshot just added.
    /// </summary>
    public static string RetentionVictims(SnapshotSqlDialect d, bool withKeep) =>
        $"""
        SELECT id FROM (
            SELECT id, stored_at,
                ROW_NUMBER() OVER newest AS position,
                SUM(COALESCE(profile_bytes, 0) + COALESCE(nettrace_bytes, 0)) OVER newest AS running_bytes
            FROM {d.SnapshotsTable}
            WINDOW newest AS (ORDER BY stored_at DESC, id DESC ROWS UNBOUNDED PRECEDING)) ranked
        WHERE {(withKeep ? $"id <> {d.P}keep AND " : string.Empty)}(position > {d.P}max_count OR running_bytes > {d.P}max_bytes OR stored_at < {d.P}cutoff)
        """;

    /// <summary>The parameters of <see cref="RetentionVictims"/>.</summary>
    public static void AddRetentionParameters(DbCommand command, SnapshotSqlDialect d, string? keepId, int maxCount, long maxTotalBytes, DateTimeOffset cutoff)
    {
        if (keepId is not null)
        {
            AddParameter(command, d, "keep", keepId);
        }

        AddParameter(command, d, "max_count", (long)maxCount);
        AddParameter(command, d, "max_bytes", maxTotalBytes);
        AddParameter(command, d, "cutoff", cutoff.UtcTicks);
    }

    /// <summary>Maps a row selected with <see cref="SelectColumns"/>.</summary>
    public static SnapshotInfo ReadInfo(DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        TraceId = reader.GetString(1),
        SpanId = reader.IsDBNull(2) ? null : reader.GetString(2),
        Kind = reader.GetString(3),
        Trigger = reader.GetString(4),
        Status = reader.GetString(5),
        ServiceName = reader.GetString(6),
        HostName = reader.GetString(7),
        StartedAt = new DateTimeOffset(reader.GetInt64(8), TimeSpan.Zero),
        Duration = TimeSpan.FromTicks(reader.GetInt64(9)),
        SampleCount = reader.GetInt64(10),
        ProfileBytes = reader.IsDBNull(11) ? 0 : reader.GetInt64(11),
        NettraceBytes = reader.IsDBNull(12) ? 0 : reader.GetInt64(12),
        ContainedTraceIds = reader.IsDBNull(13) ? [] : reader.GetString(13).Split(','),
        ServiceInstanceId = reader.IsDBNull(14) ? null : reader.GetString(14),
        NettraceOmitted = reader.IsDBNull(15) ? null : reader.GetString(15),
    };

    /// <summary>The refusal of a snapshot whose files alone exceed the store's byte limit.</summary>
    public static SnapshotTooLargeException TooLarge(long total, long maxTotalBytes) => new(
        string.Create(
            CultureInfo.InvariantCulture,
            $"The snapshot's files total {total} bytes, more than the store may hold in all (MaxTotalBytes {maxTotalBytes})."));

    /// <summary>Adds a parameter named <c>prefix + name</c>; null becomes <see cref="DBNull"/>.</summary>
    public static void AddParameter(DbCommand command, SnapshotSqlDialect d, string name, object? value)
    {
        DbParameter parameter = command.CreateParameter();
        parameter.ParameterName = d.P + name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}

/// <summary>Where the two databases differ in the shared statements of <see cref="SnapshotSql"/>.</summary>
/// <param name="P">The parameter prefix: <c>$</c> for SQLite, <c>@</c> for PostgreSQL.</param>
/// <param name="SnapshotsTable">The table of snapshot rows.</param>
/// <param name="TracesTable">The table of contained trace ids.</param>
/// <param name="AggregateTraceIds">The aggregate that joins a snapshot's contained trace ids with commas.</param>
/// <param name="TraceFilter">The condition "stored under, or containing, <c>trace_id</c>".</param>
/// <param name="TriggerPrefixFilter">The condition "trigger starts with <c>trigger</c>" that the trigger index serves.</param>
/// <param name="TriggerPrefixValue">The <c>trigger</c> parameter's value for a prefix.</param>
internal sealed record SnapshotSqlDialect(string P, string SnapshotsTable, string TracesTable, string AggregateTraceIds, string TraceFilter, string TriggerPrefixFilter, Func<string, string> TriggerPrefixValue)
{
    public static readonly SnapshotSqlDialect Sqlite = new(
        "$",
        "snapshots",
        "snapshot_traces",
        "group_concat(t.trace_id, ',')",
        "(s.trace_id = $trace_id OR s.id IN (SELECT snapshot_id FROM snapshot_traces WHERE trace_id = $trace_id))",

        // SQLite compares TEXT byte by byte (BINARY collation), so a range is an exact, index-served prefix match;
        // its LIKE would ignore case.
        "(s.trigger >= $trigger AND s.trigger < $trigger_end)",
        prefix => prefix);

    public static readonly SnapshotSqlDialect PostgreSql = new(
        "@",
        "traceprof_snapshots",
        "traceprof_snapshot_traces",
        "string_agg(t.trace_id, ',')",

        // A UNION of two index lookups; an OR across the two tables makes PostgreSQL scan every row.
        "s.id IN (SELECT id FROM traceprof_snapshots WHERE trace_id = @trace_id UNION SELECT snapshot_id FROM traceprof_snapshot_traces WHERE trace_id = @trace_id)",

        // A left-anchored LIKE uses the text_pattern_ops index whatever the database's collation; the prefix's own
        // % _ and \ are escaped. (@trigger_end is bound for the shared statement and unused here.)
        "(s.trigger LIKE @trigger ESCAPE '\\' AND @trigger_end IS NOT NULL)",
        prefix => prefix.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%");
}
