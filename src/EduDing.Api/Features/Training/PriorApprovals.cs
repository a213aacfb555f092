using System.Globalization;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Training;

internal sealed record PriorApproval(long Id, string CorpId, string UserId, string Title, string Organiser, DateOnly StartsOn, [property: CodeValues(typeof(ApprovalStatus))] string Status,
    DateTime CreatedAt, DateTime? DecidedAt);

[RequestSchema("corpId", "title", "organiser", "startsOn")]
internal sealed record PriorApprovalRequest(string? CorpId, string? Title, string? Organiser, DateOnly? StartsOn);

internal sealed record PriorApprovalDto(PriorApproval PriorApproval, long ApprovalRequestId);

/// <summary>
/// Prior approval (事前审批, Art. 3 of 浙教师〔2016〕71号): training at an institution that did not pass the province's
/// vetting counts only when the school approved it beforehand. The teacher asks before the training starts; the
/// school's admins decide (approval kind <c>training-prior-approval</c>); a claim of source <c>non-vetted</c> then names
/// the approved request, once (docs/training.md).
/// </summary>
internal sealed class PriorApprovals(Database db, ApprovalService approvals, AuditLog audit, TimeProvider time)
{
    private const string Columns = "id, corp_id, user_id, title, organiser, starts_on, status, created_at, decided_at";

    public async Task<(PriorApproval PriorApproval, long ApprovalRequestId)> RequestAsync(Caller caller, PriorApprovalRequest request, CancellationToken ct)
    {
        TrainingService.RequireTeacher(caller);
        if (string.IsNullOrWhiteSpace(request.CorpId))
        {
            throw new RequestValidationException("corpId", "is required: the school that approves beforehand");
        }

        var corpId = request.CorpId;
        if (!caller.Has(Roles.SchoolStaff, corpId) && !caller.Has(Roles.BureauStaff, corpId))
        {
            throw new ForbiddenException("Missing scope: staff of this school (the school approves beforehand).");
        }

        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Title) || request.Title.Length > 100)
        {
            errors["title"] = ["is required, at most 100 characters"];
        }

        if (string.IsNullOrWhiteSpace(request.Organiser) || request.Organiser.Length > 100)
        {
            errors["organiser"] = ["is required (the institution), at most 100 characters"];
        }

        var today = ShanghaiTime.Today(time);
        if (request.StartsOn is not { } starts || starts < today || starts > today.AddYears(1))
        {
            errors["startsOn"] = ["is required: the day the training starts, from today to a year ahead (approval comes before the training)"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var userId = caller.UserIdIn(corpId);
        var now = time.UtcNowForDatabase();
        long id;
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            id = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"""
                INSERT INTO training_prior_approvals (corp_id, user_id, title, organiser, starts_on, status, created_at)
                VALUES (@corpId, @userId, @title, @organiser, @startsOn, 'pending', @now);
                {db.Dialect.SelectLastInsertId};
                """, new { corpId, userId, title = request.Title!.Trim(), organiser = request.Organiser!.Trim(), startsOn = request.StartsOn, now },
                cancellationToken: ct));
        }

        var approval = await approvals.SubmitAsync(new ApprovalSubmission(TrainingPriorApprovalKind.Name, corpId, TrainingPriorApprovalKind.SubjectOf(id),
            $"{caller.Account.Name}：{request.Title!.Trim()}", $"{request.Organiser!.Trim()}（非审核机构），{request.StartsOn:yyyy-MM-dd} 开始"),
            (corpId, userId), ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.prior-approval", corpId, [],
            $"prior approval {id}: {request.Title!.Trim()} at {request.Organiser!.Trim()}", AuditLog.Allowed, ct);
        return ((await FindAsync(id, ct))!, approval.Id);
    }

    public async Task<PriorApproval?> FindAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<PriorApproval>(new CommandDefinition(
            $"SELECT {Columns} FROM training_prior_approvals WHERE id = @id", new { id }, cancellationToken: ct));
    }
}

/// <summary>The school's admins decide a prior approval; the outcome is its status.</summary>
internal sealed class TrainingPriorApprovalKind(Database db, TimeProvider time) : IApprovalKind
{
    public const string Name = "training-prior-approval";

    public string Kind => Name;

    public string DisplayName => "非审核机构培训事前审批";

    public ApprovalChain DefaultChain { get; } = new([new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any)]);

    public static string SubjectOf(long id) => id.ToString(CultureInfo.InvariantCulture);

    public async Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct)
    {
        var status = request.Status switch
        {
            ApprovalStatus.Approved => "approved",
            ApprovalStatus.Rejected => "rejected",
            ApprovalStatus.Withdrawn => "withdrawn",
            _ => null,
        };
        if (status is null)
        {
            return;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE training_prior_approvals SET status = @status, decided_at = @now WHERE id = @id AND status = 'pending'",
            new { id = long.Parse(request.SubjectId, CultureInfo.InvariantCulture), status, now = time.UtcNowForDatabase() }, cancellationToken: ct));
    }
}
