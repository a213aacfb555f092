using EduDing.DingTalk.Models;
using EduDing.DingTalk.Sandbox.Events;
using EduDing.DingTalk.Sandbox.Model;
using EduDing.DingTalk.Sandbox.Runtime;

namespace EduDing.DingTalk.Sandbox;

/// <summary>
/// Changes to the organizations, for tests and demos, each emitting the events DingTalk would (contract §8): people
/// joining, changing, moving and leaving; departments created, renamed, moved and removed; and 家校 changes (a new
/// class, a student moving class, graduation, guardians added or removed, relations changed).
/// </summary>
public sealed class SandboxMutations(DingTalkSandbox sandbox)
{
    private SandboxWorld World => sandbox.World;

    private long Now => sandbox.Time.GetUtcNow().ToUnixTimeMilliseconds();

    private T Apply<T>(Func<List<SandboxEvent>, T> change)
    {
        var events = new List<SandboxEvent>();
        T result;
        lock (World.Sync)
        {
            result = change(events);
        }

        sandbox.Publish(events);
        return result;
    }

    private void Apply(Action<List<SandboxEvent>> change) => Apply(events =>
    {
        change(events);
        return true;
    });

    // ---- 通讯录 ----

    public SandboxUser AddUser(string corpId, string name, IReadOnlyList<long> deptIds, string? title = null, string? unionId = null) =>
        Apply(events =>
        {
            var corp = World.GetCorp(corpId);
            RequireDepartments(corp, deptIds);
            var user = new SandboxUser
            {
                UserId = World.NewUserId("9"),
                UnionId = World.ScopeUnionId(corp, unionId ?? Guid.NewGuid().ToString("N")[..20]),
                Name = name,
                Title = title,
                HiredDate = Now,
            };
            user.DeptIds.AddRange(deptIds);
            corp.Users[user.UserId] = user;
            events.Add(SandboxEvents.User("user_add_org", corp, Now, user.UserId));
            return user;
        });

    public void UpdateUser(string corpId, string userId, string? name = null, string? title = null, string? mobile = null) =>
        Apply(events =>
        {
            var corp = World.GetCorp(corpId);
            var user = RequireUser(corp, userId);
            user.Name = name ?? user.Name;
            user.Title = title ?? user.Title;
            user.Mobile = mobile ?? user.Mobile;
            foreach (var member in corp.Classes.Values.SelectMany(r => r.Teachers).Where(t => t.UserId == userId))
            {
                member.Name = user.Name;
            }

            events.Add(SandboxEvents.User("user_modify_org", corp, Now, userId));
        });

