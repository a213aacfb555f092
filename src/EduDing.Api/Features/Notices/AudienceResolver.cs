using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;

namespace EduDing.Api.Features.Notices;

/// <summary>
/// Turns an audience into DingTalk userids per corp from the org directory, at the moment of sending, each person once
/// (the first selector and class that reached them gives the recorded reason).
/// </summary>
internal sealed class AudienceResolver(OrgDirectory directory)
{
    public async Task<IReadOnlyList<NoticeRecipient>> ResolveAsync(IReadOnlyList<AudienceSelector> audience, CancellationToken ct)
    {
        var recipients = new Dictionary<(string, string), NoticeRecipient>();
        var schools = await directory.SchoolCorpIdsAsync(ct);
        IReadOnlyDictionary<string, string>? corpNames = null;
        foreach (var selector in audience)
        {
            foreach (var corpId in selector.CorpId is { } one ? [one] : schools)
            {
                var roles = selector.Roles ?? [];
                if (roles.Contains(AudienceRole.Staff))
                {
                    corpNames ??= await directory.CorpNamesAsync(ct);
                    var corpName = corpNames.GetValueOrDefault(corpId, corpId);
                    foreach (var person in await directory.StaffOfAsync(corpId, ct))
                    {
                        recipients.TryAdd((corpId, person.UserId),
                            new NoticeRecipient(corpId, person.UserId, person.UnionId, person.Name, AudienceRole.Staff, null, $"staff of {corpName}"));
                    }
                }

                var classRoles = roles.Where(r => r != AudienceRole.Staff).ToList();
                if (classRoles.Count == 0)
                {
                    continue;
                }

                var classes = (await directory.ClassesAsync(corpId, new ClassFilter(selector.ClassIds, selector.GradeIds, selector.PeriodIds,
                    selector.GradeLevels), ct)).ToDictionary(c => c.ClassId, c => c.Name);
                if (classes.Count == 0)
                {
                    continue;
                }

                var classIds = classes.Keys.ToList();
                if (classRoles.Contains(AudienceRole.Teachers) || classRoles.Contains(AudienceRole.Advisers))
                {
                    var advisersOnly = !classRoles.Contains(AudienceRole.Teachers);
                    foreach (var teacher in await directory.TeachersOfClassesAsync(corpId, classIds, ct))
                    {
                        if (advisersOnly && !teacher.IsAdviser)
                        {
                            continue;
                        }

                        var role = teacher.IsAdviser ? AudienceRole.Advisers : AudienceRole.Teachers;
                        recipients.TryAdd((corpId, teacher.UserId), new NoticeRecipient(corpId, teacher.UserId, teacher.UnionId,
                            teacher.Name ?? teacher.UserId, role, teacher.ClassId,
                            $"{(teacher.IsAdviser ? Roles.Adviser : Roles.Teacher)} of {classes[teacher.ClassId]}"));
                    }
                }

                if (classRoles.Contains(AudienceRole.Guardians))
                {
                    foreach (var guardian in await directory.GuardiansOfClassesAsync(corpId, classIds, ct))
                    {
                        recipients.TryAdd((corpId, guardian.UserId), new NoticeRecipient(corpId, guardian.UserId, guardian.UnionId, guardian.Name,
                            AudienceRole.Guardians, guardian.ClassId, $"guardian in {classes[guardian.ClassId]}"));
                    }
                }
            }
        }

        return recipients.Values.ToList();
    }

    /// <summary>Which of <paramref name="nodeIds"/> are current nodes of <paramref name="nodeType"/> in the corp.</summary>
    public Task<IReadOnlySet<long>> ExistingNodesAsync(string corpId, string nodeType, IReadOnlyCollection<long> nodeIds,
        CancellationToken ct) => directory.ExistingNodesAsync(corpId, nodeType, nodeIds, ct);
}
