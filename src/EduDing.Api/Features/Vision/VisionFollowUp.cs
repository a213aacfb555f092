using EduDing.Api.Data;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Vision;

/// <summary>
/// What follows a screening outside the records (docs/vision.md): the guardian's acknowledgement of a referral and
/// report of the hospital visit, and the school's 明眸 classrooms. Rules and validation live here; the endpoints only
/// translate.
/// </summary>
internal sealed class VisionFollowUp(VisionRepository vision, VisionAccess access, TimeProvider time)
{
    private async Task<VisionReferral> GuardiansReferralAsync(Caller caller, long id, CancellationToken ct)
    {
        var referral = await vision.FindReferralAsync(id, ct);
        if (referral is null || referral.Status == ReferralStatus.Cancelled ||
            await vision.PublishedAtAsync(referral.RoundId, referral.CorpId, ct) is null)
        {
            throw new NotFoundException($"No referral {id} for your child.");
        }

        await access.RequireGuardianAsync(caller, referral.CorpId, referral.StudentUserId, $"referral {id}", ct);
        return referral;
    }

    /// <summary>The guardian has read the referral (知晓).</summary>
    public async Task<VisionReferral> AcknowledgeReferralAsync(Caller caller, long id, CancellationToken ct)
    {
        var referral = await GuardiansReferralAsync(caller, id, ct);
        if (!await vision.AcknowledgeReferralAsync(id, caller.UserIdIn(referral.CorpId), time.UtcNowForDatabase(), ct))
        {
            throw new ConflictException($"Referral {id} is {referral.Status}; only an open referral is acknowledged.", "该转诊提醒已确认过或已结束。", reason: "referral_not_open");
        }

        return (await vision.FindReferralAsync(id, ct))!;
    }

    /// <summary>The guardian reports the hospital visit: when, where, the diagnosis and any prescription.</summary>
    public async Task<VisionReferral> ReportVisitAsync(Caller caller, long id, VisitRequest request, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var today = ShanghaiTime.Today(time);
        if (request.VisitDate is not { } visit || visit > today)
        {
            errors["visitDate"] = ["is required and not in the future"];
        }

        if (string.IsNullOrWhiteSpace(request.Hospital) || request.Hospital.Length > 200)
        {
            errors["hospital"] = ["is required, at most 200 characters"];
        }

        if (string.IsNullOrWhiteSpace(request.Diagnosis) || request.Diagnosis.Length > 500)
        {
            errors["diagnosis"] = ["is required, at most 500 characters"];
        }

        if (request.Prescription is { Length: > 500 })
        {
            errors["prescription"] = ["at most 500 characters"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var referral = await GuardiansReferralAsync(caller, id, ct);
        if (request.VisitDate < ShanghaiTime.DayOf(referral.CreatedAt))
        {
            throw new RequestValidationException("visitDate", "is before the referral was made");
        }

        if (!await vision.ReportVisitAsync(id, caller.UserIdIn(referral.CorpId), request.VisitDate!.Value, request.Hospital!.Trim(),
                request.Diagnosis!.Trim(), request.Prescription?.Trim(), time.UtcNowForDatabase(), ct))
        {
            throw new ConflictException($"Referral {id} is {referral.Status}; its visit was already reported.", "已经填报过就诊情况。", reason: "visit_reported");
        }

        return (await vision.FindReferralAsync(id, ct))!;
    }

    /// <summary>A school admin records a classroom's lighting renovation and desks (明眸 classrooms).</summary>
    public async Task<VisionClassroom> SaveClassroomAsync(Caller caller, string corpId, string classroomId, ClassroomRequest request,
        CancellationToken ct)
    {
        access.School(corpId);
        VisionAccess.RequireSchoolAdmin(caller, corpId);
        var errors = new Dictionary<string, string[]>();
        if (classroomId.Length > 64)
        {
            errors["classroomId"] = ["at most 64 characters"];
        }

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            errors["name"] = ["is required, at most 100 characters"];
        }

        if (request.Desks is not (>= 0 and <= 200))
        {
            errors["desks"] = ["is required, 0 to 200"];
        }

        if (request.AdjustableDesks is not { } adjustable || adjustable < 0 || adjustable > (request.Desks ?? 0))
        {
            errors["adjustableDesks"] = ["is required, 0 to the number of desks"];
        }

        var today = ShanghaiTime.Today(time);
        if (request.LightingRenovatedOn > today)
        {
            errors["lightingRenovatedOn"] = ["must not be in the future"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var classroom = new VisionClassroom(corpId, classroomId, request.Name!.Trim(), request.LightingRenovatedOn, request.Desks!.Value,
            request.AdjustableDesks!.Value, time.UtcNowForDatabase(), caller.UserIdIn(corpId));
        await vision.SaveClassroomAsync(classroom, ct);
        return classroom;
    }
}
