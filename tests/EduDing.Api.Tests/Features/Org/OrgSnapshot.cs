using EduDing.Api.Features.Org;
using EduDing.DingTalk.Sandbox;
using EduDing.DingTalk.Sandbox.Events;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.Api.Tests.Features.Org;

/// <summary>
/// Everything of one corp that the mirror must hold, as sorted lines, built either from the sandbox (the truth) or from
/// the database (the mirror, active rows only). Equal snapshots mean an exact mirror.
/// </summary>
internal sealed record OrgSnapshot(string CorpId, IReadOnlyList<string> Departments, IReadOnlyList<string> Staff,
    IReadOnlyList<string> StaffDepartments, IReadOnlyList<string> EduNodes, IReadOnlyList<string> Students,
    IReadOnlyList<string> Guardians, IReadOnlyList<string> ClassMembers, IReadOnlyList<string> Relations)
{
    public static OrgSnapshot FromSandbox(DingTalkSandbox sandbox, SandboxCorp corp)
    {
        lock (sandbox.World.Sync)
        {
            var rosters = corp.Classes;
            return new OrgSnapshot(corp.CorpId,
                Sorted(corp.Departments.Values.Select(d => $"{d.Id}|{d.Name}|{d.ParentId}")),
                Sorted(corp.Users.Values.Select(u => $"{u.UserId}|{N(u.UnionId)}|{u.Name}|{N(u.Title)}|{N(u.JobNumber)}|{u.Admin}|{u.Boss}")),
                Sorted(corp.Users.Values.SelectMany(u => u.DeptIds.Distinct().Select(d => $"{u.UserId}|{d}|{u.LeaderOf.Contains(d)}"))),
                Sorted(corp.EduNodes.Values.Select(n =>
                    $"{n.Id}|{n.Name}|{N(n.Nick)}|{n.ParentId}|{EduNodeTypes.Name(n.Type)}|{n.GradeLevel}|{N(n.StartYear)}")),
                Sorted(rosters.Values.SelectMany(r => r.Students).DistinctBy(s => s.UserId)
                    .Select(s => $"{s.UserId}|{N(s.UnionId)}|{s.Name}|{N(s.StudentNo)}")),
                Sorted(rosters.Values.SelectMany(r => r.Guardians).DistinctBy(g => g.UserId).Select(g => $"{g.UserId}|{N(g.UnionId)}|{g.Name}")),
                Sorted(rosters.SelectMany(r =>
                    r.Value.Students.Select(s => $"{r.Key}|student|{s.UserId}|False")
                        .Concat(r.Value.Guardians.Select(g => $"{r.Key}|guardian|{g.UserId}|False"))
                        .Concat(r.Value.Teachers.Select(t => $"{r.Key}|teacher|{t.UserId}|{t.IsAdviser}")))),
                Sorted(rosters.SelectMany(r => r.Value.Relations.Select(x => $"{r.Key}|{x.GuardianUserId}|{x.StudentUserId}|{x.RelationCode}"))));
        }
    }

    public static async Task<OrgSnapshot> FromDatabaseAsync(OrgRepository org, string corpId)
    {
        var ct = CancellationToken.None;
        return new OrgSnapshot(corpId,
            Sorted((await org.ListDepartmentsAsync(corpId, ct)).Select(d => $"{d.DeptId}|{d.Name}|{d.ParentDeptId}")),
            Sorted((await org.ListStaffAsync(corpId, false, ct)).Select(u =>
                $"{u.UserId}|{N(u.UnionId)}|{u.Name}|{N(u.Title)}|{N(u.JobNumber)}|{u.IsAdmin}|{u.IsBoss}")),
            Sorted((await org.ListStaffDepartmentsAsync(corpId, ct)).Select(m => $"{m.UserId}|{m.DeptId}|{m.IsLeader}")),
            Sorted((await org.ListEduNodesAsync(corpId, ct)).Select(n =>
                $"{n.NodeId}|{n.Name}|{N(n.Nick)}|{n.ParentNodeId}|{n.NodeType}|{n.GradeLevel}|{N(n.StartYear)}")),
            Sorted((await org.ListStudentsAsync(corpId, false, ct)).Select(s => $"{s.UserId}|{N(s.UnionId)}|{s.Name}|{N(s.StudentNumber)}")),
            Sorted((await org.ListGuardiansAsync(corpId, false, ct)).Select(g => $"{g.UserId}|{N(g.UnionId)}|{g.Name}")),
            Sorted((await org.ListClassMembersAsync(corpId, null, ct)).Select(m => $"{m.ClassId}|{m.Role}|{m.UserId}|{m.IsAdviser}")),
            Sorted((await org.ListRelationsAsync(corpId, null, ct)).Select(r => $"{r.ClassId}|{r.GuardianUserId}|{r.StudentUserId}|{r.RelationCode}")));
    }

    /// <summary>The first difference, for a readable failure; null when equal.</summary>
    public string? Difference(OrgSnapshot other)
    {
        foreach (var (name, mine, theirs) in new[]
                 {
                     ("departments", Departments, other.Departments), ("staff", Staff, other.Staff),
                     ("staff departments", StaffDepartments, other.StaffDepartments), ("edu nodes", EduNodes, other.EduNodes),
                     ("students", Students, other.Students), ("guardians", Guardians, other.Guardians),
                     ("class members", ClassMembers, other.ClassMembers), ("relations", Relations, other.Relations),
                 })
        {
            var missing = mine.Except(theirs).Take(3).ToList();
            var extra = theirs.Except(mine).Take(3).ToList();
            if (missing.Count > 0 || extra.Count > 0 || mine.Count != theirs.Count)
            {
                return $"{CorpId} {name}: {mine.Count} vs {theirs.Count}; only in the first: [{string.Join("; ", missing)}]; " +
                       $"only in the second: [{string.Join("; ", extra)}]";
            }
        }

        return null;
    }

    private static string N(string? value) => string.IsNullOrEmpty(value) ? "-" : value;

    private static IReadOnlyList<string> Sorted(IEnumerable<string> lines) => lines.Order(StringComparer.Ordinal).ToList();
}
