using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;

namespace EduDing.Api.Features.Identity;

/// <summary>A role held in one corp (<see cref="Roles"/>).</summary>
internal sealed record RoleGrant(string Role, string CorpId)
{
    /// <summary>As a token carries it (and <see cref="Caller.Roles"/> holds it): "role@corpId", or system-admin alone.</summary>
    public string Claim => Role == Roles.SystemAdmin ? Role : $"{Role}@{CorpId}";
}

internal sealed record Session(string Id, string RefreshHash, string CorpId, string UserId, string? UnionId, DateTime CreatedAt,
    DateTime RefreshedAt, DateTime ExpiresAt, DateTime? RevokedAt, string? PreviousRefreshHash = null);

/// <summary>A link between one person's accounts in two corps (docs/deployment-models.md).</summary>
internal sealed record PersonLink(long Id, string CorpIdA, string UserIdA, string CorpIdB, string UserIdB, string Method, string? Evidence,
    string CreatedByCorpId, string CreatedByUserId, DateTime CreatedAt, DateTime? UnlinkedAt);

/// <summary>
/// Who a signed-in person is in the synced organizations, and their sessions. Roles are derived from the mirror at
/// sign-in and at each refresh, across every corp where the same person is staff or a guardian: by unionid only among
/// corps that share a unionId space (one developer account), and otherwise only through explicit person links.
/// </summary>
internal sealed class IdentityRepository(Database db, CorpDirectory corps, OrgDirectory directory)
{
    /// <summary>
    /// The (corp, userid) pairs of one person: the account itself; by unionid, the same person in corps of the same
    /// unionId space; and by person links (in force), the accounts linked to any of those, followed until nothing new
    /// appears. A linked account that has left its corp still counts (its history follows the person); roles come
    /// only from accounts still there (<see cref="RolesAsync"/>).
    /// </summary>
    public async Task<IReadOnlyList<(string CorpId, string UserId)>> IdentitiesAsync(Account account, CancellationToken ct)
    {
        var identities = new List<(string CorpId, string UserId)> { (account.CorpId, account.UserId) };
        var seen = new HashSet<(string, string)>(identities);
        await using var connection = await db.OpenConnectionAsync(ct);
        var frontier = new List<(string CorpId, string UserId, string? UnionId)> { (account.CorpId, account.UserId, account.UnionId) };
        for (var round = 0; round < 5 && frontier.Count > 0; round++)
        {
            var found = new List<(string CorpId, string UserId, string? UnionId)>();
            foreach (var (corpId, userId, unionId) in frontier)
            {
                // One statement per account (it runs on every request): the same unionid, kept below only in corps of the
                // same unionId space (filtered here: a city's hundred corps as an IN list cost the database a hundred
                // index dives a request, for the few accounts one unionid has), and the links in force (whose unionid is
                // looked up afterwards, as a link is rare).
                var space = corps.SameUnionIdSpace(corpId).ToHashSet(StringComparer.Ordinal);
                foreach (var (otherCorp, otherUser, otherUnionId, linked) in await connection.QueryAsync<(string, string, string?, int)>(
                             new CommandDefinition("""
                                 SELECT corp_id, user_id, union_id, 0 FROM staff
                                 WHERE union_id = @unionId AND removed_at IS NULL
                                 UNION ALL
                                 SELECT corp_id, user_id, union_id, 0 FROM guardians
                                 WHERE union_id = @unionId AND removed_at IS NULL
                                 UNION ALL
                                 SELECT corp_id_b, user_id_b, NULL, 1 FROM person_links
                                 WHERE corp_id_a = @corpId AND user_id_a = @userId AND unlinked_at IS NULL
                                 UNION ALL
                                 SELECT corp_id_a, user_id_a, NULL, 1 FROM person_links
                                 WHERE corp_id_b = @corpId AND user_id_b = @userId AND unlinked_at IS NULL
                                 """, new { corpId, userId, unionId = string.IsNullOrEmpty(unionId) ? null : unionId }, cancellationToken: ct)))
                {
                    if (linked == 1)
                    {
                        found.Add((otherCorp, otherUser, await directory.UnionIdOfAsync(otherCorp, otherUser, ct)));
                    }
                    else if (space.Contains(otherCorp))
                    {
                        found.Add((otherCorp, otherUser, otherUnionId));
                    }
                }
            }

            frontier = found.Where(f => seen.Add((f.CorpId, f.UserId))).ToList();
            identities.AddRange(frontier.Select(f => (f.CorpId, f.UserId)));
        }

        return identities;
    }

