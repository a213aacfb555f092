using EduDing.DingTalk.Sandbox;
using EduDing.DingTalk.Sandbox.Runtime;

namespace EduDing.Api.Tests.Features.Org;

/// <summary>
/// Random changes of every kind the sandbox can make, drawn with a seed: people joining, changing, moving, leading and
/// leaving; departments created, renamed, moved and removed; classes created and graduating; students added, renamed,
/// moved and leaving; guardians added (some already guardians in another school), removed and re-related; teachers on
/// and off classes. A draw that does not apply (an empty class, a non-empty department) is skipped and drawn again.
/// </summary>
internal static class RandomMutations
{
    private static readonly string[] Codes = ["F", "M", "GF", "GM", "GFA", "GMA", "U", "A", "B", "S", "O"];

    public static async Task ApplyAsync(DingTalkSandbox sandbox, int seed, int count, Func<int, Task>? after = null)
    {
        var random = new Random(seed);
        var mutate = sandbox.Mutate;
        var applied = 0;
        while (applied < count)
        {
            Action? change;
            lock (sandbox.World.Sync)
            {
                change = Draw(sandbox, random, mutate);
            }

            if (change is null)
            {
                continue;
            }

            try
            {
                change();
            }
            catch (SandboxRequestException)
            {
                continue;
            }

            applied++;
            if (after is not null)
            {
                await after(applied);
            }
        }
    }

    private static Action? Draw(DingTalkSandbox sandbox, Random random, SandboxMutations mutate)
    {
        var corps = sandbox.World.Corps;
        var corp = corps[random.Next(corps.Count)];
        var id = corp.CorpId;
        T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];
        var users = corp.Users.Values.ToList();
        var depts = corp.Departments.Keys.ToList();
        var classes = corp.Classes.Keys.ToList();
        var user = users.Count > 0 ? Pick(users) : null;
        var op = random.Next(20);
        if (classes.Count == 0 && op >= 7)
        {
            op = random.Next(7);
        }

        switch (op)
        {
            case 0:
                return user is null ? null : () => mutate.UpdateUser(id, user.UserId, title: Pick(["教师", "班主任", "教研组长", "主任"]));
            case 1:
            {
                var target = depts.OrderBy(_ => random.Next()).Take(random.Next(1, 3)).ToList();
                return user is null || user.Admin ? null : () => mutate.MoveUser(id, user.UserId, target);
            }
            case 2:
                return user is null || user.DeptIds.Count == 0 ? null : () => mutate.SetLeader(id, user.UserId, user.DeptIds[0], !user.LeaderOf.Contains(user.DeptIds[0]));
            case 3:
            {
                var dept = Pick(depts);
                return () => mutate.AddUser(id, $"新同事{random.Next(1000)}", [dept], "教师");
            }
            case 4:
                return user is null || user.Admin || users.Count < 5 ? null : () => mutate.RemoveUser(id, user.UserId);
            case 5:
            {
                var parent = Pick(depts);
                var name = $"专项组{random.Next(1000)}";
                return random.Next(2) == 0
                    ? () => mutate.AddDepartment(id, name, parent)
                    : parent == 1 ? null : () => mutate.RenameDepartment(id, parent, name);
            }
            case 6:
            {
                var dept = Pick(depts);
                var parent = Pick(depts);
                return dept == 1 ? null : random.Next(2) == 0 ? () => mutate.RemoveDepartment(id, dept) : () => mutate.MoveDepartment(id, dept, parent);
            }
        }

        var classId = Pick(classes);
        var roster = corp.Classes[classId];
        var student = roster.Students.Count > 0 ? Pick(roster.Students) : null;
        switch (op)
        {
            case 7:
            {
                var grade = corp.EduNodes[classId].ParentId!.Value;
                return () => mutate.AddClass(id, grade, $"新{random.Next(100)}班");
            }
            case 8 or 9:
                return () => mutate.AddStudent(id, classId, $"新生{random.Next(1000)}", withUnionId: random.Next(5) > 0);
            case 10:
                return student is null ? null : () => mutate.RenameStudent(id, classId, student.UserId, student.Name + "乐");
            case 11 or 12:
            {
                var to = Pick(classes);
                return student is null || to == classId ? null : () => mutate.MoveStudent(id, classId, student.UserId, to);
            }
            case 13:
                return student is null ? null : () => mutate.RemoveStudent(id, classId, student.UserId);
            case 14 or 15:
            {
                // Sometimes a guardian who already has a child in another school: the same person (unionid).
                var elsewhere = corps.Where(c => c != corp).SelectMany(c => c.Classes.Values.SelectMany(r => r.Guardians)).ToList();
                var unionId = random.Next(3) == 0 && elsewhere.Count > 0 ? Pick(elsewhere).UnionId : null;
                return student is null ? null : () => mutate.AddGuardian(id, classId, student.UserId, $"家长{random.Next(1000)}", Pick(Codes), unionId);
            }
            case 16:
            {
                var relation = roster.Relations.Count > 0 ? Pick(roster.Relations) : null;
                return relation is null ? null : random.Next(2) == 0
                    ? () => mutate.RemoveGuardian(id, classId, relation.GuardianUserId, relation.StudentUserId)
                    : () => mutate.ChangeRelation(id, classId, relation.GuardianUserId, relation.StudentUserId, Pick(Codes));
            }
            case 17:
                return user is null ? null : () => mutate.AddTeacher(id, classId, user.UserId, adviser: false);
            case 18:
                return roster.Teachers.Count == 0 ? null : () => mutate.RemoveTeacher(id, classId, Pick(roster.Teachers).UserId);
            default:
                return random.Next(6) == 0 && classes.Count > 3 ? () => mutate.GraduateClass(id, classId) : null;
        }
    }
}
