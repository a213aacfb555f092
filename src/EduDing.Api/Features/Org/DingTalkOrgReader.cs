using System.Collections.Concurrent;
using EduDing.Api.Features.DingTalk;
using EduDing.DingTalk;
using EduDing.DingTalk.Models;

namespace EduDing.Api.Features.Org;

/// <summary>
/// Reads a corp's organization from DingTalk into rows, calling no more than the data needs: one listsub per
/// department, user/list pages per department (it already carries every field and the leader flag, so no per-user
/// detail call), one edu/dept/list per non-class node, and per class its three role lists and its relations.
/// </summary>
internal sealed class DingTalkOrgReader(DingTalkClient client)
{
    private const int UnitAttempts = 3;

    /// <summary>
    /// One unit of reading (a department's listing, a class) tried again when the client's own bounded retries were not
    /// enough for a transient error: one busy class must not fail a city-wide pass.
    /// </summary>
    private static async Task<T> UnitAsync<T>(Func<Task<T>> read, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await read();
            }
            catch (Exception ex) when (attempt < UnitAttempts && IsTransient(ex))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), ct);
            }
        }
    }

    private static bool IsTransient(Exception ex) => ex switch
    {
        DingTalkIpBannedException => false,
        DingTalkException d => d.Kind is DingTalkErrorKind.Busy or DingTalkErrorKind.GlobalQps or DingTalkErrorKind.AppQps,
        HttpRequestException or TimeoutException => true,
        _ => false,
    };

    /// <summary>A unit of reading whose subject may vanish while a pass runs: null when DingTalk says it is gone.</summary>
    private static async Task<T?> UnlessGoneAsync<T>(Func<Task<T>> read, CancellationToken ct) where T : class
    {
        try
        {
            return await UnitAsync(read, ct);
        }
        catch (DingTalkException ex) when (IsGone(ex))
        {
            return null;
        }
    }

    /// <summary>DingTalk's answers meaning "no longer exists".</summary>
    public static bool IsGone(DingTalkException ex) => ex.ErrCode is 60003 or 60121 or 33012 or 40003;

    public async Task<IReadOnlyList<DepartmentRow>> ReadDepartmentsAsync(CorpConfig corp, Action<string> count, CancellationToken ct)
    {
        var root = await UnitAsync(() => client.GetDepartmentAsync(corp.App, 1, ct), ct);
        var all = new List<DepartmentRow> { new(1, root.Name, 0) };
        var level = new List<long> { 1 };
        while (level.Count > 0)
        {
            // A department removed between its parent's listing and its own is left out, not a failed run.
            var children = await Task.WhenAll(level.Select(async id =>
                (Id: id, Children: await UnlessGoneAsync(() => client.ListSubDepartmentsAsync(corp.App, id, ct), ct))));
            foreach (var gone in children.Where(c => c.Children is null))
            {
                all.RemoveAll(d => d.DeptId == gone.Id);
                count("departmentsGoneWhileRead");
            }

            level = [];
            foreach (var dept in children.SelectMany(c => c.Children ?? []))
            {
                // The 家校 root shows in the enterprise tree under a negative id; it is read through the edu APIs.
                if (dept.DeptId < 0)
                {
                    count("virtualDepartmentsSkipped");
                    continue;
                }

                all.Add(new DepartmentRow(dept.DeptId, dept.Name, dept.ParentId ?? 1));
                level.Add(dept.DeptId);
            }
        }

        return all;
    }

    /// <summary>Everyone in any department, once each, with every department they are in and where they lead.</summary>
    public async Task<IReadOnlyList<StaffRow>> ReadStaffAsync(CorpConfig corp, IReadOnlyList<DepartmentRow> departments,
        CancellationToken ct)
    {
        var people = new ConcurrentDictionary<string, (DepartmentUser User, ConcurrentDictionary<long, bool> Departments)>();
        await Task.WhenAll(departments.Select(async d =>
        {
            foreach (var user in await UnlessGoneAsync(() => client.ListAllUsersAsync(corp.App, d.DeptId, ct), ct) ?? [])
            {
                var entry = people.GetOrAdd(user.UserId, _ => (user, new ConcurrentDictionary<long, bool>()));
                entry.Departments[d.DeptId] = user.Leader;
            }
        }));

        return people.Values.Select(p => new StaffRow(p.User.UserId, p.User.UnionId, p.User.Name, p.User.Title, p.User.JobNumber,
                p.User.Admin, p.User.Boss,
                p.Departments.OrderBy(d => d.Key).Select(d => new StaffMembership(d.Key, d.Value)).ToList()))
            .OrderBy(s => s.UserId, StringComparer.Ordinal).ToList();
    }

    /// <summary>One person as DingTalk has them now; null when they left the corp.</summary>
    public async Task<StaffRow?> ReadUserAsync(CorpConfig corp, string userId, CancellationToken ct)
    {
        try
        {
            var user = await UnitAsync(() => client.GetUserAsync(corp.App, userId, ct), ct);
            var leads = user.LeaderInDept?.Where(l => l.Leader).Select(l => l.DeptId).ToHashSet() ?? [];
            return new StaffRow(user.UserId, user.UnionId, user.Name, user.Title, user.JobNumber, user.Admin, user.Boss,
                (user.DeptIdList ?? []).Select(d => new StaffMembership(d, leads.Contains(d))).ToList());
        }
        catch (DingTalkException ex) when (IsGone(ex))
        {
            return null;
        }
    }

    public async Task<DepartmentRow?> ReadDepartmentAsync(CorpConfig corp, long deptId, CancellationToken ct)
    {
        try
        {
            var dept = await UnitAsync(() => client.GetDepartmentAsync(corp.App, deptId, ct), ct);
            return new DepartmentRow(dept.DeptId, dept.Name, dept.ParentId ?? 0);
        }
        catch (DingTalkException ex) when (IsGone(ex))
        {
            return null;
        }
    }

    /// <summary>The 家校 tree from the top, level by level; classes are leaves, so their children are never listed.</summary>
    public async Task<IReadOnlyList<EduNodeRow>> ReadEduTreeAsync(CorpConfig corp, CancellationToken ct)
    {
        var all = new List<EduNodeRow>();
        var level = (await UnitAsync(() => client.ListAllEduDeptsAsync(corp.App, null, ct), ct)).Select(n => ToRow(n, null)).ToList();
        while (level.Count > 0)
        {
            all.AddRange(level);
            var parents = level.Where(n => n.NodeType != "class").ToList();
            var children = await Task.WhenAll(parents.Select(async p =>
                (await UnitAsync(() => client.ListAllEduDeptsAsync(corp.App, p.NodeId, ct), ct)).Select(n => ToRow(n, p.NodeId))));
            level = children.SelectMany(c => c).ToList();
        }

        return all;
    }

    public async Task<EduNodeRow?> ReadEduNodeAsync(CorpConfig corp, long nodeId, CancellationToken ct)
    {
        try
        {
            var node = await UnitAsync(() => client.GetEduDeptAsync(corp.App, nodeId, ct), ct);
            return ToRow(node, node.Ancestors.Count > 0 ? node.Ancestors[^1] : null);
        }
        catch (DingTalkException ex) when (IsGone(ex))
        {
            return null;
        }
    }

    /// <summary>A class's people and relations, every page; null when the class no longer exists.</summary>
    public async Task<ClassRoster?> ReadClassAsync(CorpConfig corp, long classId, CancellationToken ct)
    {
        try
        {
            return await UnitAsync(async () =>
            {
                var students = client.ListAllEduUsersAsync(corp.App, classId, EduRoles.Student, ct);
                var guardians = client.ListAllEduUsersAsync(corp.App, classId, EduRoles.Guardian, ct);
                var teachers = client.ListAllEduUsersAsync(corp.App, classId, EduRoles.Teacher, ct);
                var relations = client.ListAllEduRelationsAsync(corp.App, classId, ct);
                await Task.WhenAll(students, guardians, teachers, relations);
                return new ClassRoster(
                    (await students).Select(s => new RosterPerson(s.UserId, s.Name, s.UnionId, s.StudentNumber)).ToList(),
                    (await guardians).Select(g => new RosterPerson(g.UserId, g.Name, g.UnionId, null)).ToList(),
                    (await teachers).Select(t => new RosterTeacher(t.UserId, t.IsAdviser)).ToList(),
                    (await relations).Select(r => new RosterRelation(r.FromUserId, r.ToUserId, r.RelationCode)).ToList());
            }, ct);
        }
        catch (DingTalkException ex) when (IsGone(ex))
        {
            return null;
        }
    }

    private static EduNodeRow ToRow(EduDept node, long? parent)
    {
        var feature = node.ParsedFeature;
        return new EduNodeRow(node.DeptId, node.Name, string.IsNullOrEmpty(node.Nick) ? null : node.Nick, parent, node.DeptType,
            feature.GradeLevel, feature.StartYear);
    }
}
