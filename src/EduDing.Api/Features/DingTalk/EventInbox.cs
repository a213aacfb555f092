using System.ComponentModel;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.DingTalk;

/// <summary>How an event reached the inbox.</summary>
internal static class EventSource
{
    [Description("HTTP 回调推送")]
    public const string Http = "http";
    [Description("Stream 长连接")]
    public const string Stream = "stream";
    [Description("推送失败事件列表（补取）")]
    public const string FailedList = "failed-list";
}

/// <summary>Where an inbox event stands, for operators.</summary>
internal static class InboxStatus
{
    [Description("待处理")]
    public const string Pending = "pending";

    [Description("已处理")]
    public const string Processed = "processed";

    [Description("已搁置，待重放")]
    public const string Parked = "parked";

    [Description("无功能处理，待重放")]
    public const string Unhandled = "unhandled";
}

internal sealed record InboxEvent(long Id, string CorpId, string EventKey, string EventType, string Payload, string Source,
    DateTime ReceivedAt, int Attempts);

/// <summary>An event as operators see it: where it stands, how often it was tried, and its last error.</summary>
internal sealed record InboxEventView(long Id, string CorpId, string EventKey, string EventType, string Source, DateTime ReceivedAt,
    int Attempts, DateTime? NextAttemptAt, DateTime? ProcessedAt, DateTime? ParkedAt, string? LastError)
{
    public string Status => ProcessedAt is not null ? InboxStatus.Processed
        : ParkedAt is not null ? LastError?.StartsWith(EventInbox.UnhandledPrefix, StringComparison.Ordinal) == true ? InboxStatus.Unhandled : InboxStatus.Parked
        : InboxStatus.Pending;
}

