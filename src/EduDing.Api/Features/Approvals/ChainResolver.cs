using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Approvals;

/// <summary>
/// Turns a step of a chain into people, from the org mirror as it is when the step opens (docs/approvals.md): people who
/// left are never chosen, and a step whose pool is empty escalates to the school's admins, then to the bureau's.
/// </summary>
internal sealed class ChainResolver(OrgDirectory directory, CorpDirectory corps, IOptions<IdentityOptions> identity)
{
    public const string Resolved = "resolved";
    public const string Escalated = "escalated";

    /// <summary>The step's pool, without <paramref name="exclude"/> (people who already had their turn at this step).</summary>
    public async Task<IReadOnlyList<Approver>> ResolveAsync(ApprovalStep step, string corpId, long? classId,
        IReadOnlySet<(string CorpId, string UserId)> exclude, CancellationToken ct)
    {
        var pool = step.Approvers switch
        {
            ApproverSource.ClassAdviser when classId is { } id => (await directory.TeachersOfClassesAsync(corpId, [id], ct))
                .Where(t => t.IsAdviser && t.Name is not null)
                .Select(t => new DirectoryPerson(corpId, t.UserId, t.Name!, t.UnionId)).ToList(),
            ApproverSource.SchoolAdmins => await AdminsAsync(corpId, ct),
            ApproverSource.BureauAdmins => await BureauAdminsAsync(ct),
            ApproverSource.Named => await directory.CurrentStaffAsync(step.CorpId ?? corpId, step.UserIds ?? [], ct),
            ApproverSource.ChildDataOfficer => await ChildDataOfficersAsync(ct),
            _ => [],
        };
        return pool.Where(p => !exclude.Contains((p.CorpId, p.UserId)))
            .Select(p => new Approver(p.CorpId, p.UserId, p.Name, p.UnionId, Resolved)).ToList();
    }

    /// <summary>
    /// Whom an empty step goes to: the school's admins; when it has none left, the bureau's admins. The child-data
    /// officer's step goes to nobody: it waits for an officer to be configured or to appear in the mirror.
    /// </summary>
    public async Task<IReadOnlyList<Approver>> EscalateAsync(ApprovalStep step, string corpId, IReadOnlySet<(string CorpId, string UserId)> exclude,
        CancellationToken ct)
    {
        if (step.Approvers == ApproverSource.ChildDataOfficer)
        {
            return [];
        }

        foreach (var pool in new Func<Task<IReadOnlyList<DirectoryPerson>>>[] { () => AdminsAsync(corpId, ct), () => BureauAdminsAsync(ct) })
        {
            var people = (await pool()).Where(p => !exclude.Contains((p.CorpId, p.UserId)))
                .Select(p => new Approver(p.CorpId, p.UserId, p.Name, p.UnionId, Escalated)).ToList();
            if (people.Count > 0)
            {
                return people;
            }
        }

        return [];
    }

    /// <summary>Of these accounts, those that are no longer staff of their corp.</summary>
    public async Task<IReadOnlySet<(string CorpId, string UserId)>> DepartedAsync(IReadOnlyCollection<(string CorpId, string UserId)> people,
        CancellationToken ct)
    {
        var departed = new HashSet<(string, string)>();
        foreach (var corp in people.GroupBy(p => p.CorpId))
        {
            foreach (var chunk in corp.Select(p => p.UserId).Distinct().Chunk(500))
            {
                var present = (await directory.CurrentStaffAsync(corp.Key, chunk, ct)).Select(p => p.UserId).ToHashSet(StringComparer.Ordinal);
                departed.UnionWith(chunk.Where(u => !present.Contains(u)).Select(u => (corp.Key, u)));
            }
        }

        return departed;
    }

    private async Task<IReadOnlyList<DirectoryPerson>> ChildDataOfficersAsync(CancellationToken ct)
    {
        var officers = new List<DirectoryPerson>();
        foreach (var corp in identity.Value.ChildDataOfficerAccounts().GroupBy(o => o.CorpId))
        {
            officers.AddRange(await directory.CurrentStaffAsync(corp.Key, corp.Select(o => o.UserId).ToList(), ct));
        }

        return officers;
    }

    private Task<IReadOnlyList<DirectoryPerson>> AdminsAsync(string corpId, CancellationToken ct) =>
        directory.AdminsAsync(corpId, identity.Value.SchoolAdminTitles, identity.Value.BureauAdminDepartmentIds, ct);

    private async Task<IReadOnlyList<DirectoryPerson>> BureauAdminsAsync(CancellationToken ct)
    {
        var admins = new List<DirectoryPerson>();
        foreach (var bureau in corps.All.Where(c => c.Kind == CorpKind.Bureau))
        {
            admins.AddRange(await AdminsAsync(bureau.CorpId, ct));
        }

        return admins;
    }
}
