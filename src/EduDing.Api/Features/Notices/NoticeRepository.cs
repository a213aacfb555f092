using System.Data.Common;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Notices;

/// <summary>A batch this instance may send now, or when the corp's budget next allows one.</summary>
internal sealed record ProgressRow(string CorpId, long? ClassId, string Status, bool IsRead, int Recipients);

internal sealed record RecipientView(string CorpId, string UserId, string Name, [property: CodeValues(typeof(AudienceRole))] string Role, long? ClassId, string Reason, [property: CodeValues(typeof(RecipientStatus))] string Status,
    string? Failure, DateTime? SentAt, DateTime? ReadAt);

internal sealed record MyNoticeRow(long Id, string Category, string SenderName, string Title, string? LinkPage, DateTime SendAt,
    DateTime? ReadAt);

/// <summary>Notices, their recipients as read back (progress, lists, read state), and schools' notice settings. The outbox is <see cref="NoticeOutbox"/>.</summary>
internal sealed class NoticeRepository(Database db)
{
    internal const string NoticeColumns = """
        id, kind, category, sender_corp_id, sender_user_id, sender_name, title, body, links, audience, link_page, status, send_at,
        created_at, updated_at, reviewed_by_user_id, reviewed_at, review_comment, resolved_at, completed_at, targeted, recalled_at,
        recalled_by_user_id, last_reminded_on, reminders
        """;

    internal const string BatchColumns = """
        id, notice_id, corp_id, purpose, user_ids, recipient_count, message, status, attempts, uncertain, first_attempt_on, task_id, sent_at
        """;

    /// <summary>Batches that still may send or be checked: a notice with none of these is complete.</summary>
    private const string OpenBatchStatuses = "('pending', 'sending', 'sent', 'checking')";

    public async Task<long> CreateAsync(string kind, string category, string senderCorpId, string? senderUserId, string senderName,
        string title, string body, string links, string audience, string? linkPage, string status, DateTime sendAt, DateTime now,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await InsertAsync(connection, null, kind, category, senderCorpId, senderUserId, senderName, title, body, links, audience, linkPage,
            status, sendAt, now, ct);
    }

    internal async Task<long> InsertAsync(DbConnection connection, DbTransaction? tx, string kind, string category, string senderCorpId,
        string? senderUserId, string senderName, string title, string body, string links, string audience, string? linkPage, string status,
        DateTime sendAt, DateTime now, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<long>(new CommandDefinition($"""
            INSERT INTO notices (kind, category, sender_corp_id, sender_user_id, sender_name, title, body, links, audience, link_page,
                                 status, send_at, created_at, updated_at)
            VALUES (@kind, @category, @senderCorpId, @senderUserId, @senderName, @title, @body, @links, @audience, @linkPage,
                    @status, @sendAt, @now, @now);
            {db.Dialect.SelectLastInsertId};
            """, new { kind, category, senderCorpId, senderUserId, senderName, title, body, links, audience, linkPage, status, sendAt, now }, tx,
            cancellationToken: ct));

    public async Task<Notice?> FindAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<Notice>(new CommandDefinition(
            $"SELECT {NoticeColumns} FROM notices WHERE id = @id", new { id }, cancellationToken: ct));
    }

