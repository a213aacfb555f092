using System.Globalization;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Approvals;

[RequestSchema("purpose", "days")]
internal sealed record AccessRequestBody(string? Purpose, int? Days);

/// <summary>
/// A bureau person asks a school for time-limited access to its children's identifiable records (docs/access.md);
/// the school's admins decide through the approval chain, the child-data officer last (docs/privacy.md), and an
/// approval creates the grant, in force at once. The subject id carries the requested duration ("P7D:…"), so the grant
/// is made from the request alone.
/// </summary>
internal sealed class AccessGrantApprovalKind(AccessGrantRepository grants, AuditLog audit, TimeProvider time) : IApprovalKind
{
    public const string Name = "access-grant";

    public string Kind => Name;

    public string DisplayName => "数据访问授权";

    public ApprovalChain DefaultChain { get; } = new([new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any), OfficerStep]);

    public ApprovalStep RequiredLastStep => OfficerStep;

    /// <summary>The child-data officer's approval, which every grant of access to children's data needs.</summary>
    public static readonly ApprovalStep OfficerStep = new(ApproverSource.ChildDataOfficer, StepMode.Any);

    public static string SubjectFor(int days) => $"P{days}D:{Guid.NewGuid():N}";

    public async Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct)
    {
        if (request.Status != ApprovalStatus.Approved)
        {
            return;
        }

        var grantedBy = $"approval:{request.Id}";
        if ((await grants.ListForSchoolsAsync([request.CorpId], ct)).Any(g => g.GrantedByUserId == grantedBy))
        {
            return;
        }

        var days = int.Parse(request.SubjectId[1..request.SubjectId.IndexOf('D', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
        var start = request.DecidedAt ?? time.UtcNowForDatabase();
        var id = await grants.CreateAsync(request.CorpId, request.RequesterCorpId, request.RequesterUserId, request.Summary ?? request.Title,
            grantedBy, start, start.AddDays(days), confirmedAt: start, request.Id, ct);
        await audit.WriteAsync(request.CorpId, grantedBy, AccessGrantEndpoints.GrantAction, request.CorpId, [],
            $"grant #{id} to {request.RequesterCorpId}/{request.RequesterUserId} for {days} days by approval request {request.Id}",
            AuditLog.Allowed, ct);
    }
}

/// <summary>
/// A grant a school's admin gave directly (POST access-grants) waits for the child-data officer (docs/privacy.md):
/// approval puts it in force, a refusal or a withdrawal means it never takes effect. The subject id is "grant:{id}".
/// </summary>
internal sealed class AccessGrantConfirmationKind(AccessGrantRepository grants, AuditLog audit, TimeProvider time) : IApprovalKind
{
    public const string Name = "access-grant-confirmation";

    public string Kind => Name;

    public string DisplayName => "数据访问授权（儿童个人信息保护负责人审批）";

    public ApprovalChain DefaultChain { get; } = new([AccessGrantApprovalKind.OfficerStep]);

    public ApprovalStep RequiredLastStep => AccessGrantApprovalKind.OfficerStep;

    public static string SubjectFor(long grantId) => $"grant:{grantId.ToString(CultureInfo.InvariantCulture)}";

    public async Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct)
    {
        if (request.Status is not (ApprovalStatus.Approved or ApprovalStatus.Rejected or ApprovalStatus.Withdrawn))
        {
            return;
        }

        var grantId = long.Parse(request.SubjectId["grant:".Length..], CultureInfo.InvariantCulture);
        var at = request.DecidedAt ?? time.UtcNowForDatabase();
        var approved = request.Status == ApprovalStatus.Approved;
        var changed = approved ? await grants.ConfirmAsync(grantId, at, ct) : await grants.RefuseAsync(grantId, at, ct);
        if (changed)
        {
            var officer = decision is null ? "system" : $"{decision.ActorCorpId}:{decision.ActorUserId}";
            await audit.WriteAsync(decision?.ActorCorpId ?? request.CorpId, decision?.ActorUserId ?? "system",
                approved ? AccessGrantEndpoints.ConfirmAction : AccessGrantEndpoints.RefuseAction, request.CorpId, [],
                $"grant #{grantId} {(approved ? "confirmed" : "not confirmed")} by the child-data officer {officer} (approval request {request.Id})",
                approved ? AuditLog.Allowed : AuditLog.Denied, ct);
        }
    }
}

internal static class AccessRequestEndpoints
{
    public static IEndpointRouteBuilder MapAccessRequestEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/corps/{corpId}/access-requests", CreateAsync).WithTags("Access grants").RequireAudience(Audience.Bureau)
            .WithName("AccessRequests_Create");
        return app;
    }

    /// <summary>Bureau staff ask the school; 201 with the approval request the school's admins decide.</summary>
    private static async Task<Created<ApprovalDto>> CreateAsync(string corpId, AccessRequestBody request, Caller caller, AccessPolicy access,
        ApprovalService approvals, ApprovalRepository repo, ApprovalKinds kinds, IOptions<IdentityOptions> options, CancellationToken ct)
    {
        var school = access.School(corpId);
        if (!AccessPolicy.IsBureau(caller))
        {
            throw new ForbiddenException("Missing scope: bureau staff ask schools for access to identifiable records.");
        }

        var maxDays = Math.Max(1, (int)options.Value.MaxGrantDuration.TotalDays);
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Purpose) || request.Purpose.Length > 500)
        {
            errors["purpose"] = ["is required (why the bureau needs to see identifiable records), at most 500 characters"];
        }

        if (request.Days is not { } days || days < 1 || days > maxDays)
        {
            errors["days"] = [$"must be 1 to {maxDays} days"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var bureauCorp = caller.CorpsWith(Roles.BureauStaff).Concat(caller.CorpsWith(Roles.BureauAdmin)).First();
        var created = await approvals.SubmitAsync(new ApprovalSubmission(AccessGrantApprovalKind.Name, school.CorpId,
                AccessGrantApprovalKind.SubjectFor(request.Days!.Value), $"{caller.Account.Name}申请查阅{school.Name}学生数据（{request.Days}天）",
                request.Purpose!.Trim()),
            (bureauCorp, caller.UserIdIn(bureauCorp)), ct);
        return TypedResults.Created($"/api/approvals/{created.Id}", await ApprovalViews.DetailAsync(created.Id, caller, repo, kinds, ct));
    }
}
