using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Vision;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Privacy;

/// <summary>Where the sealed values of one table stand: how many are under the active key, under another one, or still in the clear.</summary>
internal sealed record SealedColumnDto(string Table, string Column, long Values, long UnderActiveKey, long UnderOtherKeys, long InTheClear);

/// <summary>The encryption at rest as the bureau sees it: the active key, every sealed column's standing, the passes of the re-encryption.</summary>
internal sealed record EncryptionStatusDto(bool Enabled, string ActiveKeyId, IReadOnlyList<SealedColumnDto> Columns,
    IReadOnlyList<ReencryptionProgressDto> Passes);

/// <summary>The latest pass of the re-encryption over one table.</summary>
internal sealed record ReencryptionProgressDto(string TableName, string KeyId, long RowsRewritten, DateTime StartedAt, DateTime UpdatedAt,
    DateTime? FinishedAt);

/// <summary>
/// Brings every stored value to the active key (docs/encryption.md "Rotation"): after a new master key is made active,
/// and once, for rows from before encryption, which it seals (the per-eye values of a vision record move into
/// eyes_sealed, their hash becomes keyed). Table by table in key order, a batch per transaction; each table under its
/// own lease, so that several instances share the tables and never work on one at once; the position is saved after
/// every batch, so a pass cut short (a stop, a crash) goes on from there. A row is only rewritten while it still holds
/// the value read: a write the service made meanwhile is already under the active key and stays.
/// </summary>
internal sealed class FieldReencryption(Database db, LeaseRepository leases, ServiceInstance instance, IOptions<EncryptionOptions> options,
    TimeProvider time, ILogger<FieldReencryption> log)
{
    /// <summary>A table with sealed columns, its primary key in index order, and whether it keeps a vision record's eyes.</summary>
    internal sealed record SealedTable(string Name, string[] Key, string[] Sealed, bool Eyes = false);

    internal static readonly SealedTable[] Tables =
    [
        new("vision_records", ["round_id", "corp_id", "student_user_id"], ["eyes_sealed"], Eyes: true),
        new("vision_record_history", ["round_id", "corp_id", "student_user_id", "version"], ["eyes_sealed"], Eyes: true),
        new("vision_records_transferred", ["corp_id", "student_user_id", "round_id", "from_corp_id"], ["eyes_sealed"], Eyes: true),
        new("vision_referrals", ["id"], ["hospital", "diagnosis", "prescription"]),
        new("care_applications", ["id"], ["pickup"]),
        new("care_delegates", ["application_id", "day"], ["phone"]),
        new("students", ["corp_id", "user_id"], ["student_number"]),
    ];

    /// <summary>The per-eye columns of a row from before encryption, in <see cref="EyeValues"/> order.</summary>
    private static readonly string[] EyeColumns =
    [
        "ucva_r", "ucva_l", "walk_distance_r", "walk_distance_l", "cva_r", "cva_l", "sphere_r", "cylinder_r", "axis_r", "sphere_l", "cylinder_l",
        "axis_l", "axial_length_r", "axial_length_l", "not_testable_reason", "se_r", "se_l",
    ];

    private EncryptionOptions Settings => options.Value;

    /// <summary>
    /// One pass over every table this instance can take; returns the rows rewritten per table it took (a table another
    /// instance is working on is left to it). Data keys still wrapped by a retired master key are re-wrapped first.
    /// With <paramref name="maxBatches"/> a table's pass stops after that many batches, unfinished, as a stopped instance leaves it.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> RunAsync(CancellationToken ct, int? maxBatches = null)
    {
        await db.Fields.EnsureKeysAsync(ct);
        await db.Fields.RewrapDataKeysAsync(ct);
        var rewritten = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in Tables)
        {
            var lease = $"reencryption:{table.Name}";
            if (!await leases.TryAcquireAsync(lease, instance.Id, TimeSpan.FromMinutes(5), ct))
            {
                continue;
            }

            try
            {
                rewritten[table.Name] = await PassAsync(table, lease, maxBatches, ct);
            }
            finally
            {
                await leases.ReleaseAsync(lease, instance.Id, CancellationToken.None);
            }
        }

        return rewritten;
    }

    private string Target => db.Fields.Enabled ? db.Fields.ActiveKeyId : "clear";

    private async Task<long> PassAsync(SealedTable table, string lease, int? maxBatches, CancellationToken ct)
    {
        var progress = await ProgressAsync(table.Name, ct);
        object? resumeFrom = null;
        if (progress is { } p && p.KeyId == Target)
        {
            // A finished pass is done unless something is left (an instance with an older configuration wrote since).
            if (p.FinishedAt is not null && await LeftAsync(table, ct) == 0)
            {
                return 0;
            }

            resumeFrom = p.FinishedAt is null ? p.Cursor : null;
        }

        var now = time.UtcNowForDatabase();
        await SaveProgressAsync(table.Name, resumeFrom is null ? null : JsonSerializer.Serialize(resumeFrom), 0, now, finished: false,
            fresh: progress?.KeyId != Target || progress?.FinishedAt is not null, ct);

        long total = 0;
        object[]? cursor = null;
        var batchSize = Math.Max(1, Settings.ReencryptionBatch);
        for (var batch = 0; ; batch++)
        {
            ct.ThrowIfCancellationRequested();
            if (batch == maxBatches)
            {
                return total;
            }

            var rows = await BatchAsync(table, cursor, resumeFrom, batchSize, ct);
            if (rows.Count == 0)
            {
                break;
            }

            var changed = await db.InTransactionAsync((tx, token) => RewriteAsync(tx, table, rows, token), ct);
            total += changed;
            cursor = table.Key.Select(k => rows[^1][k]!).ToArray();
            await SaveProgressAsync(table.Name, JsonSerializer.Serialize(cursor[0]), changed, time.UtcNowForDatabase(), finished: false, fresh: false, ct);
            // Renewed as it goes: a pass over a large table outlasts one lease period.
            await leases.TryAcquireAsync(lease, instance.Id, TimeSpan.FromMinutes(5), ct);
            if (rows.Count < batchSize)
            {
                break;
            }
        }

        await SaveProgressAsync(table.Name, null, 0, time.UtcNowForDatabase(), finished: true, fresh: false, ct);
        if (total > 0)
        {
            log.LogInformation("Re-encryption: {Rows} rows of {Table} brought to key {Key}", total, table.Name, Target);
        }

        return total;
    }

    private async Task<List<IDictionary<string, object?>>> BatchAsync(SealedTable table, object[]? cursor, object? resumeFrom, int batchSize,
        CancellationToken ct)
    {
        var columns = table.Key.Concat(table.Sealed).Concat(table.Eyes ? EyeColumns.Append("input_hash") : []);
        var args = new DynamicParameters();
        args.Add("batchSize", batchSize);
        string where;
        if (cursor is not null)
        {
            // After the last row read, in key order: (k1 > c1) OR (k1 = c1 AND k2 > c2) OR …
            var or = new List<string>();
            for (var i = 0; i < table.Key.Length; i++)
            {
                var equal = table.Key.Take(i).Select((k, j) => $"{k} = @c{j}");
                or.Add("(" + string.Join(" AND ", equal.Append($"{table.Key[i]} > @c{i}")) + ")");
                args.Add($"c{i}", cursor[i]);
            }

            where = $"WHERE {table.Key[0]} >= @c0 AND ({string.Join(" OR ", or)})";
        }
        else if (resumeFrom is not null)
        {
            // Resuming a pass cut short: from its last batch's first key column on (a few rows are looked at again).
            where = $"WHERE {table.Key[0]} >= @resume";
            args.Add("resume", resumeFrom is JsonElement { ValueKind: JsonValueKind.Number } n ? n.GetInt64() : resumeFrom.ToString());
        }
        else
        {
            where = "";
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync(new CommandDefinition(
                $"SELECT {string.Join(", ", columns)} FROM {table.Name} {where} ORDER BY {string.Join(", ", table.Key)} LIMIT @batchSize", args,
                cancellationToken: ct)))
            .Cast<IDictionary<string, object?>>().ToList();
    }

    private async Task<int> RewriteAsync(DbTransaction tx, SealedTable table, IReadOnlyList<IDictionary<string, object?>> rows, CancellationToken ct)
    {
        var changed = 0;
        var keyMatch = string.Join(" AND ", table.Key.Select((k, i) => $"{k} = @k{i}"));
        foreach (var row in rows)
        {
            var args = new DynamicParameters();
            for (var i = 0; i < table.Key.Length; i++)
            {
                args.Add($"k{i}", row[table.Key[i]]);
            }

            if (table.Eyes && row["eyes_sealed"] is null or DBNull)
            {
                var hash = row["input_hash"] as string;
                if (hash is null or "erased")
                {
                    continue;
                }

                // A row from before encryption: its per-eye values sealed together, its plain hash made keyed (docs/encryption.md).
                args.Add("sealed", db.Fields.Protect(LegacyEyes(row).ToJson()));
                args.Add("hash", db.Fields.KeyedHash(hash));
                args.Add("oldHash", hash);
                changed += await tx.Connection!.ExecuteAsync(new CommandDefinition($"""
                    UPDATE {table.Name} SET eyes_sealed = @sealed, input_hash = @hash, {string.Join(", ", EyeColumns.Select(c => $"{c} = NULL"))}
                    WHERE {keyMatch} AND eyes_sealed IS NULL AND input_hash = @oldHash
                    """, args, tx, cancellationToken: ct)) > 0 ? 1 : 0;
                continue;
            }

            var sets = new List<string>();
            var guards = new List<string>();
            foreach (var column in table.Sealed)
            {
                var stored = row[column] as string;
                if (db.Fields.Reprotect(stored) is not { } renewed)
                {
                    continue;
                }

                sets.Add($"{column} = @new_{column}");
                guards.Add($"{column} = @old_{column}");
                args.Add($"new_{column}", renewed);
                args.Add($"old_{column}", stored);
            }

            if (sets.Count == 0)
            {
                continue;
            }

            changed += await tx.Connection!.ExecuteAsync(new CommandDefinition(
                $"UPDATE {table.Name} SET {string.Join(", ", sets)} WHERE {keyMatch} AND {string.Join(" AND ", guards)}", args, tx,
                cancellationToken: ct)) > 0 ? 1 : 0;
        }

        return changed;
    }

    private static EyeValues LegacyEyes(IDictionary<string, object?> row)
    {
        decimal? D(string column) => row[column] is null or DBNull ? null : Convert.ToDecimal(row[column], CultureInfo.InvariantCulture);
        int? I(string column) => row[column] is null or DBNull ? null : Convert.ToInt32(row[column], CultureInfo.InvariantCulture);
        return new EyeValues(D("ucva_r"), D("ucva_l"), D("walk_distance_r"), D("walk_distance_l"), D("cva_r"), D("cva_l"), D("sphere_r"),
            D("cylinder_r"), I("axis_r"), D("sphere_l"), D("cylinder_l"), I("axis_l"), D("axial_length_r"), D("axial_length_l"),
            row["not_testable_reason"] as string, D("se_r"), D("se_l"));
    }

    /// <summary>Values of a table not yet as the active configuration writes them (a vision row from before encryption counts once).</summary>
    private async Task<long> LeftAsync(SealedTable table, CancellationToken ct)
    {
        var column = await ColumnsAsync(table, ct);
        return column.Sum(c => db.Fields.Enabled ? c.UnderOtherKeys + c.InTheClear : c.UnderActiveKey + c.UnderOtherKeys);
    }

    /// <summary>The standing of every sealed column (a full scan of each table: for the status page, not a hot path).</summary>
    public async Task<EncryptionStatusDto> StatusAsync(CancellationToken ct)
    {
        var columns = new List<SealedColumnDto>();
        foreach (var table in Tables)
        {
            columns.AddRange(await ColumnsAsync(table, ct));
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var passes = (await connection.QueryAsync<ReencryptionProgressDto>(new CommandDefinition(
            "SELECT table_name, key_id, rows_rewritten, started_at, updated_at, finished_at FROM reencryption_progress ORDER BY table_name",
            cancellationToken: ct))).ToList();
        return new EncryptionStatusDto(db.Fields.Enabled, db.Fields.ActiveKeyId, columns, passes);
    }

    private async Task<IReadOnlyList<SealedColumnDto>> ColumnsAsync(SealedTable table, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var result = new List<SealedColumnDto>();
        foreach (var column in table.Sealed)
        {
            // A vision row from before encryption has its values in their own columns and none in eyes_sealed: in the clear.
            var legacy = table.Eyes ? $"SUM(CASE WHEN {column} IS NULL AND input_hash <> 'erased' THEN 1 ELSE 0 END)" : "0";
            var counts = await connection.QuerySingleAsync<(long?, long?, long?, long?)>(new CommandDefinition($"""
                SELECT SUM(CASE WHEN {column} IS NOT NULL THEN 1 ELSE 0 END) + {legacy},
                       SUM(CASE WHEN {column} LIKE @active THEN 1 ELSE 0 END),
                       SUM(CASE WHEN {column} LIKE @anySealed AND {column} NOT LIKE @active THEN 1 ELSE 0 END),
                       SUM(CASE WHEN {column} IS NOT NULL AND {column} NOT LIKE @anySealed THEN 1 ELSE 0 END) + {legacy}
                FROM {table.Name}
                """, new { active = db.Fields.ActivePrefix + "%", anySealed = FieldProtector.Prefix + "%" }, cancellationToken: ct));
            result.Add(new SealedColumnDto(table.Name, column, counts.Item1 ?? 0, counts.Item2 ?? 0, counts.Item3 ?? 0, counts.Item4 ?? 0));
        }

        return result;
    }

    private sealed record Progress(string KeyId, object? Cursor, DateTime? FinishedAt);

    private async Task<Progress?> ProgressAsync(string table, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<(string KeyId, string? Cursor, DateTime? FinishedAt)?>(new CommandDefinition(
            "SELECT key_id, cursor_key, finished_at FROM reencryption_progress WHERE table_name = @table", new { table }, cancellationToken: ct));
        return row is { } r ? new Progress(r.KeyId, r.Cursor is null ? null : JsonSerializer.Deserialize<JsonElement>(r.Cursor), r.FinishedAt) : null;
    }

    private async Task SaveProgressAsync(string table, string? cursor, long rewritten, DateTime now, bool finished, bool fresh, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (fresh)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                db.Dialect.Upsert("reencryption_progress", ["table_name"], ["key_id", "cursor_key", "rows_rewritten", "started_at", "updated_at", "finished_at"]),
                new { table_name = table, key_id = Target, cursor_key = cursor, rows_rewritten = 0L, started_at = now, updated_at = now, finished_at = (DateTime?)null },
                cancellationToken: ct));
            return;
        }

        await connection.ExecuteAsync(new CommandDefinition($"""
            UPDATE reencryption_progress
            SET cursor_key = {(finished ? "NULL" : "COALESCE(@cursor, cursor_key)")}, rows_rewritten = rows_rewritten + @rewritten, updated_at = @now,
                finished_at = {(finished ? "@now" : "NULL")}
            WHERE table_name = @table
            """, new { table, cursor, rewritten, now }, cancellationToken: ct));
    }
}

/// <summary>Runs the re-encryption now and then (docs/encryption.md); a pass with nothing to do reads each table once.</summary>
internal sealed class ReencryptionWorker(IServiceScopeFactory scopes, IOptions<EncryptionOptions> options, TimeProvider time, ILogger<ReencryptionWorker> log)
    : PeriodicWorker(scopes, time, log)
{
    protected override bool Enabled => options.Value.RunReencryption;

    protected override TimeSpan Interval => options.Value.ReencryptionInterval;

    protected override Task RunOnceAsync(IServiceProvider services, CancellationToken ct) =>
        services.GetRequiredService<FieldReencryption>().RunAsync(ct);
}
