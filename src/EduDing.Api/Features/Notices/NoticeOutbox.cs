using System.Data.Common;
using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.Notices;

/// <summary>A batch this instance may send now, or when the corp's budget next allows one.</summary>
internal sealed record BatchClaim(NoticeBatch? Batch, DateTime? WaitUntil);

/// <summary>
/// The outbox of DingTalk work-notice batches (docs/notices.md): a notice's recipients and batches queued in one
/// transaction, batches claimed per corp within the send budget (<see cref="SendBudget"/>), marked sent, checked for
/// their outcome, released for retry, recalled, and reminders queued. Every claim is a database claim with a holder
/// and a timeout, so several instances share the work.
/// </summary>
internal sealed class NoticeOutbox(Database db, NoticeRepository notices)
{
    /// <summary>Batches that still may send or be checked: a notice with none of these is complete.</summary>
    private const string OpenBatchStatuses = "('pending', 'sending', 'sent', 'checking')";

    /// <summary>
    /// The transactional outbox, all at once: in one transaction the notice moves from scheduled to sending (only one
    /// instance wins), its recipients are recorded and its batches queued. False when another instance got there first.
    /// </summary>
    public Task<bool> BeginSendingAsync(long noticeId, IReadOnlyList<NoticeRecipient> recipients,
        Func<string, IReadOnlyList<string>, string> messageFor, int batchSize, DateTime now, CancellationToken ct) =>
        BeginSendingAsync(noticeId, recipients.Count, recipients, audienceQueued: true, messageFor, batchSize, now, ct);

    /// <summary>
    /// The first part of a notice queued in parts (<see cref="QueueInParts"/>): the notice moves from scheduled to
    /// sending (only one instance wins) with <paramref name="firstPart"/> queued; until <paramref name="audienceQueued"/>
    /// the rest follows through <see cref="QueueMoreAsync"/>. False when another instance got there first.
    /// </summary>
    public Task<bool> BeginSendingAsync(long noticeId, int targeted, IReadOnlyList<NoticeRecipient> firstPart, bool audienceQueued,
        Func<string, IReadOnlyList<string>, string> messageFor, int batchSize, DateTime now, CancellationToken ct) =>
        db.InTransactionAsync((tx, token) => BeginSendingAsync(tx, noticeId, targeted, firstPart, audienceQueued, messageFor, batchSize, now, token),
            ct);

