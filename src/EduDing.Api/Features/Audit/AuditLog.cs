using System.ComponentModel;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Audit;

internal sealed record AuditEntry(long Id, DateTime At, string ActorCorpId, string ActorUserId, string Action, string SubjectCorpId,
    string StudentUserIds, string Reason, string Outcome);

/// <summary>An entry with its place in its chain (null for entries written before the chain existed).</summary>
internal sealed record ChainedAuditEntry(long Id, DateTime At, string ActorCorpId, string ActorUserId, string Action, string SubjectCorpId,
    string StudentUserIds, string Reason, string Outcome, string? Chain, long? Seq, string? PrevHash, string? Hash);

/// <summary>The tamper-evident audit log (docs/audit-chain.md).</summary>
internal sealed class AuditOptions : IValidatedOptions
{
    public static string Section => "Audit";

    /// <summary>
    /// Secret: base64 of at least 32 random bytes that keys the chain's hashes (HMAC-SHA256), so that whoever can write
    /// the database cannot recompute a chain they altered. Empty chains with plain SHA-256: alterations are still seen
    /// unless the whole rest of the chain is recomputed.
    /// </summary>
    public string ChainKey { get; set; } = "";

    /// <summary>Chains per Beijing day; writers pick one at random, so instances seldom wait for each other.</summary>
    public int ChainPartitions { get; set; } = 16;

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (ChainKey.Length > 0 && (!TryKey(ChainKey, out var key) || key.Length < 32))
        {
            yield return (nameof(ChainKey), "must be base64 of at least 32 bytes");
        }

        if (ChainPartitions is < 1 or > 64)
        {
            yield return (nameof(ChainPartitions), $"must be 1 to 64 (was {ChainPartitions})");
        }
    }

    public byte[]? KeyBytes => ChainKey.Length > 0 && TryKey(ChainKey, out var key) ? key : null;

    private static bool TryKey(string value, out byte[] key)
    {
        key = new byte[value.Length];
        if (Convert.TryFromBase64String(value, key, out var written))
        {
            key = key[..written];
            return true;
        }

        return false;
    }
}

/// <summary>
/// Append-only record of reads of identifiable student data and of decisions, allowed and denied alike. Each entry is
/// the next link of one chain of its Beijing day (one of <see cref="AuditOptions.ChainPartitions"/>): its hash covers its
/// content, its place and the previous link's hash; the chain's head row is locked while the entry is appended, so
/// several instances write without breaking a chain. The service never updates or deletes an entry.
/// </summary>
internal sealed class AuditLog(Database db, TimeProvider time, IOptions<AuditOptions> options)
{
    [Description("允许")]
    public const string Allowed = "allowed";

    [Description("拒绝")]
    public const string Denied = "denied";

    /// <summary>The chain key, decoded once (every write and every verified link hashes with it).</summary>
    private readonly byte[]? _key = options.Value.KeyBytes;

    /// <summary>The columns of a <see cref="ChainedAuditEntry"/>, in its order.</summary>
    public const string ChainedColumns = "id, at, actor_corp_id, actor_user_id, action, subject_corp_id, student_user_ids, reason, outcome, chain, seq, prev_hash, hash";

    public async Task WriteAsync(string actorCorpId, string actorUserId, string action, string subjectCorpId,
        IEnumerable<string> studentUserIds, string reason, string outcome, CancellationToken ct)
    {
        var students = string.Join(',', studentUserIds);
        var at = time.UtcNowForDatabase();
        var chain = $"{ShanghaiTime.DayOf(at):yyyy-MM-dd}/{Random.Shared.Next(options.Value.ChainPartitions)}";
        var dialect = db.Dialect;
        await db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            await connection.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO audit_chain_heads (chain, seq, last_hash) VALUES (@chain, 1, @genesis) {dialect.AddOnConflict(["chain"], "seq")}",
                new { chain, genesis = Genesis(chain) }, tx, cancellationToken: token));
            var (seq, previous) = await connection.QuerySingleAsync<(long, string)>(new CommandDefinition(
                "SELECT seq, last_hash FROM audit_chain_heads WHERE chain = @chain", new { chain }, tx, cancellationToken: token));
            var entry = new ChainedAuditEntry(0, at, actorCorpId, actorUserId, action, subjectCorpId, students, reason, outcome, chain, seq,
                previous, null);
            var hash = Hash(entry);
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO audit_log (at, actor_corp_id, actor_user_id, action, subject_corp_id, student_user_ids, reason, outcome,
                                       chain, seq, prev_hash, hash)
                VALUES (@at, @actorCorpId, @actorUserId, @action, @subjectCorpId, @students, @reason, @outcome, @chain, @seq, @previous, @hash)
                """, new { at, actorCorpId, actorUserId, action, subjectCorpId, students, reason, outcome, chain, seq, previous, hash },
                tx, cancellationToken: token));
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE audit_chain_heads SET last_hash = @hash WHERE chain = @chain", new { hash, chain }, tx, cancellationToken: token));
        }, ct);
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

    /// <summary>The entries written on Beijing days <paramref name="from"/> to <paramref name="to"/>, oldest first, at most <paramref name="take"/>.</summary>
    public async Task<IReadOnlyList<ChainedAuditEntry>> ExtractAsync(DateOnly from, DateOnly to, int take, CancellationToken ct)
    {
        var (start, end) = ShanghaiTime.DaysUtc(from, to);
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ChainedAuditEntry>(new CommandDefinition($"""
            SELECT {ChainedColumns}
            FROM audit_log WHERE at >= @start AND at < @end ORDER BY id LIMIT @take
            """, new { start, end, take },
            cancellationToken: ct))).ToList();
    }

    /// <summary>The first link's "previous hash": a hash of the chain's name, so a chain cannot be passed off as another.</summary>
    public string Genesis(string chain) => Digest(Encoding.UTF8.GetBytes("eduding-audit-chain\n" + chain));

    /// <summary>The link's hash: over its content, its chain, its place and the previous link's hash (a JSON array, unambiguous).</summary>
    public string Hash(ChainedAuditEntry e) => Digest(JsonSerializer.SerializeToUtf8Bytes(new object?[]
    {
        e.Chain, e.Seq, e.PrevHash, e.At.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture),
        e.ActorCorpId, e.ActorUserId, e.Action, e.SubjectCorpId, e.StudentUserIds, e.Reason, e.Outcome,
    }));

    public bool Keyed => _key is not null;

    private string Digest(byte[] content) => Convert.ToHexStringLower(_key is { } key
        ? HMACSHA256.HashData(key, content)
        : SHA256.HashData(content));
}
