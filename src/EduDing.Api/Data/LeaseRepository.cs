using System.Data.Common;
using Dapper;

namespace EduDing.Api.Data;

internal sealed record Lease(string Name, string Holder, DateTime AcquiredAt, DateTime ExpiresAt);

/// <summary>
/// Named leases in the database, so that a background job runs on exactly one of N service instances and passes
/// to another when its holder dies (the lease expires instead of being renewed). In-process locks alone never do.
/// </summary>
internal sealed class LeaseRepository(Database db, TimeProvider time)
{
    /// <summary>
    /// Takes the lease, or renews it when <paramref name="holder"/> already has it. False while another holder's
    /// lease has not expired.
    /// </summary>
    public async Task<bool> TryAcquireAsync(string name, string holder, TimeSpan duration, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var args = new { name, holder, now, expiresAt = now + duration };
        await using var connection = await db.OpenConnectionAsync(ct);

        // acquired_at is assigned before holder: MySQL evaluates SET clauses left to right on the updated row.
        var updated = await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE leases
            SET acquired_at = CASE WHEN holder = @holder THEN acquired_at ELSE @now END,
                expires_at = @expiresAt,
                holder = @holder
            WHERE name = @name AND (holder = @holder OR expires_at <= @now)
            """, args, cancellationToken: ct));
        if (updated == 1)
        {
            return true;
        }

        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO leases (name, holder, acquired_at, expires_at)
                VALUES (@name, @holder, @now, @expiresAt)
                """, args, cancellationToken: ct));
            return true;
        }
        catch (DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            return false;
        }
    }

    /// <summary>Gives the lease up at once (on shutdown) instead of letting it expire.</summary>
    public async Task ReleaseAsync(string name, string holder, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM leases WHERE name = @name AND holder = @holder", new { name, holder },
            cancellationToken: ct));
    }

    public async Task<Lease?> FindAsync(string name, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<Lease>(new CommandDefinition(
            "SELECT name, holder, acquired_at, expires_at FROM leases WHERE name = @name", new { name },
            cancellationToken: ct));
    }
}
