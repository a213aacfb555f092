using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.Org;

/// <summary>A person as staff or guardian of one corp.</summary>
internal sealed record Account(string CorpId, string UserId, string Name, string? UnionId);

internal sealed record TaughtClass(string CorpId, long ClassId, string ClassName, bool IsAdviser);

internal sealed record Child(string CorpId, string StudentUserId, string Name, string? StudentNumber, long ClassId, string ClassName,
    string RelationCode);

/// <summary>A member of staff as the mirror has them: the corp's kind (Bureau or School), DingTalk's admin flag, title.</summary>
internal sealed record StaffStanding(string Kind, bool IsAdmin, string? Title);

/// <summary>A person found to act for a role (an approver, a recipient): their account in the corp.</summary>
internal sealed record DirectoryPerson(string CorpId, string UserId, string Name, string? UnionId);

internal sealed record SchoolClass(long ClassId, string Name, int? GradeLevel, long? GradeId, long? PeriodId, string? PeriodName, int Students);

internal sealed record ClassTeacher(long ClassId, string UserId, string? UnionId, string? Name, bool IsAdviser);

internal sealed record ClassGuardian(long ClassId, string UserId, string? UnionId, string Name);

/// <summary>Narrowing of a school's classes: any listed class, grade, period or grade level (nothing listed: every class).</summary>
internal sealed record ClassFilter(IReadOnlyList<long>? ClassIds = null, IReadOnlyList<long>? GradeIds = null,
    IReadOnlyList<long>? PeriodIds = null, IReadOnlyList<int>? GradeLevels = null);

/// <summary>
/// The org mirror, read-only, for every other feature (docs/access.md): people by account or unionid, a corp's staff
/// and admins, classes with their teachers, students and guardians. Only the org feature writes these tables, and no
/// feature outside it reads them with its own SQL. Removed people and classes are left out unless a method says so.
/// </summary>
internal sealed class OrgDirectory(Database db)
{
    // ---- people ----

