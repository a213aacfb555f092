using System.ComponentModel;
using System.Text.Json;
using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.Org;

internal sealed record SyncRun(long Id, string CorpId, string Kind, string TriggerReason, string Status, string Phase,
    string Holder, DateTime StartedAt, DateTime UpdatedAt, DateTime? FinishedAt, string Counts, string Calls, string? Note,
    string? Error);

/// <summary>Every reconcile is recorded: start, phase, counts, calls per API, note, error, finish.</summary>
internal sealed class SyncRunRepository(Database db)
{
    [Description("进行中")]
    public const string Running = "running";
    [Description("成功")]
    public const string Succeeded = "succeeded";
    [Description("失败")]
    public const string Failed = "failed";

    public async Task<long> StartAsync(string corpId, string kind, string trigger, string holder, DateTime now, CancellationToken ct) =>
        await db.InTransactionAsync((tx, token) => tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
            INSERT INTO sync_runs (corp_id, kind, trigger_reason, status, phase, holder, started_at, updated_at, counts, calls)
            VALUES (@corpId, @kind, @trigger, @status, 'starting', @holder, @now, @now, @empty, @empty);
            {db.Dialect.SelectLastInsertId};
            """, new { corpId, kind, trigger, holder, now, status = Running, empty = "{}" }, tx, cancellationToken: token)), ct);

    public async Task ProgressAsync(long id, string phase, IReadOnlyDictionary<string, long> counts,
        IReadOnlyDictionary<string, long> calls, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE sync_runs SET phase = @phase, counts = @counts, calls = @calls, updated_at = @now WHERE id = @id",
            new { id, phase, counts = JsonSerializer.Serialize(counts), calls = JsonSerializer.Serialize(calls), now },
            cancellationToken: ct));
    }

    public async Task FinishAsync(long id, string status, IReadOnlyDictionary<string, long> counts,
        IReadOnlyDictionary<string, long> calls, string? note, string? error, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE sync_runs
            SET status = @status, phase = 'finished', counts = @counts, calls = @calls, note = @note, error = @error,
                updated_at = @now, finished_at = @now
            WHERE id = @id
            """, new
        {
            id, status, counts = JsonSerializer.Serialize(counts), calls = JsonSerializer.Serialize(calls), note, error, now,
        }, cancellationToken: ct));
    }

    public async Task<SyncRun?> FindAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<SyncRun>(new CommandDefinition(
            $"SELECT {Columns} FROM sync_runs WHERE id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<(IReadOnlyList<SyncRun> Items, int Total)> ListAsync(string? corpId, long skip, int take, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var args = new { corpId, skip, take };
        var items = (await connection.QueryAsync<SyncRun>(new CommandDefinition($"""
            SELECT {Columns} FROM sync_runs WHERE (@corpId IS NULL OR corp_id = @corpId)
            ORDER BY id DESC LIMIT @take OFFSET @skip
            """, args, cancellationToken: ct))).ToList();
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT COUNT(*) FROM sync_runs WHERE (@corpId IS NULL OR corp_id = @corpId)", args, cancellationToken: ct));
        return (items, total);
    }

    /// <summary>How many of the corp's latest runs failed in a row, and when the latest of them finished.</summary>
    public async Task<(int Failures, DateTime? LastFailedAt)> RecentFailuresAsync(string corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var latest = await connection.QueryAsync<(string Status, DateTime? FinishedAt)>(new CommandDefinition("""
            SELECT status, finished_at FROM sync_runs WHERE corp_id = @corpId AND status <> @running ORDER BY id DESC LIMIT 16
            """, new { corpId, running = Running }, cancellationToken: ct));
        var failures = latest.TakeWhile(r => r.Status == Failed).ToList();
        return (failures.Count, failures.FirstOrDefault().FinishedAt);
    }

    public async Task<IReadOnlyList<SyncRun>> RunningAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<SyncRun>(new CommandDefinition(
            $"SELECT {Columns} FROM sync_runs WHERE status = @running", new { running = Running }, cancellationToken: ct))).ToList();
    }

    /// <summary>Ends a run whose runner is gone (its lease lapsed) as failed with the reason; false if it had finished meanwhile.</summary>
    public async Task<bool> AbandonAsync(long id, string reason, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE sync_runs SET status = @failed, phase = 'finished', error = @reason, updated_at = @now, finished_at = @now
            WHERE id = @id AND status = @running
            """, new { id, reason, now, failed = Failed, running = Running }, cancellationToken: ct)) == 1;
    }

    private const string Columns =
        "id, corp_id, kind, trigger_reason, status, phase, holder, started_at, updated_at, finished_at, counts, calls, note, error";
}
