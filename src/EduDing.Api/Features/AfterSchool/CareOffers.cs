using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Notices;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>
/// Freed elective places (docs/after-school.md): the next family in line is offered the place and told so; they claim
/// or decline it within AfterSchool:ClaimWindow, after which it moves on to the family after them.
/// </summary>
internal sealed class CareOffers(CareRepository care, OrgDirectory directory, SystemNotices notices, AuditLog audit,
    IOptions<IdentityOptions> identity, TimeProvider time)
{
    /// <summary>The family claims the place offered to them; 409 when the offer is gone (claimed, declined or lapsed).</summary>
    public Task<CareApplication> ClaimAsync(Caller caller, long applicationId, long offeringId, CancellationToken ct) =>
        ResolveAsync(caller, applicationId, offeringId, claim: true, ct);

    /// <summary>The family declines the place offered to them: it goes to the next family in line.</summary>
    public Task<CareApplication> DeclineAsync(Caller caller, long applicationId, long offeringId, CancellationToken ct) =>
        ResolveAsync(caller, applicationId, offeringId, claim: false, ct);

    private async Task<CareApplication> ResolveAsync(Caller caller, long applicationId, long offeringId, bool claim, CancellationToken ct)
    {
        var application = await care.ApplicationOfAsync(caller, applicationId, ct);
        var resolved = claim
            ? await care.ClaimOfferAsync(applicationId, offeringId, time.UtcNowForDatabase(), ct)
            : await care.DeclineOfferAsync(applicationId, offeringId, time.UtcNowForDatabase(), ct);
        if (!resolved)
        {
            throw new ConflictException($"No place in offering {offeringId} is offered to application {applicationId} now (claimed, declined, or the claim window ended).", "当前没有为您保留的名额（已确认、已放弃或确认时间已过）。", reason: "offer_closed");
        }

        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, claim ? "care.offer.claim" : "care.offer.decline", application.CorpId,
            [application.StudentUserId], $"application {applicationId}, offering {offeringId}", AuditLog.Allowed, ct);
        return (await care.FindApplicationAsync(applicationId, ct))!;
    }

    /// <summary>
    /// What the worker does each round: offers past their window move on, then each new offer's family is told, once
    /// across instances (the message is claimed on the place's row), and the school's admins are told once when a basic
    /// care group holds more children than its capacity (应保尽保: open another group). Returns the offers lapsed and announced.
    /// </summary>
    public async Task<(int Lapsed, int Announced)> RunAsync(DateTime nowUtc, CancellationToken ct)
    {
        var lapsed = await care.LapseOffersAsync(nowUtc, ct);
        var announced = 0;
        foreach (var offer in await care.ClaimUnannouncedOffersAsync(nowUtc, 200, ct))
        {
            if (await care.FindApplicationAsync(offer.ApplicationId, ct) is not { } application ||
                await care.FindOfferingAsync(offer.OfferingId, ct) is not { } offering ||
                await care.FindProgramAsync(application.ProgramId, ct) is not { } program)
            {
                continue;
            }

            var guardian = await directory.FindAccountAsync(application.GuardianCorpId, application.GuardianUserId, ct);
            var student = await directory.FindStudentAsync(application.CorpId, application.StudentUserId, ct);
            await notices.SendAsync(new SystemNotice("care-offer", program.CorpId, program.Name, "课后服务候补名额",
                $"{offering.Name}有空出的名额，按候补顺序留给{student?.Name ?? "孩子"}。请在{ShanghaiTime.FromUtc(offer.ExpiresAt):M月d日 HH:mm}前在报名页面确认或放弃，逾期将顺延给下一位。",
                null,
                [new NoticeRecipient(application.GuardianCorpId, application.GuardianUserId, guardian?.UnionId, guardian?.Name ?? application.GuardianUserId,
                    "guardians", application.ClassId, "after-school place offered")]), ct);
            announced++;
        }

        foreach (var (group, taken) in await care.ClaimOverCapacityAsync(nowUtc, ct))
        {
            if (await care.FindProgramAsync(group.ProgramId, ct) is not { } program)
            {
                continue;
            }

            var admins = await directory.AdminsAsync(program.CorpId, identity.Value.SchoolAdminTitles, identity.Value.BureauAdminDepartmentIds, ct);
            await notices.SendAsync(new SystemNotice("care-capacity", program.CorpId, program.Name, "基础托管需增开托管组",
                $"{program.Name}的{group.Name}已有{taken}名学生，超过容量{group.Capacity}人。基础托管应保尽保，请增开一个托管组并安排老师。", null,
                admins.Select(a => new NoticeRecipient(a.CorpId, a.UserId, a.UnionId, a.Name, "staff", null, "after-school basic care over capacity"))
                    .ToList()), ct);
        }

        return (lapsed, announced);
    }
}
