using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;

namespace EduDing.Api.Features.Notices;

/// <summary>
/// Turns an audience into DingTalk userids per corp from the org directory, at the moment of sending, each person once
/// (the first selector and class that reached them gives the recorded reason).
/// </summary>
internal sealed class AudienceResolver(OrgDirectory directory)
{
    /// <summary>Everyone the audience reaches, each once; what the outbox records at the moment of sending.</summary>
    public async Task<IReadOnlyList<NoticeRecipient>> ResolveAsync(IReadOnlyList<AudienceSelector> audience, CancellationToken ct)
    {
        var recipients = new Dictionary<(string, string), NoticeRecipient>();
        await foreach (var recipient in EnumerateAsync(audience, ct))
        {
            recipients.TryAdd((recipient.CorpId, recipient.UserId), recipient);
        }

        return recipients.Values.ToList();
    }

    /// <summary>
    /// Whether the audience reaches anyone now: composing checks this, stopping at the first person, and the audience
    /// is resolved once, when the notice is sent.
    /// </summary>
    public async Task<bool> ReachesAnyoneAsync(IReadOnlyList<AudienceSelector> audience, CancellationToken ct)
    {
        await foreach (var _ in EnumerateAsync(audience, ct))
        {
            return true;
        }

        return false;
    }

    private async IAsyncEnumerable<NoticeRecipient> EnumerateAsync(IReadOnlyList<AudienceSelector> audience,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
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
                        yield return new NoticeRecipient(corpId, person.UserId, person.UnionId, person.Name, AudienceRole.Staff, null,
                            $"staff of {corpName}");
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
                        yield return new NoticeRecipient(corpId, teacher.UserId, teacher.UnionId, teacher.Name ?? teacher.UserId, role,
                            teacher.ClassId, $"{(teacher.IsAdviser ? Roles.Adviser : Roles.Teacher)} of {classes[teacher.ClassId]}");
                    }
                }

                if (classRoles.Contains(AudienceRole.Guardians))
                {
                    foreach (var guardian in await directory.GuardiansOfClassesAsync(corpId, classIds, ct))
                    {
                        yield return new NoticeRecipient(corpId, guardian.UserId, guardian.UnionId, guardian.Name, AudienceRole.Guardians,
                            guardian.ClassId, $"guardian in {classes[guardian.ClassId]}");
                    }
                }
            }
        }
    }

    /// <summary>Which of <paramref name="nodeIds"/> are current nodes of <paramref name="nodeType"/> in the corp.</summary>
    public Task<IReadOnlySet<long>> ExistingNodesAsync(string corpId, string nodeType, IReadOnlyCollection<long> nodeIds,
        CancellationToken ct) => directory.ExistingNodesAsync(corpId, nodeType, nodeIds, ct);
}