    /// <summary>Notices sent from <paramref name="adminCorpIds"/> or written by the caller, newest first.</summary>
    public async Task<(IReadOnlyList<Notice> Items, int Total)> ListManagedAsync(IReadOnlyCollection<string> adminCorpIds,
        IReadOnlyCollection<(string CorpId, string UserId)> authors, string? status, long skip, int take, CancellationToken ct)
    {
        var args = new DynamicParameters(new { corps = adminCorpIds.ToList(), status, skip, take });
        var filters = new List<string> { "sender_corp_id IN @corps" };
        var i = 0;
        foreach (var (corpId, userId) in authors)
        {
            filters.Add($"(sender_corp_id = @ac{i} AND sender_user_id = @au{i})");
            args.Add($"ac{i}", corpId);
            args.Add($"au{i}", userId);
            i++;
        }

        var where = $"kind = 'announcement' AND ({string.Join(" OR ", filters)}) AND (@status IS NULL OR status = @status)";
        await using var connection = await db.OpenConnectionAsync(ct);
        var items = (await connection.QueryAsync<Notice>(new CommandDefinition(
            $"SELECT {NoticeColumns} FROM notices WHERE {where} ORDER BY id DESC LIMIT @take OFFSET @skip", args, cancellationToken: ct))).ToList();
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT COUNT(*) FROM notices WHERE {where}", args, cancellationToken: ct));
        return (items, total);
    }

