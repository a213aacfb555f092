using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.Audit;

/// <summary>Where a chain first breaks, and why.</summary>
internal sealed record BrokenLink(string Chain, long Seq, long? EntryId, string Reason);

/// <summary>What the verification of the audit chains of some Beijing days found.</summary>
internal sealed record AuditVerification(DateOnly From, DateOnly To, bool Keyed, int Chains, long EntriesChecked, long UnchainedEntries,
    bool Intact, BrokenLink? FirstBroken, IReadOnlyList<BrokenLink> BrokenChains);

/// <summary>
/// Walks every chain of the days asked for, link by link: each entry must carry the next number of its chain, the
/// previous link's hash, and the hash of its own content; the chain's head must end where the entries end. An edited
/// entry fails its own hash (or, with a forged hash, the next link's); a deleted one leaves a gap; a removed tail leaves
/// the head ahead of the entries (docs/audit-chain.md).
/// </summary>
internal sealed class AuditChainVerifier(Database db, AuditLog audit)
{
    public async Task<AuditVerification> VerifyAsync(DateOnly from, DateOnly to, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var low = $"{from:yyyy-MM-dd}/";
        var high = $"{to.AddDays(1):yyyy-MM-dd}/";
        var heads = (await connection.QueryAsync<(string Chain, long Seq, string LastHash)>(new CommandDefinition(
                "SELECT chain, seq, last_hash FROM audit_chain_heads WHERE chain >= @low AND chain < @high ORDER BY chain",
                new { low, high }, cancellationToken: ct)))
            .ToDictionary(h => h.Chain, StringComparer.Ordinal);
        // A chain whose entries exist but whose head is gone was tampered with too.
        var entryChains = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT DISTINCT chain FROM audit_log WHERE chain >= @low AND chain < @high", new { low, high }, cancellationToken: ct))).ToList();

        var chains = heads.Keys.Union(entryChains, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var broken = new List<BrokenLink>();
        long checkedEntries = 0;
        foreach (var chain in chains)
        {
            var entries = await connection.QueryAsync<ChainedAuditEntry>(new CommandDefinition($"""
                SELECT {AuditLog.ChainedColumns}
                FROM audit_log WHERE chain = @chain ORDER BY seq
                """, new { chain }, cancellationToken: ct));
            var (expectedSeq, previous) = (1L, audit.Genesis(chain));
            BrokenLink? failure = null;
            foreach (var entry in entries)
            {
                checkedEntries++;
                failure = entry.Seq != expectedSeq
                    ? new BrokenLink(chain, expectedSeq, entry.Id, $"entry {expectedSeq} of the chain is missing (the next one found is {entry.Seq})")
                    : entry.PrevHash != previous
                        ? new BrokenLink(chain, expectedSeq, entry.Id, "does not link to the previous entry (its previous hash differs)")
                        : entry.Hash != audit.Hash(entry)
                            ? new BrokenLink(chain, expectedSeq, entry.Id, "its content does not match its hash (the entry was altered)")
                            : null;
                if (failure is not null)
                {
                    break;
                }

                (expectedSeq, previous) = (expectedSeq + 1, entry.Hash!);
            }

            if (failure is null)
            {
                var last = expectedSeq - 1;
                if (!heads.TryGetValue(chain, out var head))
                {
                    failure = new BrokenLink(chain, last, null, "the chain's head is missing");
                }
                else if (head.Seq != last || head.LastHash != previous)
                {
                    failure = new BrokenLink(chain, last + 1, null,
                        head.Seq > last
                            ? $"entries {last + 1} to {head.Seq} of the chain are missing (its head says {head.Seq} were written)"
                            : "the chain's head does not match its last entry");
                }
            }

            if (failure is not null)
            {
                broken.Add(failure);
            }
        }

        var (start, end) = Hosting.ShanghaiTime.DaysUtc(from, to);
        var unchained = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM audit_log WHERE chain IS NULL AND at >= @start AND at < @end", new { start, end }, cancellationToken: ct));
        var first = broken.OrderBy(b => b.EntryId ?? long.MaxValue).ThenBy(b => b.Chain, StringComparer.Ordinal).FirstOrDefault();
        return new AuditVerification(from, to, audit.Keyed, chains.Count, checkedEntries,
            unchained, broken.Count == 0, first, broken);
    }
}