/// <summary>
/// Every event DingTalk delivered (HTTP push, Stream, or the failed-push list), stored once per corp and key: the
/// event id when there is one, else a hash of the content. A redelivery is a unique violation and changes nothing.
/// An event whose handling fails is tried again later, each wait twice the last (bounded), and after the configured
/// number of attempts parked: kept with its error, out of the way of the corp's later events, until an operator
/// replays it.
/// </summary>
internal sealed class EventInbox(Database db, TimeProvider time, PushBudget? pushes = null)
{
    public static string KeyFor(string? eventId, string eventType, string payload) =>
        !string.IsNullOrEmpty(eventId)
            ? eventId
            : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventType + "\n" + payload)));

    /// <summary>True when stored now, false when the key was already there. Every delivery counts as a push (DingTalk counts redeliveries too).</summary>
    public async Task<bool> TryAddAsync(string corpId, string eventKey, string eventType, string payload, string source,
        CancellationToken ct)
    {
        if (source != EventSource.FailedList)
        {
            pushes?.OnPushed(corpId, eventType);
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO dingtalk_events (corp_id, event_key, event_type, payload, source, received_at, attempts)
                VALUES (@corpId, @eventKey, @eventType, @payload, @source, @now, 0)
                """, new { corpId, eventKey, eventType, payload, source, now = time.GetUtcNow().UtcDateTime },
                cancellationToken: ct));
            return true;
        }
        catch (DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            return false;
        }
    }

    private const string Due = "processed_at IS NULL AND parked_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= @now)";

    /// <summary>Corps with events due now (pending, not parked, not waiting out a backoff).</summary>
    public async Task<IReadOnlyList<string>> CorpsWithPendingAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            $"SELECT DISTINCT corp_id FROM dingtalk_events WHERE {Due}", new { now = time.GetUtcNow().UtcDateTime },
            cancellationToken: ct))).ToList();
    }

    /// <summary>The oldest due events of a corp, in arrival order.</summary>
    public async Task<IReadOnlyList<InboxEvent>> PendingAsync(string corpId, int take, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<InboxEvent>(new CommandDefinition($"""
            SELECT id, corp_id, event_key, event_type, payload, source, received_at, attempts
            FROM dingtalk_events
            WHERE corp_id = @corpId AND {Due}
            ORDER BY id
            LIMIT @take
            """, new { corpId, take, now = time.GetUtcNow().UtcDateTime }, cancellationToken: ct))).ToList();
    }

    public async Task MarkProcessedAsync(IEnumerable<long> ids, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE dingtalk_events SET processed_at = @now, attempts = attempts + 1 WHERE id IN @ids",
            new { ids = ids.ToList(), now = time.GetUtcNow().UtcDateTime }, cancellationToken: ct));
    }

    /// <summary>
    /// Counts a failed attempt of each event: the next try waits <paramref name="firstDelay"/> doubled per earlier
    /// attempt, at most <paramref name="maxDelay"/>; the attempt that reaches <paramref name="maxAttempts"/> parks it.
    /// </summary>
    public Task MarkFailedAsync(IReadOnlyList<InboxEvent> events, string error, int maxAttempts, TimeSpan firstDelay, TimeSpan maxDelay,
        CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var now = time.GetUtcNow().UtcDateTime;
            error = error.Length > 2000 ? error[..2000] : error;
            foreach (var group in events.GroupBy(e => e.Attempts))
            {
                var attempts = group.Key + 1;
                var delay = Backoff.Doubling(firstDelay, maxDelay, attempts);
                await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                    UPDATE dingtalk_events
                    SET attempts = @attempts, last_error = @error, next_attempt_at = @next,
                        parked_at = CASE WHEN @attempts >= @maxAttempts THEN @now ELSE NULL END
                    WHERE id IN @ids AND processed_at IS NULL
                    """, new { ids = group.Select(e => e.Id).ToList(), attempts, error, next = now + delay, maxAttempts, now }, tx,
                    cancellationToken: token));
            }
        }, ct);

    /// <summary>Events whose type no feature handles: parked with that reason (status "unhandled"), kept for a replay once one does.</summary>
    public async Task MarkUnhandledAsync(IReadOnlyList<InboxEvent> events, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        foreach (var type in events.GroupBy(e => e.EventType))
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE dingtalk_events SET parked_at = @now, last_error = @reason
                WHERE id IN @ids AND processed_at IS NULL
                """, new
            {
                ids = type.Select(e => e.Id).ToList(), now = time.GetUtcNow().UtcDateTime,
                reason = $"{UnhandledPrefix} no feature handles event type '{type.Key}'",
            }, cancellationToken: ct));
        }
    }

    public const string UnhandledPrefix = "unhandled:";

    /// <summary>Operators' view: events by status (pending, parked by failures, unhandled, processed, or all), newest first.</summary>
    public async Task<(IReadOnlyList<InboxEventView> Items, int Total)> ListAsync(string? corpId, string? status, long skip, int take,
        CancellationToken ct)
    {
        var filter = status switch
        {
            InboxStatus.Pending => "processed_at IS NULL AND parked_at IS NULL",
            InboxStatus.Parked => $"processed_at IS NULL AND parked_at IS NOT NULL AND (last_error IS NULL OR last_error NOT LIKE '{UnhandledPrefix}%')",
            InboxStatus.Unhandled => $"processed_at IS NULL AND parked_at IS NOT NULL AND last_error LIKE '{UnhandledPrefix}%'",
            InboxStatus.Processed => "processed_at IS NOT NULL",
            _ => "1 = 1",
        };
        var where = $"(@corpId IS NULL OR corp_id = @corpId) AND {filter}";
        var args = new { corpId, skip, take };
        await using var connection = await db.OpenConnectionAsync(ct);
        var items = (await connection.QueryAsync<InboxEventView>(new CommandDefinition($"""
            SELECT id, corp_id, event_key, event_type, source, received_at, attempts, next_attempt_at, processed_at, parked_at, last_error
            FROM dingtalk_events WHERE {where} ORDER BY id DESC LIMIT @take OFFSET @skip
            """, args, cancellationToken: ct))).ToList();
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT COUNT(*) FROM dingtalk_events WHERE {where}", args, cancellationToken: ct));
        return (items, total);
    }

    /// <summary>Puts parked events (one, or every parked event of a corp) back in line with a fresh count of attempts.</summary>
    public async Task<int> ReplayAsync(long? id, string? corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE dingtalk_events SET parked_at = NULL, next_attempt_at = NULL, attempts = 0
            WHERE processed_at IS NULL AND parked_at IS NOT NULL
              AND (@id IS NULL OR id = @id) AND (@corpId IS NULL OR corp_id = @corpId)
            """, new { id, corpId }, cancellationToken: ct));
    }

    public async Task<int> PendingCountAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT COUNT(*) FROM dingtalk_events WHERE processed_at IS NULL AND parked_at IS NULL", cancellationToken: ct));
    }

    /// <summary>Events waiting (not processed, not parked), the oldest one's arrival, and events parked: the inbox's backlog for metrics.</summary>
    public async Task<(long Pending, DateTime? OldestReceivedAt, long Parked)> BacklogAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleAsync<(long, DateTime?, long)>(new CommandDefinition("""
            SELECT COALESCE(SUM(CASE WHEN parked_at IS NULL THEN 1 ELSE 0 END), 0),
                   MIN(CASE WHEN parked_at IS NULL THEN received_at END),
                   COALESCE(SUM(CASE WHEN parked_at IS NOT NULL THEN 1 ELSE 0 END), 0)
            FROM dingtalk_events WHERE processed_at IS NULL
            """, cancellationToken: ct));
    }
}
