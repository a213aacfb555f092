using System.Data.Common;
using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.Org;

/// <summary>
/// The mirror of each corp. Replacing a set confirms every row in it (synced_at) and marks the rest removed; a
/// membership set (a person's departments, a class's people) is replaced whole, never appended to. Nothing is deleted
/// but memberships: a student with vision records keeps their row after leaving.
/// </summary>
internal sealed class OrgRepository(Database db)
{
    private SqlDialect Dialect => db.Dialect;

    // ---- corps ----

    public Task UpsertCorpsAsync(IEnumerable<(string CorpId, string Kind, string Name)> corps, DateTime now, CancellationToken ct) =>
        db.InTransactionAsync((tx, token) => tx.Connection!.ExecuteAsync(new CommandDefinition(
            Dialect.Upsert("corps", ["corp_id"], ["kind", "name", "updated_at"]),
            corps.Select(c => new { corp_id = c.CorpId, kind = c.Kind, name = c.Name, updated_at = now }), tx,
            cancellationToken: token)), ct);

    public async Task<IReadOnlyList<CorpRow>> ListCorpsAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CorpRow>(new CommandDefinition(
            "SELECT corp_id, kind, name, last_full_sync_at, sync_requested_at FROM corps ORDER BY kind, corp_id",
            cancellationToken: ct))).ToList();
    }

    public async Task<CorpRow?> FindCorpAsync(string corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<CorpRow>(new CommandDefinition(
            "SELECT corp_id, kind, name, last_full_sync_at, sync_requested_at FROM corps WHERE corp_id = @corpId", new { corpId },
            cancellationToken: ct));
    }

    public async Task MarkFullSyncedAsync(string corpId, DateTime at, DateTime requestedBefore, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE corps
            SET last_full_sync_at = @at,
                sync_requested_at = CASE WHEN sync_requested_at <= @requestedBefore THEN NULL ELSE sync_requested_at END
            WHERE corp_id = @corpId
            """, new { corpId, at, requestedBefore }, cancellationToken: ct));
    }

    /// <summary>Asks for a full reconcile; a worker picks it up (never the HTTP request itself). False for an unknown corp.</summary>
    public async Task<bool> RequestSyncAsync(string corpId, DateTime at, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE corps SET sync_requested_at = @at WHERE corp_id = @corpId", new { corpId, at }, cancellationToken: ct)) == 1;
    }

    // ---- 通讯录 ----
    //
    // Two writers keep the mirror: events (one person, department, node or class re-read after DingTalk said it changed;
    // stamped event_at / roster_event_at) and the full reconcile (a snapshot read over seconds to minutes). A reconcile
    // write passes eventsSince, when its read began: rows an event wrote since then are newer than the snapshot and are
    // left as the event left them; any later change brings its own event. Every write of a corp's mirror first locks the
    // corp's row in `corps` (WriteCorpAsync; SQLite transactions hold the write lock from BEGIN), so the writers of one
    // corp serialize and neither can slip between the other's check and write, while the whole-corp reconciles run at
    // READ COMMITTED and lock no gaps a neighbouring corp's writer needs. docs/org-mirror.md "Lock scope".

    /// <summary>Reconcile: every department of the corp confirmed, the missing marked removed, event-fresh rows kept.</summary>
    public Task ReplaceDepartmentsAsync(string corpId, IReadOnlyList<DepartmentRow> departments, DateTime now, DateTime eventsSince,
        CancellationToken ct) =>
        WriteCorpAsync(corpId, async (tx, token) =>
        {
            var fresh = await EventFreshAsync<long>(tx, "departments", "dept_id", corpId, eventsSince, token);
            await tx.Connection!.ExecuteAsync(new CommandDefinition(DepartmentUpsert(stamped: false),
                departments.Where(d => !fresh.Contains(d.DeptId)).Select(d => DepartmentArgs(corpId, d, now, null)), tx,
                cancellationToken: token));
            await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                UPDATE departments SET removed_at = @now
                WHERE corp_id = @corpId AND removed_at IS NULL AND synced_at < @now AND (event_at IS NULL OR event_at < @eventsSince)
                """, new { corpId, now, eventsSince }, tx, cancellationToken: token));
        }, ct);

    /// <summary>Event: one department as DingTalk has it now.</summary>
    public Task UpsertDepartmentAsync(string corpId, DepartmentRow department, DateTime now, CancellationToken ct) =>
        WriteCorpAsync(corpId, async (tx, token) =>
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition(DepartmentUpsert(stamped: true), DepartmentArgs(corpId, department, now, now), tx,
                cancellationToken: token));
        }, ct);

    /// <summary>Event: the department is gone from DingTalk.</summary>
    public Task MarkDepartmentRemovedAsync(string corpId, long deptId, DateTime now, CancellationToken ct) =>
        WriteCorpAsync(corpId, async (tx, token) =>
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                UPDATE departments SET removed_at = COALESCE(removed_at, @now), event_at = @now WHERE corp_id = @corpId AND dept_id = @deptId
                """, new { corpId, deptId, now }, tx, cancellationToken: token));
        }, ct);

    /// <summary>
    /// Reconcile: every staff member of the corp confirmed, department memberships replaced, the missing marked removed;
    /// people an event wrote since <paramref name="eventsSince"/> keep the event's row and memberships.
    /// </summary>
    public Task ReplaceStaffAsync(string corpId, IReadOnlyList<StaffRow> staff, DateTime now, DateTime eventsSince, CancellationToken ct) =>
        WriteCorpAsync(corpId, async (tx, token) =>
        {
            var connection = tx.Connection!;
            var fresh = await EventFreshAsync<string>(tx, "staff", "user_id", corpId, eventsSince, token);
            var stale = staff.Where(s => !fresh.Contains(s.UserId)).OrderBy(s => s.UserId, StringComparer.Ordinal).ToList();
            await connection.ExecuteAsync(new CommandDefinition(StaffUpsert(stamped: false),
                stale.Select(s => StaffArgs(corpId, s, now, null)), tx, cancellationToken: token));
            await connection.ExecuteAsync(new CommandDefinition("""
                DELETE FROM staff_departments
                WHERE corp_id = @corpId
                  AND NOT EXISTS (SELECT 1 FROM staff s WHERE s.corp_id = staff_departments.corp_id
                                    AND s.user_id = staff_departments.user_id AND s.event_at >= @eventsSince)
                """, new { corpId, eventsSince }, tx, cancellationToken: token));
            await connection.ExecuteAsync(new CommandDefinition(StaffDepartmentInsert,
                stale.SelectMany(s => MembershipArgs(corpId, s)), tx, cancellationToken: token));
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE staff SET removed_at = @now
                WHERE corp_id = @corpId AND removed_at IS NULL AND synced_at < @now AND (event_at IS NULL OR event_at < @eventsSince)
                """, new { corpId, now, eventsSince }, tx, cancellationToken: token));
        }, ct);

    /// <summary>Event: one person re-read; row and department memberships replaced.</summary>
    public Task UpsertStaffAsync(string corpId, StaffRow staff, DateTime now, CancellationToken ct) =>
        WriteCorpAsync(corpId, async (tx, token) =>
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition(StaffUpsert(stamped: true), StaffArgs(corpId, staff, now, now), tx,
                cancellationToken: token));
            await tx.Connection!.ExecuteAsync(new CommandDefinition(
                "DELETE FROM staff_departments WHERE corp_id = @corpId AND user_id = @userId",
                new { corpId, userId = staff.UserId }, tx, cancellationToken: token));
            await tx.Connection!.ExecuteAsync(new CommandDefinition(StaffDepartmentInsert, MembershipArgs(corpId, staff), tx,
                cancellationToken: token));
        }, ct);

    /// <summary>Event: the person left the corp; their department memberships go with them.</summary>
    public Task MarkStaffRemovedAsync(string corpId, string userId, DateTime now, CancellationToken ct) =>
        WriteCorpAsync(corpId, async (tx, token) =>
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                UPDATE staff SET removed_at = COALESCE(removed_at, @now), event_at = @now WHERE corp_id = @corpId AND user_id = @userId
                """, new { corpId, userId, now }, tx, cancellationToken: token));
            await tx.Connection!.ExecuteAsync(new CommandDefinition(
                "DELETE FROM staff_departments WHERE corp_id = @corpId AND user_id = @userId",
                new { corpId, userId }, tx, cancellationToken: token));
        }, ct);

    // ---- 家校通讯录 ----

    /// <summary>
    /// Reconcile: the whole 家校 tree confirmed, the missing marked removed and their classes emptied; nodes an event wrote
    /// since <paramref name="eventsSince"/> are left as the event left them.
    /// </summary>
    public Task ReplaceEduNodesAsync(string corpId, IReadOnlyList<EduNodeRow> nodes, DateTime now, DateTime eventsSince, CancellationToken ct) =>
        WriteCorpAsync(corpId, async (tx, token) =>
        {
            var connection = tx.Connection!;
            var fresh = await EventFreshAsync<long>(tx, "edu_nodes", "node_id", corpId, eventsSince, token);
            await connection.ExecuteAsync(new CommandDefinition(EduNodeUpsert(stamped: false),
                nodes.Where(n => !fresh.Contains(n.NodeId)).Select(n => EduNodeArgs(corpId, n, now, null)), tx, cancellationToken: token));
            var gone = (await connection.QueryAsync<long>(new CommandDefinition("""
                SELECT node_id FROM edu_nodes
                WHERE corp_id = @corpId AND removed_at IS NULL AND synced_at < @now AND (event_at IS NULL OR event_at < @eventsSince)
                """, new { corpId, now, eventsSince }, tx, cancellationToken: token))).ToList();
            foreach (var nodeId in gone)
            {
                await RemoveEduNodeAsync(tx, corpId, nodeId, now, token);
            }

            await MarkOrphansRemovedAsync(tx, corpId, now, token);
        }, ct);

    /// <summary>Event: one node as DingTalk has it now.</summary>
    public Task UpsertEduNodeAsync(string corpId, EduNodeRow node, DateTime now, CancellationToken ct) =>
        WriteCorpAsync(corpId, (tx, token) => tx.Connection!.ExecuteAsync(new CommandDefinition(EduNodeUpsert(stamped: true),
            EduNodeArgs(corpId, node, now, now), tx, cancellationToken: token)), ct);

    /// <summary>Event: the node is gone from DingTalk (graduated, deleted): marked removed, its class emptied.</summary>
    public Task MarkEduNodeRemovedAsync(string corpId, long nodeId, DateTime now, CancellationToken ct) =>
        WriteCorpAsync(corpId, async (tx, token) =>
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition(
                "UPDATE edu_nodes SET event_at = @now WHERE corp_id = @corpId AND node_id = @nodeId",
                new { corpId, nodeId, now }, tx, cancellationToken: token));
            await RemoveEduNodeAsync(tx, corpId, nodeId, now, token);
            await MarkOrphansRemovedAsync(tx, corpId, now, token);
        }, ct);

    /// <summary>
    /// Reconcile: a class the full pass found gone; false (nothing changed) when an event wrote the class or its
    /// roster since <paramref name="eventsSince"/>.
    /// </summary>
    public Task<bool> ReconcileEduNodeRemovedAsync(string corpId, long nodeId, DateTime now, DateTime eventsSince, CancellationToken ct) =>
        WriteCorpAsync(corpId, async (tx, token) =>
        {
            if (await ClassIsEventFreshAsync(tx, corpId, nodeId, eventsSince, token))
            {
                return false;
            }

            await RemoveEduNodeAsync(tx, corpId, nodeId, now, token);
            return true;
        }, ct);

    /// <summary>
    /// Event: one class as DingTalk lists it now (see <see cref="WriteRosterAsync"/>); the corp's students and guardians
    /// left in no class are marked removed.
    /// </summary>
    public Task ApplyClassRosterAsync(string corpId, long classId, ClassRoster roster, DateTime now, CancellationToken ct) =>
        WriteCorpAsync(corpId, async (tx, token) =>
        {
            // First statement: takes the class's row lock, so a reconcile writing this class waits for us or we for it.
            await tx.Connection!.ExecuteAsync(new CommandDefinition(
                "UPDATE edu_nodes SET roster_event_at = @now WHERE corp_id = @corpId AND node_id = @classId",
                new { corpId, classId, now }, tx, cancellationToken: token));
            await WriteRosterAsync(tx, corpId, classId, roster, now, token);
            await MarkOrphansRemovedAsync(tx, corpId, now, token);
        }, ct);

    /// <summary>
    /// Reconcile: one class of a full pass (see <see cref="WriteRosterAsync"/>); false (nothing changed) when an event
    /// wrote the class or its roster since <paramref name="eventsSince"/>. Orphans are marked once, at the pass's end.
    /// </summary>
    public Task<bool> ReconcileClassRosterAsync(string corpId, long classId, ClassRoster roster, DateTime now, DateTime eventsSince,
        CancellationToken ct) =>
        WriteCorpAsync(corpId, async (tx, token) =>
        {
            if (await ClassIsEventFreshAsync(tx, corpId, classId, eventsSince, token))
            {
                return false;
            }

            await WriteRosterAsync(tx, corpId, classId, roster, now, token);
            return true;
        }, ct);

    /// <summary>
    /// One class as DingTalk lists it now: its students and guardians confirmed (and un-removed), its memberships and
    /// relations made equal to the list. Written as a difference on full keys: an existing row is updated or deleted by
    /// its key (a record lock) and only a missing one is inserted (many per statement). A range delete followed by inserts, as this
    /// once was, took InnoDB gap locks that the class next in the index (or the end of the table, when a corp is synced
    /// for the first time) also took, and two classes written at once deadlocked on each other's inserts; two instances
    /// syncing the demo org met 264 such deadlocks in 16 s (docs/org-mirror.md, "Lock scope"). Writers of one class are
    /// serialized by the class's row in edu_nodes, which the callers lock first, so the difference is read without locks.
    /// </summary>
    private async Task WriteRosterAsync(DbTransaction tx, string corpId, long classId, ClassRoster roster, DateTime now, CancellationToken token)
    {
        var connection = tx.Connection!;
        await WritePeopleAsync(tx, "students", ["union_id", "name", "student_number", "synced_at", "removed_at"], corpId,
            roster.Students.DistinctBy(s => s.UserId).Select(s => (s.UserId, new object?[]
            {
                // 学号 is sealed at rest (docs/encryption.md).
                NullIfEmpty(s.UnionId), s.Name, db.Fields.Protect(s.StudentNumber), now, null,
            })).ToList(), token);
        await WritePeopleAsync(tx, "guardians", ["union_id", "name", "synced_at", "removed_at"], corpId,
            roster.Guardians.DistinctBy(g => g.UserId).Select(g => (g.UserId, new object?[] { NullIfEmpty(g.UnionId), g.Name, now, null }))
                .ToList(), token);

        var key = new { corpId, classId };
        var members = roster.Students.Select(s => (Role: "student", s.UserId, Adviser: false))
            .Concat(roster.Guardians.Select(g => (Role: "guardian", g.UserId, Adviser: false)))
            .Concat(roster.Teachers.Select(t => (Role: "teacher", t.UserId, Adviser: t.IsAdviser)))
            .DistinctBy(m => (m.Role, m.UserId))
            .ToDictionary(m => (m.Role, m.UserId), m => m.Adviser);
        var currentMembers = (await connection.QueryAsync<(string Role, string UserId, bool IsAdviser)>(new CommandDefinition(
                "SELECT role, user_id, is_adviser FROM class_members WHERE corp_id = @corpId AND class_id = @classId", key, tx,
                cancellationToken: token)))
            .ToDictionary(m => (m.Role, m.UserId), m => m.IsAdviser);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM class_members WHERE corp_id = @corpId AND class_id = @classId AND role = @role AND user_id = @userId",
            currentMembers.Keys.Where(k => !members.ContainsKey(k)).Order().Select(k => new { corpId, classId, role = k.Role, userId = k.UserId }),
            tx, cancellationToken: token));
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE class_members SET is_adviser = @isAdviser WHERE corp_id = @corpId AND class_id = @classId AND role = @role AND user_id = @userId",
            members.Where(m => currentMembers.TryGetValue(m.Key, out var adviser) && adviser != m.Value).OrderBy(m => m.Key)
                .Select(m => new { corpId, classId, role = m.Key.Role, userId = m.Key.UserId, isAdviser = m.Value }),
            tx, cancellationToken: token));
        string[] memberKeys = ["corp_id", "class_id", "role", "user_id"];
        await MultiRowInsert.ExecuteAsync(tx, Dialect, "class_members", [.. memberKeys, "is_adviser"],
            members.Where(m => !currentMembers.ContainsKey(m.Key)).OrderBy(m => m.Key).ToList(),
            m => [corpId, classId, m.Key.Role, m.Key.UserId, m.Value], token, Dialect.OnConflictSet(memberKeys, ["is_adviser"]));

        var relations = roster.Relations.DistinctBy(r => (r.GuardianUserId, r.StudentUserId))
            .ToDictionary(r => (r.GuardianUserId, r.StudentUserId), r => r.RelationCode);
        var currentRelations = (await connection.QueryAsync<(string GuardianUserId, string StudentUserId, string RelationCode)>(new CommandDefinition(
                "SELECT guardian_user_id, student_user_id, relation_code FROM guardian_students WHERE corp_id = @corpId AND class_id = @classId",
                key, tx, cancellationToken: token)))
            .ToDictionary(r => (r.GuardianUserId, r.StudentUserId), r => r.RelationCode);
        await connection.ExecuteAsync(new CommandDefinition("""
            DELETE FROM guardian_students
            WHERE corp_id = @corpId AND class_id = @classId AND guardian_user_id = @guardianUserId AND student_user_id = @studentUserId
            """, currentRelations.Keys.Where(k => !relations.ContainsKey(k)).Order()
                .Select(k => new { corpId, classId, guardianUserId = k.GuardianUserId, studentUserId = k.StudentUserId }),
            tx, cancellationToken: token));
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE guardian_students SET relation_code = @relationCode
            WHERE corp_id = @corpId AND class_id = @classId AND guardian_user_id = @guardianUserId AND student_user_id = @studentUserId
            """, relations.Where(r => currentRelations.TryGetValue(r.Key, out var code) && code != r.Value).OrderBy(r => r.Key)
                .Select(r => new { corpId, classId, guardianUserId = r.Key.GuardianUserId, studentUserId = r.Key.StudentUserId, relationCode = r.Value }),
            tx, cancellationToken: token));
        string[] relationKeys = ["corp_id", "class_id", "guardian_user_id", "student_user_id"];
        await MultiRowInsert.ExecuteAsync(tx, Dialect, "guardian_students", [.. relationKeys, "relation_code"],
            relations.Where(r => !currentRelations.ContainsKey(r.Key)).OrderBy(r => r.Key).ToList(),
            r => [corpId, classId, r.Key.GuardianUserId, r.Key.StudentUserId, r.Value], token, Dialect.OnConflictSet(relationKeys, ["relation_code"]));
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE edu_nodes SET roster_synced_at = @now WHERE corp_id = @corpId AND node_id = @classId",
            new { corpId, classId, now }, tx, cancellationToken: token));
    }

    /// <summary>
    /// Students or guardians of one class confirmed now, in multi-row upserts: an existing row is updated by its key (a
    /// record lock), a missing one inserted (for the guardian another class of the corp inserts at the same moment).
    /// Keys in order, so that classes sharing a guardian take its row lock in the same order. One statement per few
    /// hundred people: row by row, the city's first reconcile made 870,000 round trips, and MariaDB's lock waits stalled
    /// both instances' DingTalk calls for seconds (city-scale bench, #17).
    /// </summary>
    private async Task WritePeopleAsync(DbTransaction tx, string table, string[] columns, string corpId, IReadOnlyList<(string UserId, object?[] Values)> people,
        CancellationToken token)
    {
        await MultiRowInsert.ExecuteAsync(tx, Dialect, table, ["corp_id", "user_id", .. columns],
            people.OrderBy(p => p.UserId, StringComparer.Ordinal).ToList(), p => [corpId, p.UserId, .. p.Values], token,
            Dialect.OnConflictSet(["corp_id", "user_id"], columns));
    }

    /// <summary>The corp's rows that an event wrote at or after <paramref name="since"/> (read under the corp's lock, so no event writes meanwhile).</summary>
    private async Task<HashSet<TKey>> EventFreshAsync<TKey>(DbTransaction tx, string table, string keyColumn, string corpId, DateTime since,
        CancellationToken ct)
    {
        var rows = await tx.Connection!.QueryAsync<(TKey Key, DateTime? EventAt)>(new CommandDefinition(
            $"SELECT {keyColumn}, event_at FROM {table} WHERE corp_id = @corpId", new { corpId }, tx,
            cancellationToken: ct));
        return rows.Where(r => r.EventAt >= since).Select(r => r.Key).ToHashSet();
    }

    /// <summary>
    /// One write of a corp's mirror: its transaction first locks the corp's row in <c>corps</c>, so the corp's writers
    /// (events and reconciles) take turns, and runs at the dialect's range-writer isolation (READ COMMITTED on MySQL), so
    /// that its range reads and updates lock no gaps that another corp's writer needs (docs/org-mirror.md "Lock scope").
    /// </summary>
    private Task<T> WriteCorpAsync<T>(string corpId, Func<DbTransaction, CancellationToken, Task<T>> work, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            // An upsert that changes nothing takes the row's exclusive lock, and creates the row when the scheduler has not
            // yet (its kind, name and time follow with the scheduler's upsert): a missing row would lock nothing at READ COMMITTED.
            await tx.Connection!.ExecuteAsync(new CommandDefinition($"""
                INSERT INTO corps (corp_id, kind, name, updated_at) VALUES (@corpId, '', '', @now) {Dialect.OnConflictSet(["corp_id"], ["corp_id"])}
                """, new { corpId, now = DateTime.UnixEpoch }, tx, cancellationToken: token));
            return await work(tx, token);
        }, Dialect.GapFreeIsolation, ct);

    private Task WriteCorpAsync(string corpId, Func<DbTransaction, CancellationToken, Task> work, CancellationToken ct) =>
        WriteCorpAsync<bool>(corpId, async (tx, token) =>
        {
            await work(tx, token);
            return true;
        }, ct);

    private async Task<bool> ClassIsEventFreshAsync(DbTransaction tx, string corpId, long classId, DateTime since, CancellationToken ct)
    {
        var row = await tx.Connection!.QuerySingleOrDefaultAsync<(DateTime? EventAt, DateTime? RosterEventAt)>(new CommandDefinition(
            $"SELECT event_at, roster_event_at FROM edu_nodes WHERE corp_id = @corpId AND node_id = @classId{Dialect.ForUpdate}",
            new { corpId, classId }, tx, cancellationToken: ct));
        return row.EventAt >= since || row.RosterEventAt >= since;
    }

    public Task MarkOrphansRemovedAsync(string corpId, DateTime now, CancellationToken ct) =>
        WriteCorpAsync(corpId, (tx, token) => MarkOrphansRemovedAsync(tx, corpId, now, token), ct);

    /// <summary>Classes of the corp, least recently reconciled first (for a budget-limited pass).</summary>
    public async Task<IReadOnlyList<(long ClassId, DateTime? RosteredAt)>> ClassesByRosterAgeAsync(string corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(long, DateTime?)>(new CommandDefinition("""
            SELECT node_id, roster_synced_at FROM edu_nodes
            WHERE corp_id = @corpId AND node_type = 'class' AND removed_at IS NULL
            ORDER BY CASE WHEN roster_synced_at IS NULL THEN 0 ELSE 1 END, roster_synced_at, node_id
            """, new { corpId }, cancellationToken: ct))).ToList();
    }

    // ---- reads ----

    public Task<IReadOnlyList<DepartmentRow>> ListDepartmentsAsync(string corpId, CancellationToken ct) =>
        QueryAsync<DepartmentRow>("""
            SELECT dept_id, name, parent_dept_id FROM departments
            WHERE corp_id = @corpId AND removed_at IS NULL ORDER BY dept_id
            """, new { corpId }, ct);

    public Task<IReadOnlyList<StaffView>> ListStaffAsync(string corpId, bool includeRemoved, CancellationToken ct) =>
        QueryAsync<StaffView>("""
            SELECT user_id, union_id, name, title, job_number, is_admin, is_boss, removed_at FROM staff
            WHERE corp_id = @corpId AND (@includeRemoved = 1 OR removed_at IS NULL) ORDER BY user_id
            """, new { corpId, includeRemoved = includeRemoved ? 1 : 0 }, ct);

    public Task<IReadOnlyList<StaffDepartmentRow>> ListStaffDepartmentsAsync(string corpId, CancellationToken ct) =>
        QueryAsync<StaffDepartmentRow>("""
            SELECT user_id, dept_id, is_leader FROM staff_departments WHERE corp_id = @corpId ORDER BY user_id, dept_id
            """, new { corpId }, ct);

    public Task<IReadOnlyList<EduNodeRow>> ListEduNodesAsync(string corpId, CancellationToken ct) =>
        QueryAsync<EduNodeRow>("""
            SELECT node_id, name, nick, parent_node_id, node_type, grade_level, start_year FROM edu_nodes
            WHERE corp_id = @corpId AND removed_at IS NULL ORDER BY node_id
            """, new { corpId }, ct);

    public async Task<IReadOnlyList<StudentView>> ListStudentsAsync(string corpId, bool includeRemoved, CancellationToken ct) =>
        (await QueryAsync<StudentView>("""
            SELECT user_id, union_id, name, student_number, removed_at FROM students
            WHERE corp_id = @corpId AND (@includeRemoved = 1 OR removed_at IS NULL) ORDER BY user_id
            """, new { corpId, includeRemoved = includeRemoved ? 1 : 0 }, ct)).Select(s => s with { StudentNumber = db.Fields.Unprotect(s.StudentNumber) }).ToList();

    public Task<IReadOnlyList<GuardianView>> ListGuardiansAsync(string corpId, bool includeRemoved, CancellationToken ct) =>
        QueryAsync<GuardianView>("""
            SELECT user_id, union_id, name, removed_at FROM guardians
            WHERE corp_id = @corpId AND (@includeRemoved = 1 OR removed_at IS NULL) ORDER BY user_id
            """, new { corpId, includeRemoved = includeRemoved ? 1 : 0 }, ct);

    public Task<IReadOnlyList<ClassMemberRow>> ListClassMembersAsync(string corpId, long? classId, CancellationToken ct) =>
        QueryAsync<ClassMemberRow>("""
            SELECT class_id, role, user_id, is_adviser FROM class_members
            WHERE corp_id = @corpId AND (@classId IS NULL OR class_id = @classId) ORDER BY class_id, role, user_id
            """, new { corpId, classId }, ct);

    public Task<IReadOnlyList<RelationRow>> ListRelationsAsync(string corpId, long? classId, CancellationToken ct) =>
        QueryAsync<RelationRow>("""
            SELECT class_id, guardian_user_id, student_user_id, relation_code FROM guardian_students
            WHERE corp_id = @corpId AND (@classId IS NULL OR class_id = @classId)
            ORDER BY class_id, guardian_user_id, student_user_id
            """, new { corpId, classId }, ct);

    /// <summary>Everything a unionid is across corps: staff, guardian (with classes), student.</summary>
    /// <remarks>
    /// Three queries rather than one UNION: SQLite reports literal and NULL columns of an empty result as BLOB, which
    /// positional records cannot be built from.
    /// </remarks>
    public async Task<IReadOnlyList<PersonRoleRow>> FindPersonAsync(string unionId, CancellationToken ct)
    {
        var args = new { unionId };
        var staff = await QueryAsync<(string CorpId, string UserId, string Name, DateTime? RemovedAt)>(
            "SELECT corp_id, user_id, name, removed_at FROM staff WHERE union_id = @unionId", args, ct);
        var guardians = await QueryAsync<(string CorpId, string UserId, string Name, DateTime? RemovedAt, long? ClassId)>("""
            SELECT g.corp_id, g.user_id, g.name, g.removed_at, m.class_id
            FROM guardians g LEFT JOIN class_members m ON m.corp_id = g.corp_id AND m.user_id = g.user_id AND m.role = 'guardian'
            WHERE g.union_id = @unionId
            """, args, ct);
        var students = await QueryAsync<(string CorpId, string UserId, string Name, DateTime? RemovedAt, long? ClassId)>("""
            SELECT st.corp_id, st.user_id, st.name, st.removed_at, m.class_id
            FROM students st LEFT JOIN class_members m ON m.corp_id = st.corp_id AND m.user_id = st.user_id AND m.role = 'student'
            WHERE st.union_id = @unionId
            """, args, ct);
        return staff.Select(s => new PersonRoleRow(s.CorpId, "staff", s.UserId, s.Name, null, s.RemovedAt))
            .Concat(guardians.Select(g => new PersonRoleRow(g.CorpId, "guardian", g.UserId, g.Name, g.ClassId, g.RemovedAt)))
            .Concat(students.Select(s => new PersonRoleRow(s.CorpId, "student", s.UserId, s.Name, s.ClassId, s.RemovedAt)))
            .OrderBy(r => r.CorpId, StringComparer.Ordinal).ThenBy(r => r.Role, StringComparer.Ordinal)
            .ThenBy(r => r.UserId, StringComparer.Ordinal).ToList();
    }

    private async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object args, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<T>(new CommandDefinition(sql, args, cancellationToken: ct))).ToList();
    }

    private static async Task RemoveEduNodeAsync(DbTransaction tx, string corpId, long nodeId, DateTime now, CancellationToken ct)
    {
        var args = new { corpId, nodeId, now };
        await tx.Connection!.ExecuteAsync(new CommandDefinition(
            "UPDATE edu_nodes SET removed_at = @now WHERE corp_id = @corpId AND node_id = @nodeId AND removed_at IS NULL",
            args, tx, cancellationToken: ct));
        await tx.Connection!.ExecuteAsync(new CommandDefinition(
            "DELETE FROM class_members WHERE corp_id = @corpId AND class_id = @nodeId", args, tx, cancellationToken: ct));
        await tx.Connection!.ExecuteAsync(new CommandDefinition(
            "DELETE FROM guardian_students WHERE corp_id = @corpId AND class_id = @nodeId", args, tx, cancellationToken: ct));
    }

    /// <summary>Students and guardians of the corp who are in no class any more are marked removed (never deleted).</summary>
    private static async Task MarkOrphansRemovedAsync(DbTransaction tx, string corpId, DateTime now, CancellationToken ct)
    {
        foreach (var (table, role) in new[] { ("students", "student"), ("guardians", "guardian") })
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition($"""
                UPDATE {table} SET removed_at = @now
                WHERE corp_id = @corpId AND removed_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM class_members m
                                  WHERE m.corp_id = {table}.corp_id AND m.user_id = {table}.user_id AND m.role = @role)
                """, new { corpId, now, role }, tx, cancellationToken: ct));
        }
    }

    private string StaffUpsert(bool stamped) => Dialect.Upsert("staff", ["corp_id", "user_id"],
        ["union_id", "name", "title", "job_number", "is_admin", "is_boss", "synced_at", "removed_at", .. Stamp(stamped)]);

    private string DepartmentUpsert(bool stamped) => Dialect.Upsert("departments", ["corp_id", "dept_id"],
        ["name", "parent_dept_id", "synced_at", "removed_at", .. Stamp(stamped)]);

    private string EduNodeUpsert(bool stamped) => Dialect.Upsert("edu_nodes", ["corp_id", "node_id"],
        ["name", "nick", "parent_node_id", "node_type", "grade_level", "start_year", "synced_at", "removed_at", .. Stamp(stamped)]);

    // A reconcile's upsert leaves event_at as it is; an event's sets it.
    private static string[] Stamp(bool stamped) => stamped ? ["event_at"] : [];

    private const string StaffDepartmentInsert = """
        INSERT INTO staff_departments (corp_id, user_id, dept_id, is_leader) VALUES (@corpId, @userId, @deptId, @isLeader)
        """;

    private static object DepartmentArgs(string corpId, DepartmentRow d, DateTime now, DateTime? eventAt) => new
    {
        corp_id = corpId, dept_id = d.DeptId, name = d.Name, parent_dept_id = d.ParentDeptId, synced_at = now,
        removed_at = (DateTime?)null, event_at = eventAt,
    };

    private static object StaffArgs(string corpId, StaffRow s, DateTime now, DateTime? eventAt) => new
    {
        corp_id = corpId, user_id = s.UserId, union_id = NullIfEmpty(s.UnionId), name = s.Name, title = NullIfEmpty(s.Title),
        job_number = NullIfEmpty(s.JobNumber), is_admin = s.IsAdmin, is_boss = s.IsBoss, synced_at = now,
        removed_at = (DateTime?)null, event_at = eventAt,
    };

    private static IEnumerable<object> MembershipArgs(string corpId, StaffRow s) =>
        s.Departments.DistinctBy(d => d.DeptId).Select(d => new { corpId, userId = s.UserId, deptId = d.DeptId, isLeader = d.IsLeader });

    private static object EduNodeArgs(string corpId, EduNodeRow n, DateTime now, DateTime? eventAt) => new
    {
        corp_id = corpId, node_id = n.NodeId, name = n.Name, nick = NullIfEmpty(n.Nick), parent_node_id = n.ParentNodeId,
        node_type = n.NodeType, grade_level = n.GradeLevel, start_year = NullIfEmpty(n.StartYear), synced_at = now,
        removed_at = (DateTime?)null, event_at = eventAt,
    };

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
