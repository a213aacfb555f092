using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.DingTalk;

internal sealed record InboxEvent(long Id, string CorpId, string EventKey, string EventType, string Payload, string Source,
    DateTime ReceivedAt, int Attempts);

/// <summary>
/// Every event DingTalk delivered (HTTP push, Stream, or the failed-push list), stored once per corp and key: the
/// event id when there is one, else a hash of the content. A redelivery is a unique violation and changes nothing.
/// </summary>
internal sealed class EventInbox(Database db, TimeProvider time)
{
    public static string KeyFor(string? eventId, string eventType, string payload) =>
        !string.IsNullOrEmpty(eventId)
            ? eventId
            : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventType + "\n" + payload)));

    /// <summary>True when stored now, false when the key was already there.</summary>
    public async Task<bool> TryAddAsync(string corpId, string eventKey, string eventType, string payload, string source,
        CancellationToken ct)
    {
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

    public async Task<IReadOnlyList<string>> CorpsWithPendingAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT DISTINCT corp_id FROM dingtalk_events WHERE processed_at IS NULL", cancellationToken: ct))).ToList();
    }

    /// <summary>The oldest unprocessed events of a corp, in arrival order.</summary>
    public async Task<IReadOnlyList<InboxEvent>> PendingAsync(string corpId, int take, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<InboxEvent>(new CommandDefinition("""
            SELECT id, corp_id, event_key, event_type, payload, source, received_at, attempts
            FROM dingtalk_events
            WHERE corp_id = @corpId AND processed_at IS NULL
            ORDER BY id
            LIMIT @take
            """, new { corpId, take }, cancellationToken: ct))).ToList();
    }

    public async Task MarkProcessedAsync(IEnumerable<long> ids, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE dingtalk_events SET processed_at = @now, attempts = attempts + 1 WHERE id IN @ids",
            new { ids = ids.ToList(), now = time.GetUtcNow().UtcDateTime }, cancellationToken: ct));
    }

    /// <summary>Counts a failed attempt; past <paramref name="maxAttempts"/> the event is parked with its error.</summary>
    public async Task MarkFailedAsync(IEnumerable<long> ids, string error, int maxAttempts, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE dingtalk_events
            SET attempts = attempts + 1,
                last_error = @error,
                processed_at = CASE WHEN attempts + 1 >= @maxAttempts THEN @now ELSE NULL END
            WHERE id IN @ids
            """, new { ids = ids.ToList(), error, maxAttempts, now = time.GetUtcNow().UtcDateTime }, cancellationToken: ct));
    }

    public async Task<int> PendingCountAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT COUNT(*) FROM dingtalk_events WHERE processed_at IS NULL", cancellationToken: ct));
    }
}