    public void MoveUser(string corpId, string userId, IReadOnlyList<long> deptIds) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var user = RequireUser(corp, userId);
        RequireDepartments(corp, deptIds);
        user.DeptIds.Clear();
        user.DeptIds.AddRange(deptIds);
        user.LeaderOf.IntersectWith(deptIds);
        events.Add(SandboxEvents.User("user_modify_org", corp, Now, userId));
    });

    public void SetLeader(string corpId, string userId, long deptId, bool leader) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var user = RequireUser(corp, userId);
        if (!user.DeptIds.Contains(deptId))
        {
            throw new SandboxRequestException(40035, "invalidParameter", $"{userId} is not in dept {deptId}.");
        }

        if (leader ? user.LeaderOf.Add(deptId) : user.LeaderOf.Remove(deptId))
        {
            events.Add(SandboxEvents.User("user_modify_org", corp, Now, userId));
        }
    });

    /// <summary>The person leaves the corp: also off every class they taught.</summary>
    public void RemoveUser(string corpId, string userId) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        RequireUser(corp, userId);
        corp.Users.Remove(userId);
        foreach (var dept in corp.Departments.Values)
        {
            dept.ManagerUserIds.Remove(userId);
        }

        foreach (var (classId, roster) in corp.Classes)
        {
            foreach (var teacher in roster.Teachers.Where(t => t.UserId == userId).ToList())
            {
                roster.Teachers.Remove(teacher);
                events.Add(SandboxEvents.EduUserDelete(corp, Now, classId, EduRoles.Teacher, teacher, graduate: false));
            }
        }

        events.Add(SandboxEvents.User("user_leave_org", corp, Now, userId));
    });

    public SandboxDept AddDepartment(string corpId, string name, long parentId) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        RequireDepartments(corp, [parentId]);
        var dept = new SandboxDept { Id = World.NewEnterpriseDeptId(), Name = name, ParentId = parentId };
        corp.Departments[dept.Id] = dept;
        events.Add(SandboxEvents.Dept("org_dept_create", corp, Now, dept.Id));
        return dept;
    });

    public void RenameDepartment(string corpId, long deptId, string name) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        RequireDepartment(corp, deptId).Name = name;
        events.Add(SandboxEvents.Dept("org_dept_modify", corp, Now, deptId));
    });

    public void MoveDepartment(string corpId, long deptId, long newParentId) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var dept = RequireDepartment(corp, deptId);
        RequireDepartments(corp, [newParentId]);
        for (var p = newParentId; p != 0; p = corp.Departments[p].ParentId)
        {
            if (p == deptId || deptId == 1)
            {
                throw new SandboxRequestException(40035, "invalidParameter", "A department cannot move under itself.");
            }
        }

        dept.ParentId = newParentId;
        events.Add(SandboxEvents.Dept("org_dept_modify", corp, Now, deptId));
    });

    /// <summary>As in DingTalk, only an empty department (no members, no sub-departments) can be removed.</summary>
    public void RemoveDepartment(string corpId, long deptId) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        RequireDepartment(corp, deptId);
        if (deptId == 1 || corp.Departments.Values.Any(d => d.ParentId == deptId) ||
            corp.Users.Values.Any(u => u.DeptIds.Contains(deptId)))
        {
            throw new SandboxRequestException(60005, "invalidParameter", "部门中存在子部门或员工，不允许删除");
        }

        corp.Departments.Remove(deptId);
        events.Add(SandboxEvents.Dept("org_dept_remove", corp, Now, deptId));
    });

    // ---- 家校通讯录 ----

    public SandboxEduNode AddClass(string corpId, long gradeId, string name) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        if (!corp.EduNodes.TryGetValue(gradeId, out var grade) || grade.Type != EduNodeType.Grade)
        {
            throw new SandboxRequestException(60003, "NotFound", $"年级不存在 ({gradeId}).");
        }

        var node = new SandboxEduNode
        {
            Id = World.NewEduNodeId(), Name = name, ParentId = gradeId, Type = EduNodeType.Class,
            GradeLevel = grade.GradeLevel,
            StartYear = corp.EduNodes.Values.FirstOrDefault(n => n.ParentId == gradeId && n.StartYear is not null)?.StartYear,
        };
        corp.EduNodes[node.Id] = node;
        corp.Classes[node.Id] = new SandboxClassRoster();
        events.Add(SandboxEvents.EduDept("edu_dept_insert", corp, Now, node, SandboxEdu.Chain(corp, node), SandboxEdu.Feature(node)));
        return node;
    });

    public void RenameClass(string corpId, long classId, string name) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        SandboxWorld.Roster(corp, classId);
        var node = corp.EduNodes[classId];
        node.Name = name;
        events.Add(SandboxEvents.EduDept("edu_dept_update", corp, Now, node, SandboxEdu.Chain(corp, node), SandboxEdu.Feature(node)));
    });

    /// <summary>
    /// Adds a student. Pass the <paramref name="unionId"/> of a student known elsewhere (a school they left) to make it
    /// the same person: the app sees it scoped to this corp's developer account, as for a guardian.
    /// </summary>
    public SandboxEduMember AddStudent(string corpId, long classId, string name, bool withUnionId = true, string? unionId = null) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var roster = SandboxWorld.Roster(corp, classId);
        var student = new SandboxEduMember
        {
            UserId = World.NewUserId("2"),
            Name = name,
            UnionId = !withUnionId ? "" : unionId is null ? Guid.NewGuid().ToString("N")[..20] : World.ScopeUnionId(corp, unionId),
            StudentNo = $"{corp.EduNodes[classId].StartYear}{roster.Students.Count + 1:D3}",
        };
        roster.Students.Add(student);
        events.Add(SandboxEvents.EduUserInsert(corp, Now, classId, EduRoles.Student, student));
        return student;
    });

    public void RenameStudent(string corpId, long classId, string studentId, string name) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var student = RequireMember(SandboxWorld.Roster(corp, classId).Students, studentId);
        student.Name = name;
        events.Add(SandboxEvents.EduUserUpdate(corp, Now, classId, EduRoles.Student, student));
    });

    /// <summary>
    /// Adds a guardian of <paramref name="studentId"/>. Pass the <paramref name="unionId"/> of a guardian known elsewhere
    /// (another school, another class) to make it the same person; within one corp that person keeps one userid.
    /// </summary>
    public SandboxEduMember AddGuardian(string corpId, long classId, string studentId, string name, string relationCode,
        string? unionId = null) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var roster = SandboxWorld.Roster(corp, classId);
        RequireMember(roster.Students, studentId);
        if (!EduRelationCodes.Names.ContainsKey(relationCode))
        {
            throw new SandboxRequestException(40035, "invalidParameter", $"Unknown relation code {relationCode}.");
        }

        // unionId names the person (a person key); this corp's app sees it scoped to its developer account.
        var scoped = unionId is null ? null : World.ScopeUnionId(corp, unionId);
        var guardian = scoped is null
            ? null
            : corp.Classes.Values.SelectMany(r => r.Guardians).FirstOrDefault(g => g.UnionId == scoped);
        guardian ??= new SandboxEduMember
        {
            UserId = World.NewUserId("3"), Name = name, UnionId = scoped ?? Guid.NewGuid().ToString("N")[..20],
        };
        if (roster.Relations.Any(r => r.GuardianUserId == guardian.UserId && r.StudentUserId == studentId))
        {
            throw new SandboxRequestException(40035, "invalidParameter", "The relation exists already.");
        }

        if (!roster.Guardians.Any(g => g.UserId == guardian.UserId))
        {
            roster.Guardians.Add(guardian);
            events.Add(SandboxEvents.EduUserInsert(corp, Now, classId, EduRoles.Guardian, guardian));
        }

        var relation = new SandboxRelation(guardian.UserId, studentId, relationCode);
        roster.Relations.Add(relation);
        events.Add(SandboxEvents.EduRelation("edu_user_relation_insert", corp, Now, classId, relation));
        return guardian;
    });

    public void ChangeRelation(string corpId, long classId, string guardianId, string studentId, string relationCode) =>
        Apply(events =>
        {
            var corp = World.GetCorp(corpId);
            var roster = SandboxWorld.Roster(corp, classId);
            var index = roster.Relations.FindIndex(r => r.GuardianUserId == guardianId && r.StudentUserId == studentId);
            if (index < 0)
            {
                throw new SandboxRequestException(40035, "invalidParameter", "No such relation.");
            }

            roster.Relations[index] = roster.Relations[index] with { RelationCode = relationCode };
            events.Add(SandboxEvents.EduRelation("edu_user_relation_update", corp, Now, classId, roster.Relations[index]));
        });

    /// <summary>Ends one guardian-student relation; a guardian left with no child in the class leaves the class.</summary>
    public void RemoveGuardian(string corpId, long classId, string guardianId, string studentId) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var roster = SandboxWorld.Roster(corp, classId);
        var relation = roster.Relations.FirstOrDefault(r => r.GuardianUserId == guardianId && r.StudentUserId == studentId)
                       ?? throw new SandboxRequestException(40035, "invalidParameter", "No such relation.");
        roster.Relations.Remove(relation);
        events.Add(SandboxEvents.EduRelation("edu_user_relation_delete", corp, Now, classId, relation));
        RemoveGuardianIfChildless(corp, classId, roster, guardianId, events, graduate: false);
    });

    /// <summary>The student changes class within the school, taking their guardians' relations along.</summary>
    public void MoveStudent(string corpId, long fromClassId, string studentId, long toClassId) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var from = SandboxWorld.Roster(corp, fromClassId);
        var to = SandboxWorld.Roster(corp, toClassId);
        var student = RequireMember(from.Students, studentId);
        var relations = from.Relations.Where(r => r.StudentUserId == studentId).ToList();
        var guardians = relations.Select(r => from.Guardians.First(g => g.UserId == r.GuardianUserId)).ToList();

        foreach (var relation in relations)
        {
            from.Relations.Remove(relation);
            events.Add(SandboxEvents.EduRelation("edu_user_relation_delete", corp, Now, fromClassId, relation));
        }

        from.Students.Remove(student);
        events.Add(SandboxEvents.EduUserDelete(corp, Now, fromClassId, EduRoles.Student, student, graduate: false));
        foreach (var guardian in guardians)
        {
            RemoveGuardianIfChildless(corp, fromClassId, from, guardian.UserId, events, graduate: false);
        }

        to.Students.Add(student);
        events.Add(SandboxEvents.EduUserInsert(corp, Now, toClassId, EduRoles.Student, student));
        foreach (var guardian in guardians.Where(g => !to.Guardians.Any(t => t.UserId == g.UserId)))
        {
            to.Guardians.Add(guardian);
            events.Add(SandboxEvents.EduUserInsert(corp, Now, toClassId, EduRoles.Guardian, guardian));
        }

        foreach (var relation in relations)
        {
            to.Relations.Add(relation);
            events.Add(SandboxEvents.EduRelation("edu_user_relation_insert", corp, Now, toClassId, relation));
        }
    });

    /// <summary>The student leaves the school.</summary>
    public void RemoveStudent(string corpId, long classId, string studentId) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var roster = SandboxWorld.Roster(corp, classId);
        var student = RequireMember(roster.Students, studentId);
        foreach (var relation in roster.Relations.Where(r => r.StudentUserId == studentId).ToList())
        {
            roster.Relations.Remove(relation);
            events.Add(SandboxEvents.EduRelation("edu_user_relation_delete", corp, Now, classId, relation));
            RemoveGuardianIfChildless(corp, classId, roster, relation.GuardianUserId, events, graduate: false);
        }

        roster.Students.Remove(student);
        events.Add(SandboxEvents.EduUserDelete(corp, Now, classId, EduRoles.Student, student, graduate: false));
    });

    public void AddTeacher(string corpId, long classId, string userId, bool adviser) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var roster = SandboxWorld.Roster(corp, classId);
        var user = RequireUser(corp, userId);
        if (roster.Teachers.Any(t => t.UserId == userId))
        {
            throw new SandboxRequestException(40035, "invalidParameter", "Already a teacher of the class.");
        }

        var teacher = new SandboxEduMember { UserId = userId, Name = user.Name, UnionId = user.UnionId, IsAdviser = adviser };
        roster.Teachers.Add(teacher);
        events.Add(SandboxEvents.EduUserInsert(corp, Now, classId, EduRoles.Teacher, teacher));
    });

    public void RemoveTeacher(string corpId, long classId, string userId) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var roster = SandboxWorld.Roster(corp, classId);
        var teacher = RequireMember(roster.Teachers, userId);
        roster.Teachers.Remove(teacher);
        events.Add(SandboxEvents.EduUserDelete(corp, Now, classId, EduRoles.Teacher, teacher, graduate: false));
    });

    /// <summary>The class graduates: everyone in it is removed with is_graduate, then the class itself.</summary>
    public void GraduateClass(string corpId, long classId) => Apply(events =>
    {
        var corp = World.GetCorp(corpId);
        var roster = SandboxWorld.Roster(corp, classId);
        foreach (var (role, members) in new[] { (EduRoles.Student, roster.Students), (EduRoles.Guardian, roster.Guardians), (EduRoles.Teacher, roster.Teachers) })
        {
            foreach (var member in members)
            {
                events.Add(SandboxEvents.EduUserDelete(corp, Now, classId, role, member, graduate: true));
            }
        }

        corp.Classes.Remove(classId);
        corp.EduNodes.Remove(classId);
        events.Add(SandboxEvents.EduDeptDelete(corp, Now, classId, graduate: true));
    });

    private void RemoveGuardianIfChildless(SandboxCorp corp, long classId, SandboxClassRoster roster, string guardianId,
        List<SandboxEvent> events, bool graduate)
    {
        if (roster.Relations.Any(r => r.GuardianUserId == guardianId))
        {
            return;
        }

        var guardian = roster.Guardians.FirstOrDefault(g => g.UserId == guardianId);
        if (guardian is not null)
        {
            roster.Guardians.Remove(guardian);
            events.Add(SandboxEvents.EduUserDelete(corp, Now, classId, EduRoles.Guardian, guardian, graduate));
        }
    }

    private static SandboxUser RequireUser(SandboxCorp corp, string userId) =>
        corp.Users.TryGetValue(userId, out var user)
            ? user
            : throw new SandboxRequestException(60121, "NotFound", $"找不到该用户 ({userId}).");

    private static SandboxDept RequireDepartment(SandboxCorp corp, long deptId) =>
        corp.Departments.TryGetValue(deptId, out var dept)
            ? dept
            : throw new SandboxRequestException(60003, "NotFound", $"部门不存在 ({deptId}).");

    private static void RequireDepartments(SandboxCorp corp, IEnumerable<long> deptIds)
    {
        foreach (var id in deptIds)
        {
            RequireDepartment(corp, id);
        }
    }

    private static SandboxEduMember RequireMember(List<SandboxEduMember> members, string userId) =>
        members.FirstOrDefault(m => m.UserId == userId)
        ?? throw new SandboxRequestException(60121, "NotFound", $"找不到该用户 ({userId}).");
}