    /// <summary>Moves a scheduled notice to sending and queues <paramref name="firstPart"/>, in <paramref name="tx"/>; false when it was not scheduled.</summary>
    private async Task<bool> BeginSendingAsync(DbTransaction tx, long noticeId, int targeted, IReadOnlyList<NoticeRecipient> firstPart,
        bool audienceQueued, Func<string, IReadOnlyList<string>, string> messageFor, int batchSize, DateTime now, CancellationToken token)
    {
        if (await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                UPDATE notices SET status = 'sending', resolved_at = @now, targeted = @targeted, audience_queued = @audienceQueued, updated_at = @now
                WHERE id = @noticeId AND status = 'scheduled'
                """, new { noticeId, now, targeted, audienceQueued }, tx, cancellationToken: token)) == 0)
        {
            return false;
        }

        await EnqueueAsync(tx, noticeId, firstPart, messageFor, batchSize, now, token);
        await CompleteIfDoneAsync(tx, noticeId, now, token);
        return true;
    }

    /// <summary>
    /// Queues one more part of a notice that is sending and not yet wholly queued; with <paramref name="audienceQueued"/>
    /// the notice's audience is complete and the notice may complete. The notice's row is locked first, so instances
    /// queueing the same notice take turns; a person already queued (by another instance resuming the same notice) fails
    /// the part on the recipients' key, and nothing of it is written. False when the part was not queued: the notice no
    /// longer takes parts (recalled, or wholly queued) or someone in it was queued already.
    /// </summary>
    public async Task<bool> QueueMoreAsync(long noticeId, IReadOnlyList<NoticeRecipient> part, bool audienceQueued,
        Func<string, IReadOnlyList<string>, string> messageFor, int batchSize, DateTime now, CancellationToken ct)
    {
        try
        {
            return await db.InTransactionAsync(async (tx, token) =>
            {
                var connection = tx.Connection!;
                if (await connection.ExecuteAsync(new CommandDefinition("""
                        UPDATE notices SET updated_at = @now WHERE id = @noticeId AND status = 'sending' AND audience_queued = 0
                        """, new { noticeId, now }, tx, cancellationToken: token)) == 0)
                {
                    return false;
                }

                await EnqueueAsync(tx, noticeId, part, messageFor, batchSize, now, token);
                if (audienceQueued)
                {
                    await connection.ExecuteAsync(new CommandDefinition("""
                        UPDATE notices SET audience_queued = @audienceQueued,
                                           targeted = (SELECT COUNT(*) FROM notice_recipients WHERE notice_id = @noticeId)
                        WHERE id = @noticeId
                        """, new { noticeId, audienceQueued }, tx, cancellationToken: token));
                    await CompleteIfDoneAsync(tx, noticeId, now, token);
                }

                return true;
            }, db.Dialect.GapFreeIsolation, ct);
        }
        catch (DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            return false;
        }
    }

    /// <summary>The people of <paramref name="recipients"/> not yet queued for the notice: what is left to queue when resuming it.</summary>
    public async Task<IReadOnlyList<NoticeRecipient>> NotYetQueuedAsync(long noticeId, IReadOnlyList<NoticeRecipient> recipients,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var queued = (await connection.QueryAsync<(string CorpId, string UserId)>(new CommandDefinition(
            "SELECT corp_id, user_id FROM notice_recipients WHERE notice_id = @noticeId", new { noticeId }, cancellationToken: ct))).ToHashSet();
        return recipients.Where(r => !queued.Contains((r.CorpId, r.UserId))).ToList();
    }

    /// <summary>
    /// A notice's recipients in the parts it is queued in. Each school's people are cut into its batches; the parts
    /// take the schools' first batches (the largest school first), then their second ones, and so on, each part closed
    /// at whole batches once it holds <paramref name="partSize"/> people. A school of 2,100 guardians takes 25 s at its
    /// app's cap whatever the others do, so what matters is that every school starts at once: its next batch is due only
    /// 1.2 s later, by which time the next parts are in (docs/notices.md "Queued in parts").
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<NoticeRecipient>> QueueInParts(IReadOnlyList<NoticeRecipient> recipients, int batchSize,
        int partSize)
    {
        var schools = recipients.GroupBy(r => r.CorpId, StringComparer.Ordinal)
            .OrderByDescending(c => c.Count()).ThenBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => c.Chunk(batchSize).ToList())
            .ToList();
        var parts = new List<IReadOnlyList<NoticeRecipient>>();
        var part = new List<NoticeRecipient>();
        var rounds = schools.Select(s => s.Count).DefaultIfEmpty(0).Max();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var batches in schools.Where(s => round < s.Count))
            {
                part.AddRange(batches[round]);
                if (part.Count >= partSize)
                {
                    parts.Add(part);
                    part = [];
                }
            }
        }

        if (part.Count > 0 || parts.Count == 0)
        {
            parts.Add(part);
        }

        return parts;
    }

    /// <summary>A system notice and its whole outbox, in one transaction.</summary>
    public Task<long> CreateSystemAsync(SystemNotice notice, IReadOnlyList<NoticeRecipient> recipients, Func<Notice, string, string> messageFor,
        int batchSize, DateTime now, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            var id = await notices.InsertAsync(connection, tx, "system", notice.Category, notice.SenderCorpId, null, notice.SenderName, notice.Title,
                notice.Body, "[]", "[]", notice.LinkPage, NoticeStatus.Scheduled, now, now, token);
            var stored = await connection.QuerySingleAsync<Notice>(new CommandDefinition(
                $"SELECT {NoticeRepository.NoticeColumns} FROM notices WHERE id = @id", new { id }, tx, cancellationToken: token));
            await BeginSendingAsync(tx, id, recipients.Count, recipients, audienceQueued: true, (corpId, _) => messageFor(stored, corpId), batchSize,
                now, token);
            return id;
        }, ct);

    /// <summary>Records <paramref name="recipients"/> and queues their batches (each corp's people cut into batches in their order).</summary>
    private async Task EnqueueAsync(DbTransaction tx, long noticeId, IReadOnlyList<NoticeRecipient> recipients,
        Func<string, IReadOnlyList<string>, string> messageFor, int batchSize, DateTime now, CancellationToken token)
    {
        if (recipients.Count == 0)
        {
            return;
        }

        var connection = tx.Connection!;
        var chunks = recipients.GroupBy(r => r.CorpId, StringComparer.Ordinal)
            .SelectMany(corp => corp.Chunk(batchSize).Select(chunk => (CorpId: corp.Key, People: chunk)))
            .ToList();
        // The part's number tells its batches from those of earlier parts and from re-queued ones; the notice's row lock
        // (taken by every caller) keeps two parts of one notice from taking the same number.
        var queuePart = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT COALESCE(MAX(queue_part), 0) + 1 FROM notice_batches WHERE notice_id = @noticeId", new { noticeId }, tx,
            cancellationToken: token));
        // What every row shares is bound once per statement: a city-wide notice queues 200,000 recipients here.
        await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "notice_batches",
            ["corp_id", "user_ids", "recipient_count", "message"],
            chunks, c =>
            {
                var userIds = c.People.Select(p => p.UserId).ToList();
                return [c.CorpId, string.Join(',', userIds), userIds.Count, messageFor(c.CorpId, userIds)];
            }, token, shared: [("notice_id", noticeId), ("purpose", BatchPurpose.Notice), ("status", BatchStatus.Pending),
                ("next_attempt_at", now), ("created_at", now), ("queue_part", queuePart)]);
        var batchIds = (await connection.QueryAsync<long>(new CommandDefinition("""
            SELECT id FROM notice_batches WHERE notice_id = @noticeId AND queue_part = @queuePart ORDER BY id
            """, new { noticeId, queuePart }, tx, cancellationToken: token))).ToList();
        if (batchIds.Count != chunks.Count)
        {
            throw new InvalidOperationException($"Notice {noticeId}: {chunks.Count} batches queued in part {queuePart} but {batchIds.Count} found");
        }

        var rows = chunks.SelectMany((c, i) => c.People.Select(p => (Person: p, BatchId: batchIds[i]))).ToList();
        await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "notice_recipients",
            ["corp_id", "user_id", "union_id", "name", "role", "class_id", "reason", "batch_id"],
            rows, r => [r.Person.CorpId, r.Person.UserId, r.Person.UnionId, r.Person.Name, r.Person.Role, r.Person.ClassId,
                r.Person.Reason, r.BatchId], token, shared: [("notice_id", noticeId), ("status", RecipientStatus.Pending)]);
    }

    // ---- dispatch ----

    /// <summary>The outbox's backlog for metrics: batches not yet handed to DingTalk, their recipients, and those sent without a reply (uncertain).</summary>
    public async Task<(long Batches, long Recipients, long Uncertain)> BacklogAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleAsync<(long, long, long)>(new CommandDefinition("""
            SELECT COUNT(*), COALESCE(SUM(recipient_count), 0), COALESCE(SUM(CASE WHEN uncertain THEN 1 ELSE 0 END), 0)
            FROM notice_batches WHERE status IN (@pending, @sending)
            """, new { pending = BatchStatus.Pending, sending = BatchStatus.Sending }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<string>> CorpsWithDueBatchesAsync(DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT DISTINCT corp_id FROM notice_batches
            WHERE (status = 'pending' AND next_attempt_at <= @now) OR (status = 'sending' AND claim_expires_at <= @now)
            """, new { now }, cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// Claims the corp's next due batch if its app's recipient budget allows it now. The corp's lock row serializes
    /// claims across instances; the budget is a sliding window over what every instance handed to DingTalk, and
    /// batches are spaced evenly within it. A batch whose earlier claim expired mid-send is claimed as uncertain.
    /// People at the per-day limit are moved to a batch of their own for the next day. It runs at the dialect's gap-free
    /// isolation (READ COMMITTED on MySQL): at REPEATABLE READ the update of a corp's lock row that is not there yet
    /// locked the gap, and the first claims of a corp by two instances then deadlocked inserting it (hundreds of re-run
    /// transactions when a city-wide notice started in the city-scale bench, #17).
    /// </summary>
    public Task<BatchClaim> ClaimNextBatchAsync(string corpId, string holder, int recipientsPerMinute, TimeSpan window,
        TimeSpan claimTimeout, int messagesPerUserPerDay, DateTime now, DateOnly today, DateTime nextDayStart, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            var args = new { corpId, now };
            if (await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE notice_dispatch_locks SET locked_at = @now WHERE corp_id = @corpId", args, tx, cancellationToken: token)) == 0)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    db.Dialect.Upsert("notice_dispatch_locks", ["corp_id"], ["locked_at"]), new { corp_id = corpId, locked_at = now }, tx,
                    cancellationToken: token));
            }

            var batch = await connection.QueryFirstOrDefaultAsync<NoticeBatch>(new CommandDefinition($"""
                SELECT {NoticeRepository.BatchColumns} FROM notice_batches
                WHERE corp_id = @corpId AND ((status = 'pending' AND next_attempt_at <= @now) OR (status = 'sending' AND claim_expires_at <= @now))
                ORDER BY id LIMIT 1
                """, args, tx, cancellationToken: token));
            if (batch is null)
            {
                return new BatchClaim(null, null);
            }

            var sent = (await connection.QueryAsync<(DateTime SentAt, int Recipients)>(new CommandDefinition("""
                SELECT sent_at, recipients FROM notice_send_window WHERE corp_id = @corpId AND sent_at > @windowStart ORDER BY sent_at
                """, new { corpId, windowStart = now - window }, tx, cancellationToken: token))).ToList();
            if (SendBudget.WaitFor(sent, batch.RecipientCount, recipientsPerMinute, window, now) is { } waitUntil)
            {
                return new BatchClaim(null, waitUntil);
            }

            var expiredMidSend = batch.Status == BatchStatus.Sending;
            if (expiredMidSend && batch.FirstAttemptOn != today)
            {
                // DingTalk drops an identical message to the same person on the same day (143106), which makes a
                // same-day resend harmless; on another day it could arrive twice, so it is recorded, not resent.
                await FailBatchAsync(tx, batch.Id, "delivery-uncertain",
                    "an earlier attempt may have been delivered; not resent on a later day to avoid a duplicate", now, token);
                return new BatchClaim(null, now);
            }

            var userIds = batch.UserIdList;
            var atLimit = (await connection.QueryAsync<string>(new CommandDefinition("""
                SELECT user_id FROM notice_user_days
                WHERE corp_id = @corpId AND day = @day AND user_id IN @userIds AND messages >= @messagesPerUserPerDay
                """, new { corpId, day = DayNumber(today), userIds, messagesPerUserPerDay }, tx, cancellationToken: token))).ToHashSet();
            if (atLimit.Count > 0 && !expiredMidSend)
            {
                var later = userIds.Where(atLimit.Contains).ToList();
                await SplitOffAsync(tx, batch, later, nextDayStart, now, token);
                userIds = userIds.Where(u => !atLimit.Contains(u)).ToList();
                if (userIds.Count == 0)
                {
                    return new BatchClaim(null, now);
                }
            }

            // uncertain before status: MySQL evaluates a single-table UPDATE's assignments left to right, each seeing
            // those before it, so after status it read 'sending' and marked every batch uncertain.
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE notice_batches
                SET uncertain = CASE WHEN status = 'sending' THEN @uncertainValue ELSE uncertain END,
                    status = 'sending', claimed_by = @holder, claim_expires_at = @expires, attempts = attempts + 1,
                    first_attempt_on = COALESCE(first_attempt_on, @today)
                WHERE id = @id
                """, new { id = batch.Id, holder, expires = now + claimTimeout, today, uncertainValue = true }, tx, cancellationToken: token));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO notice_send_window (corp_id, sent_at, recipients) VALUES (@corpId, @at, @recipients)",
                new { corpId, at = SendBudget.LedgerTime(sent, recipientsPerMinute, window, now), recipients = userIds.Count }, tx,
                cancellationToken: token));
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM notice_send_window WHERE corp_id = @corpId AND sent_at < @before",
                new { corpId, before = now - 2 * window }, tx, cancellationToken: token));
            if (!expiredMidSend)
            {
                await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "notice_user_days", ["corp_id", "user_id", "day", "messages"], userIds,
                    u => [corpId, u, DayNumber(today), 1], token, db.Dialect.AddOnConflict(["corp_id", "user_id", "day"], "messages"));
            }

            return new BatchClaim(batch with
            {
                UserIds = string.Join(',', userIds),
                RecipientCount = userIds.Count,
                Uncertain = batch.Uncertain || expiredMidSend,
                Attempts = batch.Attempts + 1,
            }, null);
        }, db.Dialect.GapFreeIsolation, ct);

    public async Task<bool> MarkSentAsync(NoticeBatch batch, string holder, long taskId, DateTime now, CancellationToken ct) =>
        await db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            var updated = await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE notice_batches
                SET status = 'sent', task_id = @taskId, sent_at = @now, sent_by = claimed_by, claimed_by = NULL, claim_expires_at = NULL, last_error = NULL,
                    user_ids = @userIds, recipient_count = @count,
                    recall_status = CASE WHEN EXISTS (SELECT 1 FROM notices n WHERE n.id = notice_id AND n.status = 'recalled')
                                         THEN 'pending' ELSE recall_status END
                WHERE id = @id AND claimed_by = @holder AND status = 'sending'
                """, new { id = batch.Id, holder, taskId, now, userIds = batch.UserIds, count = batch.RecipientCount }, tx,
                cancellationToken: token));
            if (updated == 1 && batch.Purpose == BatchPurpose.Notice)
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE notice_recipients SET status = 'sent', sent_at = @now
                    WHERE batch_id = @id AND status = 'pending'
                    """, new { id = batch.Id, now }, tx, cancellationToken: token));
            }

            return updated == 1;
        }, ct);

    /// <summary>A failed attempt: retried at <paramref name="retryAt"/>, or, with none, its recipients fail for good.</summary>
    public Task ReleaseFailedAttemptAsync(NoticeBatch batch, string holder, string error, DateTime? retryAt, bool uncertain, DateTime now,
        CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            var claimed = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "SELECT COUNT(*) FROM notice_batches WHERE id = @id AND claimed_by = @holder AND status = 'sending'",
                new { id = batch.Id, holder }, tx, cancellationToken: token));
            if (claimed == 0)
            {
                return;
            }

            if (retryAt is null)
            {
                await FailBatchAsync(tx, batch.Id, "send-failed", error, now, token);
                return;
            }

            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE notice_batches
                SET status = 'pending', claimed_by = NULL, claim_expires_at = NULL, next_attempt_at = @retryAt, last_error = @error,
                    uncertain = CASE WHEN @uncertain THEN @uncertain ELSE uncertain END
                WHERE id = @id
                """, new { id = batch.Id, retryAt, error = Truncate(error), uncertain }, tx, cancellationToken: token));
        }, ct);

    // ---- results ----

    /// <summary>Claims one sent batch whose outcome is due to be read back (or a check another instance abandoned).</summary>
    public Task<NoticeBatch?> ClaimBatchToCheckAsync(string holder, DateTime sentBefore, TimeSpan claimTimeout, DateTime now,
        CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            var candidates = (await connection.QueryAsync<NoticeBatch>(new CommandDefinition($"""
                SELECT {NoticeRepository.BatchColumns} FROM notice_batches
                WHERE (status = 'sent' AND sent_at <= @sentBefore) OR (status = 'checking' AND claim_expires_at <= @now)
                ORDER BY id LIMIT 5
                """, new { sentBefore, now }, tx, cancellationToken: token))).ToList();
            foreach (var candidate in candidates)
            {
                if (await connection.ExecuteAsync(new CommandDefinition("""
                        UPDATE notice_batches SET status = 'checking', claimed_by = @holder, claim_expires_at = @expires
                        WHERE id = @id AND status = @status
                        """, new { id = candidate.Id, status = candidate.Status, holder, expires = now + claimTimeout }, tx,
                        cancellationToken: token)) == 1)
                {
                    return candidate;
                }
            }

            return null;
        }, ct);

    /// <summary>
    /// Records a batch's outcome per recipient: delivered, failed with the reason, or re-queued in a new batch at the
    /// time given (those DingTalk held back for a limit, or reported as failed to receive).
    /// </summary>
    public Task ApplyOutcomeAsync(NoticeBatch batch, string holder, IReadOnlyList<string> delivered,
        IReadOnlyList<(string UserId, string Failure)> failed, IReadOnlyList<(string UserId, DateTime RetryAt)> requeue, DateTime now,
        CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            if (await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE notice_batches SET status = 'done', checked_at = @now, claimed_by = NULL, claim_expires_at = NULL
                    WHERE id = @id AND claimed_by = @holder AND status = 'checking'
                    """, new { id = batch.Id, holder, now }, tx, cancellationToken: token)) == 0)
            {
                return;
            }

            if (batch.Purpose == BatchPurpose.Notice)
            {
                if (delivered.Count > 0)
                {
                    await connection.ExecuteAsync(new CommandDefinition("""
                        UPDATE notice_recipients SET status = 'delivered'
                        WHERE notice_id = @noticeId AND corp_id = @corpId AND user_id IN @delivered AND batch_id = @id
                        """, new { noticeId = batch.NoticeId, corpId = batch.CorpId, delivered, id = batch.Id }, tx, cancellationToken: token));
                }

                foreach (var group in failed.GroupBy(f => f.Failure))
                {
                    await connection.ExecuteAsync(new CommandDefinition("""
                        UPDATE notice_recipients SET status = 'failed', failure = @failure
                        WHERE notice_id = @noticeId AND corp_id = @corpId AND user_id IN @userIds AND batch_id = @id
                        """, new
                    {
                        noticeId = batch.NoticeId, corpId = batch.CorpId, failure = Truncate(group.Key),
                        userIds = group.Select(f => f.UserId).ToList(), id = batch.Id,
                    }, tx, cancellationToken: token));
                }
            }

            foreach (var group in requeue.GroupBy(r => r.RetryAt))
            {
                await InsertBatchAsync(tx, batch, group.Select(r => r.UserId).ToList(), group.Key, now, token);
            }

            await CompleteIfDoneAsync(tx, batch.NoticeId, now, token);
        }, ct);

    // ---- recall ----

    /// <summary>Hides the notice at once, cancels what was not sent, and queues DingTalk recalls of what was (within 24 h).</summary>
    public Task<bool> RecallAsync(long noticeId, string userId, DateTime now, DateTime recallableSince, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            var args = new { noticeId, userId, now, recallableSince };
            if (await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE notices SET status = 'recalled', recalled_at = @now, recalled_by_user_id = @userId, updated_at = @now
                    WHERE id = @noticeId AND status <> 'recalled' AND status <> 'rejected'
                    """, args, tx, cancellationToken: token)) == 0)
            {
                return false;
            }

            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE notice_recipients SET status = 'cancelled'
                WHERE notice_id = @noticeId AND status = 'pending'
                  AND batch_id IN (SELECT id FROM notice_batches WHERE notice_id = @noticeId AND status = 'pending')
                """, args, tx, cancellationToken: token));
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE notice_batches SET status = 'cancelled' WHERE notice_id = @noticeId AND status = 'pending'", args, tx,
                cancellationToken: token));
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE notice_batches SET recall_status = 'pending'
                WHERE notice_id = @noticeId AND task_id IS NOT NULL AND sent_at >= @recallableSince AND recall_status IS NULL
                """, args, tx, cancellationToken: token));
            return true;
        }, ct);

    public Task<NoticeBatch?> ClaimRecallAsync(string holder, TimeSpan claimTimeout, DateTime now, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            var candidate = await connection.QueryFirstOrDefaultAsync<NoticeBatch>(new CommandDefinition($"""
                SELECT {NoticeRepository.BatchColumns} FROM notice_batches
                WHERE recall_status = 'pending' OR (recall_status = 'recalling' AND recall_claim_expires_at <= @now)
                ORDER BY id LIMIT 1
                """, new { now }, tx, cancellationToken: token));
            if (candidate is null)
            {
                return null;
            }

            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE notice_batches SET recall_status = 'recalling', recall_claim_expires_at = @expires WHERE id = @id",
                new { id = candidate.Id, expires = now + claimTimeout }, tx, cancellationToken: token));
            return candidate;
        }, ct);

    public async Task FinishRecallAsync(long batchId, string outcome, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE notice_batches SET recall_status = @outcome WHERE id = @batchId AND recall_status = 'recalling'",
            new { batchId, outcome }, cancellationToken: ct));
    }

    // ---- reminders ----

    /// <summary>Queues one reminder per unread recipient (once per day per notice); the number queued, or null if already reminded today.</summary>
    public Task<int?> QueueReminderAsync(long noticeId, DateOnly today, Func<string, IReadOnlyList<string>, string> messageFor, int batchSize,
        DateTime now, CancellationToken ct) =>
        db.InTransactionAsync<int?>(async (tx, token) =>
        {
            var connection = tx.Connection!;
            if (await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE notices SET last_reminded_on = @today, reminders = reminders + 1, updated_at = @now
                    WHERE id = @noticeId AND (last_reminded_on IS NULL OR last_reminded_on <> @today)
                    """, new { noticeId, today, now }, tx, cancellationToken: token)) == 0)
            {
                return null;
            }

            var unread = (await connection.QueryAsync<(string CorpId, string UserId)>(new CommandDefinition("""
                SELECT corp_id, user_id FROM notice_recipients
                WHERE notice_id = @noticeId AND status IN ('sent', 'delivered') AND read_at IS NULL
                ORDER BY corp_id, user_id
                """, new { noticeId }, tx, cancellationToken: token))).ToList();
            var chunks = unread.GroupBy(u => u.CorpId, StringComparer.Ordinal)
                .SelectMany(corp => corp.Select(u => u.UserId).Chunk(batchSize).Select(chunk => (CorpId: corp.Key, UserIds: chunk)))
                .ToList();
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "notice_batches",
                ["notice_id", "corp_id", "purpose", "user_ids", "recipient_count", "message", "status", "next_attempt_at", "created_at"],
                chunks, c => [noticeId, c.CorpId, BatchPurpose.Reminder, string.Join(',', c.UserIds), c.UserIds.Length,
                    messageFor(c.CorpId, c.UserIds), BatchStatus.Pending, now, now], token);
            return unread.Count;
        }, ct);

    private async Task InsertBatchAsync(DbTransaction tx, NoticeBatch from, IReadOnlyList<string> userIds, DateTime nextAttemptAt,
        DateTime now, CancellationToken ct)
    {
        var id = await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
            INSERT INTO notice_batches (notice_id, corp_id, purpose, user_ids, recipient_count, message, status, next_attempt_at, created_at)
            VALUES (@noticeId, @corpId, @purpose, @userIds, @count, @message, 'pending', @nextAttemptAt, @now);
            {db.Dialect.SelectLastInsertId};
            """, new
        {
            noticeId = from.NoticeId, corpId = from.CorpId, purpose = from.Purpose, userIds = string.Join(',', userIds),
            count = userIds.Count, message = from.Message, nextAttemptAt, now,
        }, tx, cancellationToken: ct));
        if (from.Purpose == BatchPurpose.Notice)
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                UPDATE notice_recipients SET batch_id = @id, status = 'pending', sent_at = NULL
                WHERE notice_id = @noticeId AND corp_id = @corpId AND user_id IN @userIds
                """, new { id, noticeId = from.NoticeId, corpId = from.CorpId, userIds }, tx, cancellationToken: ct));
        }
    }

    /// <summary>Moves <paramref name="userIds"/> out of <paramref name="batch"/> into a new batch due at <paramref name="at"/>.</summary>
    private async Task SplitOffAsync(DbTransaction tx, NoticeBatch batch, IReadOnlyList<string> userIds, DateTime at, DateTime now,
        CancellationToken ct)
    {
        var remaining = batch.UserIdList.Except(userIds, StringComparer.Ordinal).ToList();
        await tx.Connection!.ExecuteAsync(new CommandDefinition(
            "UPDATE notice_batches SET user_ids = @userIds, recipient_count = @count WHERE id = @id",
            new { id = batch.Id, userIds = string.Join(',', remaining), count = remaining.Count }, tx, cancellationToken: ct));
        await InsertBatchAsync(tx, batch, userIds, at, now, ct);
        if (remaining.Count == 0)
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition(
                "UPDATE notice_batches SET status = 'done', checked_at = @now WHERE id = @id", new { id = batch.Id, now }, tx,
                cancellationToken: ct));
        }
    }

    private static async Task FailBatchAsync(DbTransaction tx, long batchId, string failure, string error, DateTime now, CancellationToken ct)
    {
        var connection = tx.Connection!;
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE notice_batches SET status = 'failed', claimed_by = NULL, claim_expires_at = NULL, last_error = @error WHERE id = @batchId
            """, new { batchId, error = Truncate(error) }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE notice_recipients SET status = 'failed', failure = @failure
            WHERE batch_id = @batchId AND status IN ('pending', 'sent')
            """, new { batchId, failure = Truncate($"{failure}: {error}") }, tx, cancellationToken: ct));
        var noticeId = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT notice_id FROM notice_batches WHERE id = @batchId", new { batchId }, tx, cancellationToken: ct));
        await CompleteIfDoneAsync(tx, noticeId, now, ct);
    }

    private static async Task CompleteIfDoneAsync(DbTransaction tx, long noticeId, DateTime now, CancellationToken ct) =>
        await tx.Connection!.ExecuteAsync(new CommandDefinition($"""
            UPDATE notices SET status = 'sent', completed_at = @now, updated_at = @now
            WHERE id = @noticeId AND status = 'sending' AND audience_queued = 1
              AND NOT EXISTS (SELECT 1 FROM notice_batches b WHERE b.notice_id = @noticeId AND b.purpose = 'notice'
                              AND b.status IN {OpenBatchStatuses})
            """, new { noticeId, now }, tx, cancellationToken: ct));

    internal static int DayNumber(DateOnly day) => day.Year * 10000 + day.Month * 100 + day.Day;

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500];
}
