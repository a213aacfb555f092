using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Privacy;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Vision;

/// <summary>Referrals: the school's list and reminders, the bureau's completion summary, and the guardian's acknowledgement and visit.</summary>
internal static class VisionReferralsEndpoints
{
    internal static async Task<Ok<IReadOnlyList<ReferralDto>>> ReferralsAsync(string corpId, long? classId, long? roundId, string? status,
        Caller caller, VisionRepository vision, VisionAccess access, ConsentService consents, CancellationToken ct)
    {
        access.School(corpId);
        if (classId is null)
        {
            VisionAccess.RequireSchoolAdmin(caller, corpId);
        }

        var referrals = await vision.ReferralsAsync(corpId, classId, roundId, status, ct);
        // Without consent to vision screening, a child's referral is not shown to the school either (docs/privacy.md).
        var shown = await consents.ShownAsync(corpId, ConsentPurpose.VisionScreening, referrals.Select(r => r.StudentUserId).Distinct().ToList(), ct);
        referrals = referrals.Where(r => shown.Contains(r.StudentUserId)).ToList();
        if (classId is { } c)
        {
            await access.RequireClassReadAsync(caller, corpId, c, referrals.Select(r => r.StudentUserId).ToList(), "referrals", ct);
        }

        return TypedResults.Ok<IReadOnlyList<ReferralDto>>(referrals.Select(ReferralDto.From).ToList());
    }

    internal static async Task<Accepted<RemindedDto>> RemindAsync(string corpId, RemindRequest? request, Caller caller,
        VisionService service, CancellationToken ct) =>
        TypedResults.Accepted($"/api/corps/{corpId}/vision/referrals",
            new RemindedDto(await service.RemindReferralsAsync(caller, corpId, request?.ClassId, request?.RoundId, ct)));

    internal static async Task<Ok<IReadOnlyList<ReferralCompletion>>> ReferralSummaryAsync(long? roundId, string? corpId, Caller caller, VisionRepository vision, VisionAccess access, IOptions<VisionOptions> options, CancellationToken ct)
    {
        VisionAccess.RequireStatistics(caller, corpId);
        var rows = await vision.ReferralCompletionAsync(roundId, corpId, ct);
        var minimum = VisionAccess.MinimumCellSize(caller, corpId, options.Value);
        // Outside the school, a school or class with only a few referrals is withheld: its children could be told apart.
        ReferralCompletion Row(string corp, long? classId, string name, long referred, long acknowledged, long visited) =>
            referred > 0 && referred < minimum
                ? new(corp, classId, name, null, null, null, null, null, Suppressed: true)
                : new(corp, classId, name, (int)referred, (int)acknowledged, (int)visited, VisionStatistics.Rate((int)acknowledged, (int)referred),
                    VisionStatistics.Rate((int)visited, (int)referred));
        var result = rows.GroupBy(r => r.CorpId).Select(g => Row(g.Key, null, access.School(g.Key).Name, g.Sum(r => r.Referred), g.Sum(r => r.Acknowledged),
            g.Sum(r => r.Visited))).ToList();
        if (corpId is not null)
        {
            result.AddRange(rows.Select(r => Row(r.CorpId, r.ClassId, r.ClassName, r.Referred, r.Acknowledged, r.Visited)));
        }

        return TypedResults.Ok<IReadOnlyList<ReferralCompletion>>(result);
    }

    internal static async Task<Ok<ReferralDto>> AcknowledgeAsync(long id, Caller caller, VisionFollowUp followUp, CancellationToken ct) =>
        TypedResults.Ok(ReferralDto.From(await followUp.AcknowledgeReferralAsync(caller, id, ct)));

    internal static async Task<Ok<ReferralDto>> VisitAsync(long id, VisitRequest request, Caller caller, VisionFollowUp followUp,
        CancellationToken ct) =>
        TypedResults.Ok(ReferralDto.From(await followUp.ReportVisitAsync(caller, id, request, ct)));
}
