using System.Globalization;
using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>A change to a mark on an earlier day's roll: pending until the school decides it (approved → applied).</summary>
internal sealed record RollCorrection(long Id, long OfferingId, long ApplicationId, DateOnly Day, [property: CodeValues(typeof(RollStatus))] string? FromStatus, [property: CodeValues(typeof(RollStatus))] string ToStatus, string Reason,
    string RequestedByUserId, DateTime RequestedAt, [property: CodeValues(typeof(ApprovalStatus))] string Status, DateTime? DecidedAt);

[RequestSchema("applicationId", "status", "reason")]
internal sealed record RollCorrectionRequest(long? ApplicationId, [property: CodeValues(typeof(RollStatus))] string? Status, string? Reason);

/// <summary>A correction with the approval request that decides it.</summary>
internal sealed record RollCorrectionDto(RollCorrection Correction, long ApprovalRequestId);

/// <summary>
/// Corrections to the roll after the day (docs/after-school.md): a mark already on an earlier day's roll changes only
/// through a request the school decides through the approvals platform (by default any of its admins), made within
/// AfterSchool:RollCorrectionDays; approved, the new mark is applied as a late entry. Every request and outcome audited.
/// </summary>
internal sealed class CareRollCorrections(CareDaily daily, CareDailyRepository roll, OrgDirectory directory, ApprovalService approvals,
    AuditLog audit, IOptions<AfterSchoolOptions> options, TimeProvider time)
{
    public async Task<RollCorrectionDto> RequestAsync(Caller caller, string corpId, long offeringId, DateOnly day, RollCorrectionRequest request,
        CancellationToken ct)
    {
        var (program, offering) = await daily.RequireKeeperAsync(caller, corpId, offeringId, ct);
        var today = ShanghaiTime.Today(time);
        if (day >= today)
        {
            throw new RequestValidationException("day", "today's roll is marked directly; corrections are for earlier days");
        }

        if (options.Value.RollLocked(day, today))
        {
            throw new RuleViolationException($"The roll of {day:yyyy-MM-dd} is locked: corrections are requested within {options.Value.RollCorrectionDays} days.", $"{day:M月d日}的考勤已锁定：更正须在 {options.Value.RollCorrectionDays} 天内申请。", reason: "roll_locked");
        }

        var application = (await daily.ExpectedAsync(program, offering, day, ct)).FirstOrDefault(a => a.Id == request.ApplicationId)
                          ?? throw new RequestValidationException("applicationId", "is not expected in this group on this day");
        if (request.Status is null || !RollStatus.All.Contains(request.Status))
        {
            throw new RequestValidationException("status", $"must be one of {string.Join(", ", RollStatus.All)}");
        }

        if (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > 200)
        {
            throw new RequestValidationException("reason", "is required, at most 200 characters");
        }

        var current = (await roll.RollAsync(offeringId, day, ct)).GetValueOrDefault(application.Id);
        if (current is null)
        {
            throw new RuleViolationException($"Nothing is marked for this child on {day:yyyy-MM-dd}: mark it as a late entry (补签) on the roll.", $"孩子{day:M月d日}还没有考勤记录，请在点名中补签。", reason: "nothing_marked");
        }

        if (current.Status == request.Status)
        {
            throw new RuleViolationException($"The child is already marked {current.Status} on {day:yyyy-MM-dd}.", $"孩子{day:M月d日}的考勤已经是这个状态。", reason: "already_marked");
        }

        var id = await roll.AddCorrectionAsync(offeringId, application.Id, day, current.Status, request.Status, request.Reason.Trim(),
                     caller.UserIdIn(corpId), time.UtcNowForDatabase(), ct)
                 ?? throw new ConflictException("A correction of this child's mark on this day is already waiting for the school.", "该孩子当天的考勤更正已在等待学校审核。", reason: "correction_pending");
        var student = await directory.FindStudentAsync(corpId, application.StudentUserId, ct);
        var approval = await approvals.SubmitAsync(new ApprovalSubmission(RollCorrectionKind.Name, corpId, RollCorrectionKind.SubjectOf(id),
                $"{student?.Name ?? application.StudentUserId}：{offering.Name} {day:M月d日} {current.Status} → {request.Status}", request.Reason.Trim(),
                application.ClassId),
            (corpId, caller.UserIdIn(corpId)), ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "care.roll.correction.request", corpId, [application.StudentUserId],
            $"group {offeringId} on {day:yyyy-MM-dd}: {current.Status} → {request.Status} ({request.Reason.Trim()})", AuditLog.Allowed, ct);
        return new RollCorrectionDto((await roll.FindCorrectionAsync(id, ct))!, approval.Id);
    }
}

/// <summary>A roll correction under review: by default any of the school's admins decides it.</summary>
internal sealed class RollCorrectionKind(CareDailyRepository roll, TimeProvider time) : IApprovalKind
{
    public const string Name = "care-roll-correction";

    public string Kind => Name;

    public string DisplayName => "课后服务考勤更正";

    public ApprovalChain DefaultChain { get; } = new([new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any)]);

    public static string SubjectOf(long correctionId) => correctionId.ToString(CultureInfo.InvariantCulture);

    public async Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct)
    {
        if (request.Status is not (ApprovalStatus.Approved or ApprovalStatus.Rejected or ApprovalStatus.Withdrawn))
        {
            return;
        }

        await roll.SettleCorrectionAsync(long.Parse(request.SubjectId, CultureInfo.InvariantCulture), request.Status == ApprovalStatus.Approved,
            time.UtcNowForDatabase(), ct);
    }
}
