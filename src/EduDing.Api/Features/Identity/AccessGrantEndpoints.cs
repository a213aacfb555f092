using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Identity;

[RequestSchema("granteeCorpId", "granteeUserId", "purpose", "expiresAt")]
internal sealed record CreateGrantRequest(string? GranteeCorpId, string? GranteeUserId, string? Purpose, DateTime? ExpiresAt);

/// <summary>
/// A grant to one named bureau person over one school's identifiable records. Only an <c>active</c> grant lets its
/// grantee read: it is in force from <c>confirmedAt</c> (the child-data officer's approval, through the approval
/// request <c>approvalId</c>) until <c>expiresAt</c>, unless revoked; <c>refusedAt</c> is the officer's refusal.
/// </summary>
internal sealed record AccessGrantDto(long Id, string SchoolCorpId, string GranteeCorpId, string GranteeUserId, string Purpose,
    string GrantedByUserId, DateTime GrantedAt, DateTime ExpiresAt, DateTime? RevokedAt,
    [property: CodeValues(typeof(AccessGrantStatus))] string Status, DateTime? ConfirmedAt, DateTime? RefusedAt, long? ApprovalId)
{
    public static AccessGrantDto From(AccessGrant g, DateTime now) => new(g.Id, g.SchoolCorpId, g.GranteeCorpId, g.GranteeUserId, g.Purpose,
        g.GrantedByUserId, g.GrantedAt, g.ExpiresAt, g.RevokedAt, g.StatusAt(now), g.ConfirmedAt, g.RefusedAt, g.ApprovalId);
}

/// <remarks>
/// Grants are decided by the school's admins (the school answers for its children's data) and given to named bureau
/// staff, never to a role; each takes effect only once the child-data officer approved it (docs/privacy.md). Each
/// grant, confirmation, refusal and revocation is an audited decision.
/// </remarks>
internal static class AccessGrantEndpoints
{
    public const string GrantAction = "grant.create";
    public const string RevokeAction = "grant.revoke";
    public const string ConfirmAction = "grant.confirm";
    public const string RefuseAction = "grant.refuse";

    public static IEndpointRouteBuilder MapAccessGrantEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/corps/{corpId}/access-grants").WithTags("Access grants").RequireAuthorization();
        group.MapPost("/", CreateAsync).RequireAudience(Audience.SchoolAdmin).WithName("AccessGrants_Create");
        group.MapGet("/", ListAsync).RequireAudience(Audience.SchoolAdmin).WithName("AccessGrants_List");
        group.MapDelete("/{id:long}", RevokeAsync).RequireAudience(Audience.SchoolAdmin).WithName("AccessGrants_Revoke");
        return app;
    }

    private static async Task<Created<AccessGrantDto>> CreateAsync(string corpId, CreateGrantRequest request, Caller caller, AccessPolicy access,
        OrgDirectory directory, AccessGrantRepository grants, CorpDirectory corps, AuditLog audit, IOptions<IdentityOptions> options,
        ApprovalService approvals, TimeProvider time, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "grants over its children's data are the school's decision");
        var now = time.UtcNowForDatabase();
        var maxDuration = options.Value.MaxGrantDuration;
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.GranteeCorpId) || corps.Find(request.GranteeCorpId)?.Kind != CorpKind.Bureau)
        {
            errors["granteeCorpId"] = ["must be the bureau's corp id (grants are for named bureau staff)"];
        }

        if (string.IsNullOrWhiteSpace(request.GranteeUserId))
        {
            errors["granteeUserId"] = ["is required"];
        }

        if (string.IsNullOrWhiteSpace(request.Purpose) || request.Purpose.Length > 500)
        {
            errors["purpose"] = ["is required (why the bureau needs to see identifiable records), at most 500 characters"];
        }

        if (request.ExpiresAt is not { } expires || expires <= now || expires > now + maxDuration)
        {
            errors["expiresAt"] = [$"must be in the future and at most {maxDuration.TotalDays:0} days away (Identity:MaxGrantDuration)"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        if (await directory.FindAccountAsync(request.GranteeCorpId!, request.GranteeUserId!, ct) is null)
        {
            throw new RequestValidationException("granteeUserId", "is not bureau staff in the synced organization");
        }

        var expiresAt = new DateTime(request.ExpiresAt!.Value.Ticks - request.ExpiresAt.Value.Ticks % 10, DateTimeKind.Utc);
        var id = await grants.CreateAsync(corpId, request.GranteeCorpId!, request.GranteeUserId!, request.Purpose!,
            caller.Account.UserId, now, expiresAt, confirmedAt: null, approvalId: null, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, GrantAction, corpId, [],
            $"grant #{id} to {request.GranteeCorpId}:{request.GranteeUserId} until {expiresAt:O}, awaiting the child-data officer: {request.Purpose}",
            AuditLog.Allowed, ct);
        var grantee = await directory.FindAccountAsync(request.GranteeCorpId!, request.GranteeUserId!, ct);
        var school = access.School(corpId);
        var approval = await approvals.SubmitAsync(new ApprovalSubmission(AccessGrantConfirmationKind.Name, corpId,
                AccessGrantConfirmationKind.SubjectFor(id), $"{school.Name}授权{grantee!.Name}查阅学生数据（至{ShanghaiTime.FromUtc(expiresAt):M月d日 HH:mm}）",
                request.Purpose!.Trim()),
            (caller.Account.CorpId, caller.Account.UserId), ct);
        await grants.SetApprovalAsync(id, approval.Id, ct);
        return TypedResults.Created($"/api/corps/{corpId}/access-grants/{id}", AccessGrantDto.From((await grants.FindAsync(id, ct))!, now));
    }

    private static async Task<Ok<IReadOnlyList<AccessGrantDto>>> ListAsync(string corpId, Caller caller, AccessPolicy access,
        AccessGrantRepository grants, TimeProvider time, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "grants over its children's data are the school's decision");
        var now = time.UtcNowForDatabase();
        return TypedResults.Ok<IReadOnlyList<AccessGrantDto>>((await grants.ListForSchoolsAsync([corpId], ct)).Select(g => AccessGrantDto.From(g, now)).ToList());
    }

    private static async Task<NoContent> RevokeAsync(string corpId, long id, Caller caller, AccessPolicy access,
        AccessGrantRepository grants, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "grants over its children's data are the school's decision");
        var grant = await grants.FindAsync(id, ct);
        if (grant is null || grant.SchoolCorpId != corpId)
        {
            throw new NotFoundException($"No grant {id} of corp {corpId}.");
        }

        if (!await grants.RevokeAsync(id, time.UtcNowForDatabase(), ct))
        {
            throw new ConflictException($"Grant {id} was already revoked.", "该授权已被撤销。", reason: "already_revoked");
        }

        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, RevokeAction, corpId, [], $"grant #{id} revoked", AuditLog.Allowed, ct);
        return TypedResults.NoContent();
    }
}
