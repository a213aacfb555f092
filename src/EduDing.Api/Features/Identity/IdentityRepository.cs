using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.Identity;

/// <summary>A role held in one corp. Role names: bureau-admin, bureau-staff, school-admin, school-staff, teacher, adviser, guardian.</summary>
internal sealed record RoleGrant(string Role, string CorpId);

internal sealed record Account(string CorpId, string UserId, string Name, string? UnionId);

internal sealed record TaughtClass(string CorpId, long ClassId, string ClassName, bool IsAdviser);

internal sealed record Child(string CorpId, string StudentUserId, string Name, string? StudentNumber, long ClassId, string ClassName,
    string RelationCode);

internal sealed record Session(string Id, string RefreshHash, string CorpId, string UserId, string? UnionId, DateTime CreatedAt,
    DateTime RefreshedAt, DateTime ExpiresAt, DateTime? RevokedAt, string? PreviousRefreshHash = null);

/// <summary>
/// Who a signed-in person is in the synced organizations, and their sessions. Roles are derived from the mirror at
/// sign-in and at each refresh, across every corp where the same person (unionid) is staff or a guardian.
/// </summary>
internal sealed class IdentityRepository(Database db)
{
    /// <summary>The person as staff or guardian of the corp, if the mirror has them (and they have not left).</summary>
    public async Task<Account?> FindAccountAsync(string corpId, string userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var args = new { corpId, userId };
        return await connection.QueryFirstOrDefaultAsync<Account>(new CommandDefinition("""
                   SELECT corp_id, user_id, name, union_id FROM staff
                   WHERE corp_id = @corpId AND user_id = @userId AND removed_at IS NULL
                   """, args, cancellationToken: ct))
               ?? await connection.QueryFirstOrDefaultAsync<Account>(new CommandDefinition("""
                   SELECT corp_id, user_id, name, union_id FROM guardians
                   WHERE corp_id = @corpId AND user_id = @userId AND removed_at IS NULL
                   """, args, cancellationToken: ct));
    }