    /// <summary>
    /// The person as staff or guardian of the corp, if the mirror has them and they have not left; with
    /// <paramref name="includeFormer"/> also one who has left (a teacher who moved school, whose history can still follow them).
    /// </summary>
    public async Task<Account?> FindAccountAsync(string corpId, string userId, CancellationToken ct, bool includeFormer = false)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        // One statement (it runs on every request that names its caller): a staff account wins over a guardian one. The
        // two rows at most are ranked here, not by an ORDER BY over the union, which MariaDB answers through a temporary table.
        return (await connection.QueryAsync<(int Source, string CorpId, string UserId, string Name, string? UnionId)>(new CommandDefinition("""
                SELECT 0, corp_id, user_id, name, union_id FROM staff
                WHERE corp_id = @corpId AND user_id = @userId AND (removed_at IS NULL OR @includeFormer = 1)
                UNION ALL
                SELECT 1, corp_id, user_id, name, union_id FROM guardians
                WHERE corp_id = @corpId AND user_id = @userId AND (removed_at IS NULL OR @includeFormer = 1)
                """, new { corpId, userId, includeFormer = includeFormer ? 1 : 0 }, cancellationToken: ct)))
            .OrderBy(a => a.Source).Select(a => new Account(a.CorpId, a.UserId, a.Name, a.UnionId)).FirstOrDefault();
    }

    /// <summary>The unionid of an account, current or former (null when unknown).</summary>
    public async Task<string?> UnionIdOfAsync(string corpId, string userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QueryFirstOrDefaultAsync<string?>(new CommandDefinition("""
            SELECT union_id FROM staff WHERE corp_id = @corpId AND user_id = @userId
            UNION ALL
            SELECT union_id FROM guardians WHERE corp_id = @corpId AND user_id = @userId
            """, new { corpId, userId }, cancellationToken: ct));
    }

    public async Task<StaffStanding?> StaffStandingAsync(string corpId, string userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QueryFirstOrDefaultAsync<StaffStanding>(new CommandDefinition("""
            SELECT c.kind, s.is_admin, s.title FROM staff s JOIN corps c ON c.corp_id = s.corp_id
            WHERE s.corp_id = @corpId AND s.user_id = @userId AND s.removed_at IS NULL
            """, new { corpId, userId }, cancellationToken: ct));
    }

    public async Task<bool> InAnyDepartmentAsync(string corpId, string userId, IReadOnlyCollection<long> deptIds, CancellationToken ct)
    {
        if (deptIds.Count == 0)
        {
            return false;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition("""
            SELECT COUNT(*) FROM staff_departments WHERE corp_id = @corpId AND user_id = @userId AND dept_id IN @deptIds
            """, new { corpId, userId, deptIds = deptIds.ToList() }, cancellationToken: ct)) > 0;
    }

    /// <summary>The account's roles in classes: teacher (and whether adviser), guardian.</summary>
    public async Task<IReadOnlyList<(string Role, bool IsAdviser)>> ClassMembershipsAsync(string corpId, string userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string, bool)>(new CommandDefinition(
            "SELECT role, is_adviser FROM class_members WHERE corp_id = @corpId AND user_id = @userId", new { corpId, userId },
            cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// The corp's admins as sign-in derives them: DingTalk's admin flag, or (schools) a title in
    /// <paramref name="adminTitles"/>, or (the bureau) membership of one of <paramref name="adminDepartments"/>.
    /// </summary>
    public async Task<IReadOnlyList<DirectoryPerson>> AdminsAsync(string corpId, IReadOnlyCollection<string> adminTitles,
        IReadOnlyCollection<long> adminDepartments, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<DirectoryPerson>(new CommandDefinition("""
            SELECT s.corp_id, s.user_id, s.name, s.union_id FROM staff s JOIN corps c ON c.corp_id = s.corp_id
            WHERE s.corp_id = @corpId AND s.removed_at IS NULL
              AND (s.is_admin = 1
                   OR (c.kind = 'School' AND s.title IN @adminTitles)
                   OR (c.kind = 'Bureau' AND EXISTS (SELECT 1 FROM staff_departments d
                                                     WHERE d.corp_id = s.corp_id AND d.user_id = s.user_id AND d.dept_id IN @adminDepartments)))
            ORDER BY s.user_id
            """, new { corpId, adminTitles = adminTitles.DefaultIfEmpty("\u0000").ToList(), adminDepartments = adminDepartments.DefaultIfEmpty(long.MinValue).ToList() },
            cancellationToken: ct))).ToList();
    }

    /// <summary>Of the named staff of a corp, those still there.</summary>
    public async Task<IReadOnlyList<DirectoryPerson>> CurrentStaffAsync(string corpId, IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        if (userIds.Count == 0)
        {
            return [];
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<DirectoryPerson>(new CommandDefinition("""
            SELECT corp_id, user_id, name, union_id FROM staff
            WHERE corp_id = @corpId AND user_id IN @userIds AND removed_at IS NULL ORDER BY user_id
            """, new { corpId, userIds = userIds.ToList() }, cancellationToken: ct))).ToList();
    }

    /// <summary>Every current member of staff of the corp.</summary>
    public async Task<IReadOnlyList<DirectoryPerson>> StaffOfAsync(string corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<DirectoryPerson>(new CommandDefinition(
            "SELECT corp_id, user_id, name, union_id FROM staff WHERE corp_id = @corpId AND removed_at IS NULL ORDER BY user_id",
            new { corpId }, cancellationToken: ct))).ToList();
    }

    // ---- a person's classes and children ----

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
            children.AddRange((await connection.QueryAsync<Child>(new CommandDefinition("""
                SELECT r.corp_id, r.student_user_id, s.name, s.student_number, r.class_id, n.name AS class_name, r.relation_code
                FROM guardian_students r
                JOIN students s ON s.corp_id = r.corp_id AND s.user_id = r.student_user_id
                JOIN edu_nodes n ON n.corp_id = r.corp_id AND n.node_id = r.class_id
                WHERE r.corp_id = @corpId AND r.guardian_user_id = @userId AND s.removed_at IS NULL
                ORDER BY r.class_id, r.student_user_id
                """, new { corpId, userId }, cancellationToken: ct))).Select(c => c with { StudentNumber = db.Fields.Unprotect(c.StudentNumber) }));
        }

        return children;
    }

    /// <summary>The relation of one of the accounts to the student, when one of them is the student's guardian.</summary>
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

    /// <summary>A class of the student that one of the accounts teaches, if any.</summary>
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

    // ---- students ----

    public async Task<StudentView?> FindStudentAsync(string corpId, string userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var student = await connection.QuerySingleOrDefaultAsync<StudentView>(new CommandDefinition("""
            SELECT user_id, union_id, name, student_number, removed_at FROM students
            WHERE corp_id = @corpId AND user_id = @userId AND removed_at IS NULL
            """, new { corpId, userId }, cancellationToken: ct));
        return student is null ? null : student with { StudentNumber = db.Fields.Unprotect(student.StudentNumber) };
    }

    /// <summary>A current student's name and first class with its grade, in one statement; null when not a current student in a class.</summary>
    public async Task<(string Name, long ClassId, int? GradeLevel)?> StudentPlacementAsync(string corpId, string userId, CancellationToken ct) =>
        await StudentPlacementAsync([], corpId, userId, ct) is var (name, classId, grade, _) ? (name, classId, grade) : null;

    /// <summary>
    /// As <see cref="StudentPlacementAsync(string, string, CancellationToken)"/>, with what <see cref="GuardianRelationAsync"/>
    /// answers for <paramref name="identities"/> (null when none of them is the student's guardian), in the same statement:
    /// an application for a child asks both, at the city's busiest minute (docs/after-school.md "Signup at scale").
    /// </summary>
    public async Task<(string Name, long ClassId, int? GradeLevel, string? GuardianRelation)?> StudentPlacementAsync(
        IReadOnlyList<(string CorpId, string UserId)> identities, string corpId, string userId, CancellationToken ct)
    {
        var mine = identities.Where(i => i.CorpId == corpId).Select(i => i.UserId).ToList();
        await using var connection = await db.OpenConnectionAsync(ct);
        // The subquery's column is named: unnamed, MySQL names it by its text, values included, and Dapper, seeing new
        // columns on every call, would compile a new reader each time (measured: a tenth of the signup bench's CPU).
        return await connection.QueryFirstOrDefaultAsync<(string Name, long ClassId, int? GradeLevel, string? GuardianRelation)?>(new CommandDefinition($"""
            SELECT s.name, m.class_id, n.grade_level,
                   {(mine.Count == 0 ? "NULL" : """
                       (SELECT MIN(r.relation_code) FROM guardian_students r
                        WHERE r.corp_id = s.corp_id AND r.student_user_id = s.user_id AND r.guardian_user_id IN @mine)
                       """)} AS guardian_relation
            FROM students s
            JOIN class_members m ON m.corp_id = s.corp_id AND m.user_id = s.user_id AND m.role = 'student'
            JOIN edu_nodes n ON n.corp_id = m.corp_id AND n.node_id = m.class_id AND n.removed_at IS NULL
            WHERE s.corp_id = @corpId AND s.user_id = @userId AND s.removed_at IS NULL
            ORDER BY m.class_id LIMIT 1
            """, new { corpId, userId, mine }, cancellationToken: ct));
    }

    /// <summary>The classes one student is in now.</summary>
    public async Task<IReadOnlyList<(long ClassId, string ClassName)>> ClassesOfStudentAsync(string corpId, string userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(long, string)>(new CommandDefinition("""
            SELECT m.class_id, n.name
            FROM class_members m JOIN edu_nodes n ON n.corp_id = m.corp_id AND n.node_id = m.class_id
            WHERE m.corp_id = @corpId AND m.user_id = @userId AND m.role = 'student' AND n.removed_at IS NULL
            ORDER BY m.class_id
            """, new { corpId, userId }, cancellationToken: ct))).ToList();
    }

    /// <summary>One student's guardians (once each, whichever class relates them) with their relation.</summary>
    public async Task<IReadOnlyList<(string UserId, string Name, string RelationCode)>> GuardiansOfStudentAsync(string corpId,
        string userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string UserId, string Name, string RelationCode)>(new CommandDefinition("""
            SELECT r.guardian_user_id, g.name, r.relation_code
            FROM guardian_students r JOIN guardians g ON g.corp_id = r.corp_id AND g.user_id = r.guardian_user_id
            WHERE r.corp_id = @corpId AND r.student_user_id = @userId AND g.removed_at IS NULL
            ORDER BY r.guardian_user_id, r.class_id
            """, new { corpId, userId }, cancellationToken: ct))).DistinctBy(g => g.UserId).ToList();
    }

    /// <summary>Every current student of the school with one class of theirs.</summary>
    public async Task<IReadOnlyList<(string UserId, string Name, string? StudentNumber, long ClassId)>> StudentsOfSchoolAsync(string corpId,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string, string, string?, long)>(new CommandDefinition("""
            SELECT s.user_id, s.name, s.student_number, MIN(m.class_id) AS class_id
            FROM students s JOIN class_members m ON m.corp_id = s.corp_id AND m.user_id = s.user_id AND m.role = 'student'
            WHERE s.corp_id = @corpId AND s.removed_at IS NULL
            GROUP BY s.user_id, s.name, s.student_number
            """, new { corpId }, cancellationToken: ct))).Select(s => (s.Item1, s.Item2, db.Fields.Unprotect(s.Item3), s.Item4)).ToList();
    }

    /// <summary>The current guardians of the given students, each once, with a class of theirs.</summary>
    public async Task<IReadOnlyList<(string UserId, string? UnionId, string Name, long ClassId)>> GuardiansOfStudentsAsync(string corpId,
        IReadOnlyCollection<string> students, CancellationToken ct)
    {
        var guardians = new Dictionary<string, (string, string?, string, long)>(StringComparer.Ordinal);
        await using var connection = await db.OpenConnectionAsync(ct);
        foreach (var chunk in students.Distinct().Chunk(1000))
        {
            foreach (var g in await connection.QueryAsync<(string UserId, string? UnionId, string Name, long ClassId)>(new CommandDefinition("""
                         SELECT g.user_id, g.union_id, g.name, MIN(gs.class_id) FROM guardian_students gs
                         JOIN guardians g ON g.corp_id = gs.corp_id AND g.user_id = gs.guardian_user_id AND g.removed_at IS NULL
                         WHERE gs.corp_id = @corpId AND gs.student_user_id IN @chunk
                         GROUP BY g.user_id, g.union_id, g.name
                         """, new { corpId, chunk }, cancellationToken: ct)))
            {
                guardians.TryAdd(g.UserId, g);
            }
        }

        return guardians.Values.ToList();
    }

    // ---- classes ----

    /// <summary>The corp's current classes matching the filter, with grade, period and the number of students.</summary>
    public async Task<IReadOnlyList<SchoolClass>> ClassesAsync(string corpId, ClassFilter filter, CancellationToken ct) =>
        (await ClassesAsync([corpId], filter, ct)).Select(c => c.Class).ToList();

    public async Task<IReadOnlyList<(string CorpId, SchoolClass Class)>> ClassesAsync(IReadOnlyCollection<string> corpIds, ClassFilter filter,
        CancellationToken ct)
    {
        var narrowing = new List<string>();
        if (filter.ClassIds is { Count: > 0 })
        {
            narrowing.Add("c.node_id IN @classIds");
        }

        if (filter.GradeIds is { Count: > 0 })
        {
            narrowing.Add("c.parent_node_id IN @gradeIds");
        }

        if (filter.PeriodIds is { Count: > 0 })
        {
            narrowing.Add("g.parent_node_id IN @periodIds");
        }

        if (filter.GradeLevels is { Count: > 0 })
        {
            narrowing.Add("c.grade_level IN @gradeLevels");
        }

        var where = narrowing.Count == 0 ? "" : $"AND ({string.Join(" OR ", narrowing)})";
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string CorpId, long ClassId, string Name, int? GradeLevel, long? GradeId, long? PeriodId,
            string? PeriodName, int Students)>(new CommandDefinition($"""
            SELECT c.corp_id, c.node_id, c.name, c.grade_level, c.parent_node_id, g.parent_node_id, p.name,
                   (SELECT COUNT(*) FROM class_members m WHERE m.corp_id = c.corp_id AND m.class_id = c.node_id AND m.role = 'student')
            FROM edu_nodes c
            LEFT JOIN edu_nodes g ON g.corp_id = c.corp_id AND g.node_id = c.parent_node_id
            LEFT JOIN edu_nodes p ON p.corp_id = g.corp_id AND p.node_id = g.parent_node_id
            WHERE c.corp_id IN @corpIds AND c.node_type = 'class' AND c.removed_at IS NULL {where}
            ORDER BY c.corp_id, c.node_id
            """, new
        {
            corpIds = corpIds.ToList(),
            classIds = filter.ClassIds ?? [],
            gradeIds = filter.GradeIds ?? [],
            periodIds = filter.PeriodIds ?? [],
            gradeLevels = filter.GradeLevels ?? [],
        }, cancellationToken: ct))).Select(r => (r.CorpId, new SchoolClass(r.ClassId, r.Name, r.GradeLevel, r.GradeId, r.PeriodId,
            r.PeriodName, r.Students))).ToList();
    }

    /// <summary>Which of <paramref name="nodeIds"/> are current nodes of <paramref name="nodeType"/> in the corp.</summary>
    public async Task<IReadOnlySet<long>> ExistingNodesAsync(string corpId, string nodeType, IReadOnlyCollection<long> nodeIds,
        CancellationToken ct)
    {
        if (nodeIds.Count == 0)
        {
            return new HashSet<long>();
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<long>(new CommandDefinition("""
            SELECT node_id FROM edu_nodes WHERE corp_id = @corpId AND node_type = @nodeType AND node_id IN @nodeIds AND removed_at IS NULL
            """, new { corpId, nodeType, nodeIds = nodeIds.ToList() }, cancellationToken: ct))).ToHashSet();
    }

    /// <summary>Names of classes (current or removed, as they were last seen).</summary>
    public async Task<IReadOnlyDictionary<(string CorpId, long ClassId), string>> ClassNamesAsync(
        IReadOnlyCollection<(string CorpId, long ClassId)> classes, CancellationToken ct)
    {
        var names = new Dictionary<(string, long), string>();
        await using var connection = await db.OpenConnectionAsync(ct);
        foreach (var corp in classes.GroupBy(c => c.CorpId))
        {
            foreach (var (nodeId, name) in await connection.QueryAsync<(long, string)>(new CommandDefinition(
                         "SELECT node_id, name FROM edu_nodes WHERE corp_id = @corpId AND node_id IN @ids",
                         new { corpId = corp.Key, ids = corp.Select(c => c.ClassId).ToList() }, cancellationToken: ct)))
            {
                names[(corp.Key, nodeId)] = name;
            }
        }

        return names;
    }

    /// <summary>The teachers of the classes (staff who have left aside), advisers flagged.</summary>
    public async Task<IReadOnlyList<ClassTeacher>> TeachersOfClassesAsync(string corpId, IReadOnlyCollection<long> classIds, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ClassTeacher>(new CommandDefinition("""
            SELECT m.class_id, m.user_id, s.union_id, s.name, m.is_adviser
            FROM class_members m
            LEFT JOIN staff s ON s.corp_id = m.corp_id AND s.user_id = m.user_id
            WHERE m.corp_id = @corpId AND m.role = 'teacher' AND m.class_id IN @classIds
              AND (s.user_id IS NULL OR s.removed_at IS NULL)
            ORDER BY m.class_id, m.user_id
            """, new { corpId, classIds = classIds.ToList() }, cancellationToken: ct))).ToList();
    }

    /// <summary>The current guardians of the classes' students, per class.</summary>
    public async Task<IReadOnlyList<ClassGuardian>> GuardiansOfClassesAsync(string corpId, IReadOnlyCollection<long> classIds, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ClassGuardian>(new CommandDefinition("""
            SELECT m.class_id, m.user_id, g.union_id, g.name
            FROM class_members m
            JOIN guardians g ON g.corp_id = m.corp_id AND g.user_id = m.user_id
            WHERE m.corp_id = @corpId AND m.role = 'guardian' AND m.class_id IN @classIds AND g.removed_at IS NULL
            ORDER BY m.class_id, m.user_id
            """, new { corpId, classIds = classIds.ToList() }, cancellationToken: ct))).ToList();
    }

    /// <summary>One class's students, its guardian relations (with guardian names) and its teachers (with names).</summary>
    public async Task<(IReadOnlyList<StudentView> Students, IReadOnlyList<(string GuardianUserId, string StudentUserId, string Name, string RelationCode)> Guardians,
        IReadOnlyList<(string UserId, string Name, bool IsAdviser)> Teachers)> ClassRosterAsync(string corpId, long classId, CancellationToken ct)
    {
        var args = new { corpId, classId };
        await using var connection = await db.OpenConnectionAsync(ct);
        var students = (await connection.QueryAsync<StudentView>(new CommandDefinition("""
            SELECT s.user_id, s.union_id, s.name, s.student_number, s.removed_at
            FROM class_members m JOIN students s ON s.corp_id = m.corp_id AND s.user_id = m.user_id
            WHERE m.corp_id = @corpId AND m.class_id = @classId AND m.role = 'student' AND s.removed_at IS NULL
            ORDER BY s.user_id
            """, args, cancellationToken: ct))).Select(s => s with { StudentNumber = db.Fields.Unprotect(s.StudentNumber) }).ToList();
        var guardians = (await connection.QueryAsync<(string, string, string, string)>(new CommandDefinition("""
            SELECT r.guardian_user_id, r.student_user_id, g.name, r.relation_code
            FROM guardian_students r JOIN guardians g ON g.corp_id = r.corp_id AND g.user_id = r.guardian_user_id
            WHERE r.corp_id = @corpId AND r.class_id = @classId AND g.removed_at IS NULL
            ORDER BY r.student_user_id, r.guardian_user_id
            """, args, cancellationToken: ct))).ToList();
        var teachers = (await connection.QueryAsync<(string, string, bool)>(new CommandDefinition("""
            SELECT m.user_id, COALESCE(s.name, m.user_id), m.is_adviser
            FROM class_members m LEFT JOIN staff s ON s.corp_id = m.corp_id AND s.user_id = m.user_id AND s.removed_at IS NULL
            WHERE m.corp_id = @corpId AND m.class_id = @classId AND m.role = 'teacher'
            ORDER BY m.user_id
            """, args, cancellationToken: ct))).ToList();
        return (students, guardians, teachers);
    }

    // ---- corps ----

    public async Task<IReadOnlyList<string>> SchoolCorpIdsAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT corp_id FROM corps WHERE kind = 'School' ORDER BY corp_id", cancellationToken: ct))).ToList();
    }

    public async Task<IReadOnlyDictionary<string, string>> CorpNamesAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string, string)>(new CommandDefinition("SELECT corp_id, name FROM corps", cancellationToken: ct)))
            .ToDictionary(r => r.Item1, r => r.Item2);
    }
}
