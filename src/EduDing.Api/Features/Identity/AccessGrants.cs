using System.ComponentModel;
using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.Identity;

internal sealed record AccessGrant(long Id, string SchoolCorpId, string GranteeCorpId, string GranteeUserId, string Purpose,
    string GrantedByUserId, DateTime GrantedAt, DateTime ExpiresAt, DateTime? RevokedAt, DateTime? ConfirmedAt, DateTime? RefusedAt,
    long? ApprovalId)
{
    /// <summary>Where the grant stands at <paramref name="now"/>.</summary>
    public string StatusAt(DateTime now) =>
        RefusedAt is not null ? AccessGrantStatus.Refused
        : RevokedAt is not null ? AccessGrantStatus.Revoked
        : ExpiresAt <= now ? AccessGrantStatus.Expired
        : ConfirmedAt is null ? AccessGrantStatus.AwaitingOfficer
        : AccessGrantStatus.Active;
}

/// <summary>Where a grant stands: it takes effect only once the child-data officer approved it (docs/privacy.md).</summary>
internal static class AccessGrantStatus
{
    [Description("待儿童个人信息保护负责人审批")]
    public const string AwaitingOfficer = "awaiting-officer";
    [Description("生效中")]
    public const string Active = "active";
    [Description("已过期")]
    public const string Expired = "expired";
    [Description("已撤销")]
    public const string Revoked = "revoked";
    [Description("负责人未批准")]
    public const string Refused = "refused";
}

internal sealed class AccessGrantRepository(Database db)
{
    /// <summary>
    /// A new grant; in force only with <paramref name="confirmedAt"/> (the officer's approval, given already when the
    /// grant comes out of a request the officer decided).
    /// </summary>
    public async Task<long> CreateAsync(string schoolCorpId, string granteeCorpId, string granteeUserId, string purpose,
        string grantedByUserId, DateTime now, DateTime expiresAt, DateTime? confirmedAt, long? approvalId, CancellationToken ct) =>
        await db.InTransactionAsync((tx, token) => tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
            INSERT INTO access_grants (school_corp_id, grantee_corp_id, grantee_user_id, purpose, granted_by_user_id, granted_at, expires_at,
                                       confirmed_at, approval_id)
            VALUES (@schoolCorpId, @granteeCorpId, @granteeUserId, @purpose, @grantedByUserId, @now, @expiresAt, @confirmedAt, @approvalId);
            {db.Dialect.SelectLastInsertId};
            """, new { schoolCorpId, granteeCorpId, granteeUserId, purpose, grantedByUserId, now, expiresAt, confirmedAt, approvalId }, tx,
            cancellationToken: token)), ct);

    public async Task SetApprovalAsync(long id, long approvalId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE access_grants SET approval_id = @approvalId WHERE id = @id", new { id, approvalId }, cancellationToken: ct));
    }

    /// <summary>The officer's approval: the grant takes effect (unless it was revoked or refused meanwhile). False when nothing changed.</summary>
    public async Task<bool> ConfirmAsync(long id, DateTime at, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE access_grants SET confirmed_at = @at
            WHERE id = @id AND confirmed_at IS NULL AND refused_at IS NULL AND revoked_at IS NULL
            """, new { id, at }, cancellationToken: ct)) == 1;
    }

    /// <summary>The officer's refusal (or the request's withdrawal): the grant never takes effect. False when nothing changed.</summary>
    public async Task<bool> RefuseAsync(long id, DateTime at, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE access_grants SET refused_at = @at
            WHERE id = @id AND confirmed_at IS NULL AND refused_at IS NULL AND revoked_at IS NULL
            """, new { id, at }, cancellationToken: ct)) == 1;
    }

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
                  AND confirmed_at IS NOT NULL AND revoked_at IS NULL AND refused_at IS NULL AND expires_at > @now
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
        "id, school_corp_id, grantee_corp_id, grantee_user_id, purpose, granted_by_user_id, granted_at, expires_at, revoked_at, confirmed_at, refused_at, approval_id";
}