    /// <summary>Moves a notice from one status to another; false when it was no longer in <paramref name="from"/>.</summary>
    public async Task<bool> ReviewAsync(long id, string from, string to, string reviewerUserId, string? comment, DateTime sendAt, DateTime now,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE notices SET status = @to, reviewed_by_user_id = @reviewerUserId, reviewed_at = @now, review_comment = @comment,
                               send_at = @sendAt, updated_at = @now
            WHERE id = @id AND status = @from
            """, new { id, from, to, reviewerUserId, comment, sendAt, now }, cancellationToken: ct)) == 1;
    }

    public async Task<IReadOnlyList<long>> DueNoticeIdsAsync(DateTime now, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT id FROM notices WHERE status = 'scheduled' AND send_at <= @now ORDER BY send_at, id LIMIT @limit",
            new { now, limit }, cancellationToken: ct))).ToList();
    }

    /// <summary>Notices sending whose audience is not wholly queued: the instance queueing them may have died.</summary>
    public async Task<IReadOnlyList<long>> PartlyQueuedNoticeIdsAsync(int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT id FROM notices WHERE status = 'sending' AND audience_queued = 0 ORDER BY id LIMIT @limit",
            new { limit }, cancellationToken: ct))).ToList();
    }

    // ---- reading ----

    public async Task<IReadOnlyList<ProgressRow>> ProgressAsync(long noticeId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ProgressRow>(new CommandDefinition("""
            SELECT corp_id, class_id, status, CASE WHEN read_at IS NULL THEN 0 ELSE 1 END AS is_read, COUNT(*) AS recipients
            FROM notice_recipients WHERE notice_id = @noticeId
            GROUP BY corp_id, class_id, status, CASE WHEN read_at IS NULL THEN 0 ELSE 1 END
            """, new { noticeId }, cancellationToken: ct))).ToList();
    }

    public async Task<(int Queued, int Failed)> BatchCountsAsync(long noticeId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleAsync<(int, int)>(new CommandDefinition($"""
            SELECT COALESCE(SUM(CASE WHEN status IN {OpenBatchStatuses} THEN 1 ELSE 0 END), 0),
                   COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0)
            FROM notice_batches WHERE notice_id = @noticeId
            """, new { noticeId }, cancellationToken: ct));
    }

    public async Task<(IReadOnlyList<RecipientView> Items, int Total)> RecipientsAsync(long noticeId, string? status, string? corpId,
        long? classId, bool? read, long skip, int take, CancellationToken ct)
    {
        const string where = """
            notice_id = @noticeId AND (@status IS NULL OR status = @status) AND (@corpId IS NULL OR corp_id = @corpId)
            AND (@classId IS NULL OR class_id = @classId)
            AND (@read IS NULL OR (@read = 1 AND read_at IS NOT NULL) OR (@read = 0 AND read_at IS NULL))
            """;
        var args = new { noticeId, status, corpId, classId, read = read is null ? (int?)null : read.Value ? 1 : 0, skip, take };
        await using var connection = await db.OpenConnectionAsync(ct);
        var items = (await connection.QueryAsync<RecipientView>(new CommandDefinition($"""
            SELECT corp_id, user_id, name, role, class_id, reason, status, failure, sent_at, read_at
            FROM notice_recipients WHERE {where} ORDER BY corp_id, class_id, user_id LIMIT @take OFFSET @skip
            """, args, cancellationToken: ct))).ToList();
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT COUNT(*) FROM notice_recipients WHERE {where}", args, cancellationToken: ct));
        return (items, total);
    }

    /// <summary>The notices addressed to any of one person's identities, not recalled, newest first, with the unread count.</summary>
    public async Task<(IReadOnlyList<MyNoticeRow> Items, int Total, int Unread)> ForPersonAsync(
        IReadOnlyList<(string CorpId, string UserId)> identities, long skip, int take, CancellationToken ct)
    {
        var (filter, args) = IdentityFilter.Of(identities, "r.corp_id", "r.user_id");
        args.Add("skip", skip);
        args.Add("take", take);
        var from = $"""
            FROM notice_recipients r JOIN notices n ON n.id = r.notice_id
            WHERE ({filter}) AND r.status <> 'cancelled' AND n.status IN ('sending', 'sent')
            """;
        await using var connection = await db.OpenConnectionAsync(ct);
        var items = (await connection.QueryAsync<MyNoticeRow>(new CommandDefinition($"""
            SELECT n.id, n.category, n.sender_name, n.title, n.link_page, n.send_at, MIN(r.read_at) AS read_at
            {from}
            GROUP BY n.id, n.category, n.sender_name, n.title, n.link_page, n.send_at
            ORDER BY n.send_at DESC, n.id DESC LIMIT @take OFFSET @skip
            """, args, cancellationToken: ct))).ToList();
        var (total, unread) = await connection.QuerySingleAsync<(int, int)>(new CommandDefinition($"""
            SELECT COUNT(DISTINCT n.id), COUNT(DISTINCT CASE WHEN r.read_at IS NULL THEN n.id END) {from}
            """, args, cancellationToken: ct));
        return (items, total, unread);
    }

    /// <summary>Marks the notice read by the person the first time; when they read it, or null if it is not addressed to them.</summary>
    public async Task<DateTime?> MarkReadAsync(long noticeId, IReadOnlyList<(string CorpId, string UserId)> identities, DateTime now,
        CancellationToken ct)
    {
        var (filter, args) = IdentityFilter.Of(identities, "r.corp_id", "r.user_id");
        args.Add("noticeId", noticeId);
        args.Add("now", now);
        var visible = $"""
            r.notice_id = @noticeId AND ({filter}) AND r.status <> 'cancelled'
            AND EXISTS (SELECT 1 FROM notices n WHERE n.id = r.notice_id AND n.status IN ('sending', 'sent'))
            """;
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE notice_recipients SET read_at = @now WHERE notice_id = @noticeId AND read_at IS NULL AND ({filter.Replace("r.", "", StringComparison.Ordinal)})",
            args, cancellationToken: ct));
        var reads = (await connection.QueryAsync<DateTime>(new CommandDefinition(
            $"SELECT r.read_at FROM notice_recipients r WHERE {visible} AND r.read_at IS NOT NULL", args, cancellationToken: ct))).ToList();
        return reads.Count == 0 ? null : reads.Min();
    }

    // ---- school settings ----

    public async Task<bool?> TeacherNoticesNeedApprovalAsync(string corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition(
            "SELECT teacher_notices_need_approval FROM notice_school_settings WHERE corp_id = @corpId", new { corpId }, cancellationToken: ct));
    }

    public async Task SetTeacherNoticesNeedApprovalAsync(string corpId, bool value, string userId, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            db.Dialect.Upsert("notice_school_settings", ["corp_id"], ["teacher_notices_need_approval", "updated_at", "updated_by_user_id"]),
            new { corp_id = corpId, teacher_notices_need_approval = value, updated_at = now, updated_by_user_id = userId },
            cancellationToken: ct));
    }
}
