using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.Audit;

internal sealed record AuditEntry(long Id, DateTime At, string ActorCorpId, string ActorUserId, string Action, string SubjectCorpId,
    string StudentUserIds, string Reason, string Outcome);

/// <summary>Append-only record of reads of identifiable student data and of decisions, allowed and denied alike.</summary>
internal sealed class AuditLog(Database db, TimeProvider time)
{
    public const string Allowed = "allowed";
    public const string Denied = "denied";

    public async Task WriteAsync(string actorCorpId, string actorUserId, string action, string subjectCorpId,
        IEnumerable<string> studentUserIds, string reason, string outcome, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO audit_log (at, actor_corp_id, actor_user_id, action, subject_corp_id, student_user_ids, reason, outcome)
            VALUES (@at, @actorCorpId, @actorUserId, @action, @subjectCorpId, @students, @reason, @outcome)
            """, new
        {
            at = time.UtcNowForDatabase(), actorCorpId, actorUserId, action, subjectCorpId,
            students = string.Join(',', studentUserIds), reason, outcome,
        }, cancellationToken: ct));
    }

    /// <summary>Newest first; <paramref name="subjectCorpIds"/> null means every corp (the bureau).</summary>
    public async Task<(IReadOnlyList<AuditEntry> Items, int Total)> ListAsync(IReadOnlyCollection<string>? subjectCorpIds, long skip,
        int take, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var filter = subjectCorpIds is null ? "1 = 1" : "subject_corp_id IN @corps";
        var args = new { corps = subjectCorpIds?.ToList() ?? [], skip, take };
        var items = (await connection.QueryAsync<AuditEntry>(new CommandDefinition($"""
            SELECT id, at, actor_corp_id, actor_user_id, action, subject_corp_id, student_user_ids, reason, outcome
            FROM audit_log WHERE {filter} ORDER BY id DESC LIMIT @take OFFSET @skip
            """, args, cancellationToken: ct))).ToList();
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT COUNT(*) FROM audit_log WHERE {filter}", args, cancellationToken: ct));
        return (items, total);
    }
}