    // ---- person links ----

    /// <summary>Links two accounts; null when a link between them is already in force.</summary>
    public async Task<PersonLink?> LinkAsync(string corpIdA, string userIdA, string corpIdB, string userIdB, string method, string? evidence,
        string byCorpId, string byUserId, DateTime now, CancellationToken ct) =>
        await db.InTransactionAsync(async (tx, token) =>
        {
            var existing = await tx.Connection!.ExecuteScalarAsync<long?>(new CommandDefinition($"""
                SELECT id FROM person_links
                WHERE unlinked_at IS NULL AND ((corp_id_a = @corpIdA AND user_id_a = @userIdA AND corp_id_b = @corpIdB AND user_id_b = @userIdB)
                                           OR (corp_id_a = @corpIdB AND user_id_a = @userIdB AND corp_id_b = @corpIdA AND user_id_b = @userIdA))
                {db.Dialect.ForUpdate}
                """, new { corpIdA, userIdA, corpIdB, userIdB }, tx, cancellationToken: token));
            if (existing is not null)
            {
                return null;
            }

            var id = await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
                INSERT INTO person_links (corp_id_a, user_id_a, corp_id_b, user_id_b, method, evidence, created_by_corp_id, created_by_user_id, created_at)
                VALUES (@corpIdA, @userIdA, @corpIdB, @userIdB, @method, @evidence, @byCorpId, @byUserId, @now);
                {db.Dialect.SelectLastInsertId};
                """, new { corpIdA, userIdA, corpIdB, userIdB, method, evidence, byCorpId, byUserId, now }, tx, cancellationToken: token));
            return await tx.Connection!.QuerySingleAsync<PersonLink>(new CommandDefinition(
                $"SELECT {LinkColumns} FROM person_links WHERE id = @id", new { id }, tx, cancellationToken: token));
        }, ct);

    public async Task<PersonLink?> FindLinkAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<PersonLink>(new CommandDefinition(
            $"SELECT {LinkColumns} FROM person_links WHERE id = @id", new { id }, cancellationToken: ct));
    }

    /// <summary>The links in force that involve any of these accounts.</summary>
    public async Task<IReadOnlyList<PersonLink>> LinksOfAsync(IReadOnlyList<(string CorpId, string UserId)> identities, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var links = new Dictionary<long, PersonLink>();
        foreach (var (corpId, userId) in identities)
        {
            foreach (var link in await connection.QueryAsync<PersonLink>(new CommandDefinition($"""
                         SELECT {LinkColumns} FROM person_links
                         WHERE unlinked_at IS NULL AND ((corp_id_a = @corpId AND user_id_a = @userId) OR (corp_id_b = @corpId AND user_id_b = @userId))
                         """, new { corpId, userId }, cancellationToken: ct)))
            {
                links[link.Id] = link;
            }
        }

        return links.Values.OrderBy(l => l.Id).ToList();
    }

    /// <summary>The links in force that involve an account of the corp.</summary>
    public async Task<IReadOnlyList<PersonLink>> LinksOfCorpAsync(string corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<PersonLink>(new CommandDefinition($"""
            SELECT {LinkColumns} FROM person_links WHERE unlinked_at IS NULL AND (corp_id_a = @corpId OR corp_id_b = @corpId) ORDER BY id
            """, new { corpId }, cancellationToken: ct))).ToList();
    }

    /// <summary>Ends a link in force; false when it was not (already unlinked, or no such link).</summary>
    public async Task<bool> UnlinkAsync(long id, string byCorpId, string byUserId, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE person_links SET unlinked_at = @now, unlinked_by_corp_id = @byCorpId, unlinked_by_user_id = @byUserId
            WHERE id = @id AND unlinked_at IS NULL
            """, new { id, byCorpId, byUserId, now }, cancellationToken: ct)) == 1;
    }

    private const string LinkColumns =
        "id, corp_id_a, user_id_a, corp_id_b, user_id_b, method, evidence, created_by_corp_id, created_by_user_id, created_at, unlinked_at";

    /// <summary>Roles from the mirror, in every corp where one of the accounts is still staff, a teacher or a guardian (docs/access.md).</summary>
    public async Task<IReadOnlyList<RoleGrant>> RolesAsync(IReadOnlyList<(string CorpId, string UserId)> identities,
        IdentityOptions options, CancellationToken ct)
    {
        var roles = new List<RoleGrant>();
        var operatorDepartments = options.SystemAdminDepartmentIds();
        foreach (var (corpId, userId) in identities)
        {
            if (await directory.StaffStandingAsync(corpId, userId, ct) is { } s)
            {
                var operatorDepartmentsHere = operatorDepartments.Where(d => d.CorpId == corpId).Select(d => d.DeptId).ToList();
                if (await directory.InAnyDepartmentAsync(corpId, userId, operatorDepartmentsHere, ct) ||
                    (options.SystemAdminUnionIds.Count > 0 && await directory.UnionIdOfAsync(corpId, userId, ct) is { } unionId &&
                     options.SystemAdminUnionIds.Contains(unionId)))
                {
                    roles.Add(new RoleGrant(Roles.SystemAdmin, corpId));
                }

                var bureau = s.Kind == "Bureau";
                roles.Add(new RoleGrant(bureau ? Roles.BureauStaff : Roles.SchoolStaff, corpId));
                var inAdminDepartment = bureau && await directory.InAnyDepartmentAsync(corpId, userId, options.BureauAdminDepartmentIds, ct);
                var adminTitle = !bureau && s.Title is { } title && options.SchoolAdminTitles.Contains(title);
                if (s.IsAdmin || inAdminDepartment || adminTitle)
                {
                    roles.Add(new RoleGrant(bureau ? Roles.BureauAdmin : Roles.SchoolAdmin, corpId));
                }
            }

            var memberships = await directory.ClassMembershipsAsync(corpId, userId, ct);
            if (memberships.Any(m => m.Role == "teacher"))
            {
                roles.Add(new RoleGrant(Roles.Teacher, corpId));
            }

            if (memberships.Any(m => m.Role == "teacher" && m.IsAdviser))
            {
                roles.Add(new RoleGrant(Roles.Adviser, corpId));
            }

            if (memberships.Any(m => m.Role == "guardian"))
            {
                roles.Add(new RoleGrant(Roles.Guardian, corpId));
            }
        }

        return roles.Distinct().OrderBy(r => r.CorpId, StringComparer.Ordinal).ThenBy(r => r.Role, StringComparer.Ordinal).ToList();
    }

    // ---- sessions ----

    public async Task CreateSessionAsync(Session session, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO sessions (id, refresh_hash, corp_id, user_id, union_id, created_at, refreshed_at, expires_at)
            VALUES (@Id, @RefreshHash, @CorpId, @UserId, @UnionId, @CreatedAt, @RefreshedAt, @ExpiresAt)
            """, session, cancellationToken: ct));
    }

    public async Task<Session?> FindSessionAsync(string id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<Session>(new CommandDefinition("""
            SELECT id, refresh_hash, corp_id, user_id, union_id, created_at, refreshed_at, expires_at, revoked_at, previous_refresh_hash
            FROM sessions WHERE id = @id
            """, new { id }, cancellationToken: ct));
    }

    /// <summary>Swaps the refresh secret only if it is still the one presented; false when another refresh won the race.</summary>
    public async Task<bool> RotateAsync(string id, string presentedHash, string newHash, DateTime now, DateTime expiresAt, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE sessions SET previous_refresh_hash = refresh_hash, refresh_hash = @newHash, refreshed_at = @now, expires_at = @expiresAt
            WHERE id = @id AND refresh_hash = @presentedHash AND revoked_at IS NULL
            """, new { id, presentedHash, newHash, now, expiresAt }, cancellationToken: ct)) == 1;
    }

    /// <summary>Whether the session can still be used (not revoked, not expired); false for an unknown id.</summary>
    public async Task<bool> IsSessionActiveAsync(string id, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT COUNT(*) FROM sessions WHERE id = @id AND revoked_at IS NULL AND expires_at > @now", new { id, now },
            cancellationToken: ct)) == 1;
    }

    public async Task RevokeAsync(string id, string reason, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE sessions SET revoked_at = @now, revoked_reason = @reason WHERE id = @id AND revoked_at IS NULL",
            new { id, reason, now }, cancellationToken: ct));
    }
}