    /// <summary>The (corp, userid) pairs of one person: the account itself and, by unionid, the same person elsewhere.</summary>
    public async Task<IReadOnlyList<(string CorpId, string UserId)>> IdentitiesAsync(Account account, CancellationToken ct)
    {
        var identities = new List<(string, string)> { (account.CorpId, account.UserId) };
        if (string.IsNullOrEmpty(account.UnionId))
        {
            return identities;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        foreach (var table in new[] { "staff", "guardians" })
        {
            identities.AddRange(await connection.QueryAsync<(string, string)>(new CommandDefinition(
                $"SELECT corp_id, user_id FROM {table} WHERE union_id = @unionId AND removed_at IS NULL",
                new { unionId = account.UnionId }, cancellationToken: ct)));
        }

        return identities.Distinct().ToList();
    }

    public async Task<IReadOnlyList<RoleGrant>> RolesAsync(IReadOnlyList<(string CorpId, string UserId)> identities,
        IdentityOptions options, CancellationToken ct)
    {
        var roles = new List<RoleGrant>();
        await using var connection = await db.OpenConnectionAsync(ct);
        foreach (var (corpId, userId) in identities)
        {
            var args = new { corpId, userId };
            var staff = await connection.QueryFirstOrDefaultAsync<(string Kind, bool IsAdmin, string? Title)?>(new CommandDefinition("""
                SELECT c.kind, s.is_admin, s.title FROM staff s JOIN corps c ON c.corp_id = s.corp_id
                WHERE s.corp_id = @corpId AND s.user_id = @userId AND s.removed_at IS NULL
                """, args, cancellationToken: ct));
            if (staff is { } s)
            {
                var bureau = s.Kind == "Bureau";
                roles.Add(new RoleGrant(bureau ? "bureau-staff" : "school-staff", corpId));
                var inAdminDepartment = bureau && options.BureauAdminDepartmentIds.Count > 0 && await connection.ExecuteScalarAsync<int>(
                    new CommandDefinition("""
                        SELECT COUNT(*) FROM staff_departments
                        WHERE corp_id = @corpId AND user_id = @userId AND dept_id IN @departments
                        """, new { corpId, userId, departments = options.BureauAdminDepartmentIds }, cancellationToken: ct)) > 0;
                var adminTitle = !bureau && s.Title is { } title && options.SchoolAdminTitles.Contains(title);
                if (s.IsAdmin || inAdminDepartment || adminTitle)
                {
                    roles.Add(new RoleGrant(bureau ? "bureau-admin" : "school-admin", corpId));
                }
            }

            var memberships = (await connection.QueryAsync<(string Role, bool IsAdviser)>(new CommandDefinition(
                "SELECT role, is_adviser FROM class_members WHERE corp_id = @corpId AND user_id = @userId", args,
                cancellationToken: ct))).ToList();
            if (memberships.Any(m => m.Role == "teacher"))
            {
                roles.Add(new RoleGrant("teacher", corpId));
            }

            if (memberships.Any(m => m.Role == "teacher" && m.IsAdviser))
            {
                roles.Add(new RoleGrant("adviser", corpId));
            }

            if (memberships.Any(m => m.Role == "guardian"))
            {
                roles.Add(new RoleGrant("guardian", corpId));
            }
        }

        return roles.Distinct().OrderBy(r => r.CorpId, StringComparer.Ordinal).ThenBy(r => r.Role, StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<TaughtClass>> ClassesTaughtAsync(IReadOnlyList<(string CorpId, string UserId)> identities,
        CancellationToken ct)
    {
        var classes = new List<TaughtClass>();
        await using var connection = await db.OpenConnectionAsync(ct);
        foreach (var (corpId, userId) in identities)
        {
            classes.AddRange(await connection.QueryAsync<TaughtClass>(new CommandDefinition("""
                SELECT m.corp_id, m.class_id, n.name AS class_name, m.is_adviser
                FROM class_members m JOIN edu_nodes n ON n.corp_id = m.corp_id AND n.node_id = m.class_id
                WHERE m.corp_id = @corpId AND m.user_id = @userId AND m.role = 'teacher' AND n.removed_at IS NULL
                ORDER BY m.class_id
                """, new { corpId, userId }, cancellationToken: ct)));
        }

        return classes;
    }

    public async Task<IReadOnlyList<Child>> ChildrenAsync(IReadOnlyList<(string CorpId, string UserId)> identities, CancellationToken ct)
    {
        var children = new List<Child>();
        await using var connection = await db.OpenConnectionAsync(ct);
        foreach (var (corpId, userId) in identities)
        {
            children.AddRange(await connection.QueryAsync<Child>(new CommandDefinition("""
                SELECT r.corp_id, r.student_user_id, s.name, s.student_number, r.class_id, n.name AS class_name, r.relation_code
                FROM guardian_students r
                JOIN students s ON s.corp_id = r.corp_id AND s.user_id = r.student_user_id
                JOIN edu_nodes n ON n.corp_id = r.corp_id AND n.node_id = r.class_id
                WHERE r.corp_id = @corpId AND r.guardian_user_id = @userId AND s.removed_at IS NULL
                ORDER BY r.class_id, r.student_user_id
                """, new { corpId, userId }, cancellationToken: ct)));
        }

        return children;
    }

    // ---- scope checks on one student ----

    public async Task<string?> GuardianRelationAsync(IReadOnlyList<(string CorpId, string UserId)> identities, string corpId,
        string studentUserId, CancellationToken ct)
    {
        var mine = identities.Where(i => i.CorpId == corpId).Select(i => i.UserId).ToList();
        if (mine.Count == 0)
        {
            return null;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition("""
            SELECT relation_code FROM guardian_students
            WHERE corp_id = @corpId AND student_user_id = @studentUserId AND guardian_user_id IN @mine
            """, new { corpId, studentUserId, mine }, cancellationToken: ct));
    }

    /// <summary>A class of the student that one of the caller's identities teaches, if any.</summary>
    public async Task<long?> TaughtClassOfStudentAsync(IReadOnlyList<(string CorpId, string UserId)> identities, string corpId,
        string studentUserId, CancellationToken ct)
    {
        var mine = identities.Where(i => i.CorpId == corpId).Select(i => i.UserId).ToList();
        if (mine.Count == 0)
        {
            return null;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QueryFirstOrDefaultAsync<long?>(new CommandDefinition("""
            SELECT t.class_id FROM class_members t
            JOIN class_members s ON s.corp_id = t.corp_id AND s.class_id = t.class_id AND s.role = 'student'
            WHERE t.corp_id = @corpId AND t.role = 'teacher' AND t.user_id IN @mine AND s.user_id = @studentUserId
            """, new { corpId, studentUserId, mine }, cancellationToken: ct));
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
