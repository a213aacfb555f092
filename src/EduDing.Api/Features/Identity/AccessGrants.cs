using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.Identity;

internal sealed record AccessGrant(long Id, string SchoolCorpId, string GranteeCorpId, string GranteeUserId, string Purpose,
    string GrantedByUserId, DateTime GrantedAt, DateTime ExpiresAt, DateTime? RevokedAt);

internal sealed class AccessGrantRepository(Database db)
{
    public async Task<long> CreateAsync(string schoolCorpId, string granteeCorpId, string granteeUserId, string purpose,
        string grantedByUserId, DateTime now, DateTime expiresAt, CancellationToken ct) =>
        await db.InTransactionAsync((tx, token) => tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
            INSERT INTO access_grants (school_corp_id, grantee_corp_id, grantee_user_id, purpose, granted_by_user_id, granted_at, expires_at)
            VALUES (@schoolCorpId, @granteeCorpId, @granteeUserId, @purpose, @grantedByUserId, @now, @expiresAt);
            {db.Dialect.SelectLastInsertId};
            """, new { schoolCorpId, granteeCorpId, granteeUserId, purpose, grantedByUserId, now, expiresAt }, tx,
            cancellationToken: token)), ct);

    /// <summary>A grant in force now for one of the caller's identities over the school, if any.</summary>
    public async Task<AccessGrant?> ActiveAsync(IReadOnlyList<(string CorpId, string UserId)> identities, string schoolCorpId,
        DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        foreach (var (corpId, userId) in identities)
        {
            var grant = await connection.QueryFirstOrDefaultAsync<AccessGrant>(new CommandDefinition($"""
                SELECT {Columns} FROM access_grants
                WHERE grantee_corp_id = @corpId AND grantee_user_id = @userId AND school_corp_id = @schoolCorpId
                  AND revoked_at IS NULL AND expires_at > @now
                ORDER BY expires_at DESC
                """, new { corpId, userId, schoolCorpId, now }, cancellationToken: ct));
            if (grant is not null)
            {
                return grant;
            }
        }

        return null;
    }

    public async Task<AccessGrant?> FindAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<AccessGrant>(new CommandDefinition(
            $"SELECT {Columns} FROM access_grants WHERE id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<AccessGrant>> ListForSchoolsAsync(IReadOnlyCollection<string> schoolCorpIds, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<AccessGrant>(new CommandDefinition(
            $"SELECT {Columns} FROM access_grants WHERE school_corp_id IN @schools ORDER BY id DESC",
            new { schools = schoolCorpIds.ToList() }, cancellationToken: ct))).ToList();
    }

    public async Task<bool> RevokeAsync(long id, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE access_grants SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL", new { id, now },
            cancellationToken: ct)) == 1;
    }

    private const string Columns =
        "id, school_corp_id, grantee_corp_id, grantee_user_id, purpose, granted_by_user_id, granted_at, expires_at, revoked_at";
}
