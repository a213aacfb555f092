using Dapper;
using EduDing.Api.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Notices;

/// <summary>One corp's part of a notice still being sent: its recipients and batches by status (docs/notices.md).</summary>
internal sealed record FanOutCorpDto(string CorpId, long RecipientsPending, long RecipientsSent, long RecipientsFailed, long BatchesWaiting,
    long BatchesClaimed, long BatchesUncertain, DateTime? NextAttemptAt);

/// <summary>A notice whose fan-out is in progress or scheduled, for operators.</summary>
internal sealed record FanOutDto(long NoticeId, [property: CodeValues(typeof(NoticeService))] string Kind, string SenderCorpId, string Title, [property: CodeValues(typeof(NoticeStatus))] string Status, DateTime SendAt,
    IReadOnlyList<FanOutCorpDto> Corps);

/// <summary>
/// The notice fan-outs in progress or scheduled (the oldest 200), for operators (system-admin): which notices are still
/// to be sent or being sent, how far each corp's part has gone, and whether batches are waiting, claimed by an instance, or uncertain (sent without a reply).
/// </summary>
internal sealed class NoticeFanOuts(Database db)
{
    public async Task<IReadOnlyList<FanOutDto>> InProgressAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var notices = (await connection.QueryAsync<(long Id, string Kind, string SenderCorpId, string Title, string Status, DateTime SendAt)>(
            new CommandDefinition("""
                SELECT id, kind, sender_corp_id, title, status, send_at FROM notices
                WHERE status IN (@scheduled, @sending)
                ORDER BY send_at, id
                LIMIT 200
                """, new { scheduled = NoticeStatus.Scheduled, sending = NoticeStatus.Sending }, cancellationToken: ct))).ToList();
        if (notices.Count == 0)
        {
            return [];
        }

        var ids = notices.Select(n => n.Id).ToList();
        var recipients = (await connection.QueryAsync<(long NoticeId, string CorpId, long Pending, long Sent, long Failed)>(new CommandDefinition("""
                SELECT notice_id, corp_id,
                       SUM(CASE WHEN status = @pending THEN 1 ELSE 0 END),
                       SUM(CASE WHEN status IN (@sent, @delivered) THEN 1 ELSE 0 END),
                       SUM(CASE WHEN status = @failed THEN 1 ELSE 0 END)
                FROM notice_recipients WHERE notice_id IN @ids GROUP BY notice_id, corp_id
                """, new { ids, pending = RecipientStatus.Pending, sent = RecipientStatus.Sent, delivered = RecipientStatus.Delivered,
                failed = RecipientStatus.Failed }, cancellationToken: ct)))
            .ToDictionary(r => (r.NoticeId, r.CorpId));
        var batches = (await connection.QueryAsync<(long NoticeId, string CorpId, long Waiting, long Claimed, long Uncertain, DateTime? Next)>(
                new CommandDefinition("""
                    SELECT notice_id, corp_id,
                           SUM(CASE WHEN status = @pendingBatch THEN 1 ELSE 0 END),
                           SUM(CASE WHEN claimed_by IS NOT NULL AND status IN (@pendingBatch, @sending, @checking) THEN 1 ELSE 0 END),
                           SUM(CASE WHEN uncertain THEN 1 ELSE 0 END),
                           MIN(CASE WHEN status = @pendingBatch THEN next_attempt_at END)
                    FROM notice_batches WHERE notice_id IN @ids GROUP BY notice_id, corp_id
                    """, new { ids, pendingBatch = BatchStatus.Pending, sending = BatchStatus.Sending, checking = BatchStatus.Checking },
                    cancellationToken: ct)))
            .ToDictionary(b => (b.NoticeId, b.CorpId));
        return notices.Select(n => new FanOutDto(n.Id, n.Kind, n.SenderCorpId, n.Title, n.Status, n.SendAt,
                recipients.Keys.Concat(batches.Keys).Where(k => k.NoticeId == n.Id).Distinct().OrderBy(k => k.CorpId, StringComparer.Ordinal)
                    .Select(k =>
                    {
                        var r = recipients.GetValueOrDefault(k);
                        var b = batches.GetValueOrDefault(k);
                        return new FanOutCorpDto(k.CorpId, r.Pending, r.Sent, r.Failed, b.Waiting, b.Claimed, b.Uncertain, b.Next);
                    }).ToList()))
            .ToList();
    }

    public static async Task<Ok<IReadOnlyList<FanOutDto>>> ListAsync(NoticeFanOuts fanOuts, CancellationToken ct) =>
        TypedResults.Ok(await fanOuts.InProgressAsync(ct));
}
