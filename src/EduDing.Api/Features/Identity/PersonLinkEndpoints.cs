using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Identity;

[RequestSchema("corpId", "authCode")]
internal sealed record LinkMyAccountRequest(string? CorpId, string? AuthCode);

[RequestSchema("userId", "otherCorpId", "otherUserId", "evidence")]
internal sealed record LinkPersonRequest(string? UserId, string? OtherCorpId, string? OtherUserId, string? Evidence);

internal sealed record PersonLinkDto(long Id, string CorpIdA, string UserIdA, string CorpIdB, string UserIdB, string Method, string? Evidence,
    DateTime CreatedAt)
{
    public static PersonLinkDto From(PersonLink l) => new(l.Id, l.CorpIdA, l.UserIdA, l.CorpIdB, l.UserIdB, l.Method, l.Evidence, l.CreatedAt);
}

/// <summary>
/// Linking one person's accounts in two corps whose apps do not share a unionId space (docs/deployment-models.md):
/// by the person, proving the second account with its own 免登 code while signed in with the first; or by a school
/// admin, after checking, for a person of their school. Never by name. Every link and unlink is audited; an unlink
/// takes effect at once (the person's identities are computed on every request).
/// </summary>
internal static class PersonLinkEndpoints
{
    public const string LinkAction = "person.link";
    public const string UnlinkAction = "person.unlink";

    public static IEndpointRouteBuilder MapPersonLinkEndpoints(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/me/links").WithTags("Me").RequireAuthorization();
        mine.MapPost("/", LinkMineAsync).RequireAudience(Audience.Person).WithName("Me_LinkAccount");
        mine.MapGet("/", ListMineAsync).RequireAudience(Audience.Person).WithName("Me_ListLinks");
        mine.MapDelete("/{id:long}", UnlinkMineAsync).RequireAudience(Audience.Person).WithName("Me_Unlink");

        var school = app.MapGroup("/api/corps/{corpId}/person-links").WithTags("Person links").RequireAuthorization();
        school.MapPost("/", LinkBySchoolAsync).RequireAudience(Audience.SchoolAdmin).WithName("PersonLinks_Create");
        school.MapGet("/", ListBySchoolAsync).RequireAudience(Audience.SchoolAdmin).WithName("PersonLinks_List");
        school.MapDelete("/{id:long}", UnlinkBySchoolAsync).RequireAudience(Audience.SchoolAdmin).WithName("PersonLinks_Unlink");
        return app;
    }

    /// <summary>Links the caller's account with the one a 免登 code from another corp's app proves (both codes came from the person).</summary>
    private static async Task<Created<PersonLinkDto>> LinkMineAsync(LinkMyAccountRequest request, Caller caller, IdentityRepository identity,
        SessionService sessions, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        IdentityEndpoints.RequireCode(request.CorpId, request.AuthCode);
        var other = await sessions.VerifyCodeAsync(request.CorpId!, request.AuthCode!, "corpId", ct);
        if (caller.Identities.Contains((other.CorpId, other.UserId)))
        {
            throw new ConflictException("These accounts are already the same person here; nothing to link.", "这两个账号已识别为同一人，无需关联。", reason: "same_person");
        }

        var link = await identity.LinkAsync(caller.Account.CorpId, caller.Account.UserId, other.CorpId, other.UserId, "sign-in",
                       "both accounts proved by their own 免登 codes", caller.Account.CorpId, caller.Account.UserId, time.UtcNowForDatabase(), ct)
                   ?? throw new ConflictException("These accounts are already linked.", "这两个账号已经关联。", reason: "already_linked");
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, LinkAction, other.CorpId, [],
            $"link #{link.Id}: {link.CorpIdA}/{link.UserIdA} ↔ {link.CorpIdB}/{link.UserIdB} by sign-in", AuditLog.Allowed, ct);
        return TypedResults.Created($"/api/me/links/{link.Id}", PersonLinkDto.From(link));
    }

    private static async Task<Ok<IReadOnlyList<PersonLinkDto>>> ListMineAsync(Caller caller, IdentityRepository identity, CancellationToken ct)
    {
        return TypedResults.Ok<IReadOnlyList<PersonLinkDto>>((await identity.LinksOfAsync(caller.Identities, ct)).Select(PersonLinkDto.From).ToList());
    }

    private static async Task<NoContent> UnlinkMineAsync(long id, Caller caller, IdentityRepository identity, AuditLog audit, TimeProvider time,
        CancellationToken ct)
    {
        var link = await identity.FindLinkAsync(id, ct);
        if (link is null || link.UnlinkedAt is not null ||
            !(caller.Identities.Contains((link.CorpIdA, link.UserIdA)) || caller.Identities.Contains((link.CorpIdB, link.UserIdB))))
        {
            throw new NotFoundException($"No link {id} of yours.");
        }

        await UnlinkAsync(link, caller, audit, identity, time, "by the person", ct);
        return TypedResults.NoContent();
    }

    /// <summary>A school admin links a person of their school with an account in another corp, after checking (evidence recorded).</summary>
    private static async Task<Created<PersonLinkDto>> LinkBySchoolAsync(string corpId, LinkPersonRequest request, Caller caller, AccessPolicy access,
        IdentityRepository identity, OrgDirectory directory, CorpDirectory corps, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "linking a person of the school is its admins' act");
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.UserId))
        {
            errors["userId"] = ["is required: the person's userid in this school"];
        }

        if (string.IsNullOrWhiteSpace(request.OtherCorpId) || corps.Find(request.OtherCorpId) is null || request.OtherCorpId == corpId)
        {
            errors["otherCorpId"] = ["must be another corp this deployment serves"];
        }

        if (string.IsNullOrWhiteSpace(request.OtherUserId))
        {
            errors["otherUserId"] = ["is required: the person's userid in the other corp"];
        }

        if (string.IsNullOrWhiteSpace(request.Evidence) || request.Evidence.Trim().Length is < 4 or > 500)
        {
            errors["evidence"] = ["is required: how the admin checked it is the same person (4 to 500 characters)"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var mine = await directory.FindAccountAsync(corpId, request.UserId!, ct)
                   ?? throw new RequestValidationException("userId", "is not a current member of this school");
        var theirs = await directory.FindAccountAsync(request.OtherCorpId!, request.OtherUserId!, ct, includeFormer: true)
                     ?? throw new RequestValidationException("otherUserId", "is not a person of that corp");
        var link = await identity.LinkAsync(mine.CorpId, mine.UserId, theirs.CorpId, theirs.UserId, Roles.SchoolAdmin, request.Evidence!.Trim(),
                       caller.Account.CorpId, caller.Account.UserId, time.UtcNowForDatabase(), ct)
                   ?? throw new ConflictException("These accounts are already linked.", "这两个账号已经关联。", reason: "already_linked");
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, LinkAction, corpId, [],
            $"link #{link.Id}: {link.CorpIdA}/{link.UserIdA} ↔ {link.CorpIdB}/{link.UserIdB} by the school admin: {link.Evidence}", AuditLog.Allowed, ct);
        return TypedResults.Created($"/api/corps/{corpId}/person-links/{link.Id}", PersonLinkDto.From(link));
    }

    private static async Task<Ok<IReadOnlyList<PersonLinkDto>>> ListBySchoolAsync(string corpId, Caller caller, AccessPolicy access, IdentityRepository identity, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school's links are its admins' to see");
        return TypedResults.Ok<IReadOnlyList<PersonLinkDto>>((await identity.LinksOfCorpAsync(corpId, ct)).Select(PersonLinkDto.From).ToList());
    }

    private static async Task<NoContent> UnlinkBySchoolAsync(string corpId, long id, Caller caller, AccessPolicy access, IdentityRepository identity, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "unlinking a person of the school is its admins' act");
        var link = await identity.FindLinkAsync(id, ct);
        if (link is null || link.UnlinkedAt is not null || (link.CorpIdA != corpId && link.CorpIdB != corpId))
        {
            throw new NotFoundException($"No link {id} involving this school.");
        }

        await UnlinkAsync(link, caller, audit, identity, time, "by the school admin", ct);
        return TypedResults.NoContent();
    }

    private static async Task UnlinkAsync(PersonLink link, Caller caller, AuditLog audit, IdentityRepository identity, TimeProvider time,
        string how, CancellationToken ct)
    {
        if (!await identity.UnlinkAsync(link.Id, caller.Account.CorpId, caller.Account.UserId, time.UtcNowForDatabase(), ct))
        {
            throw new ConflictException($"Link {link.Id} was already ended.", "该关联已解除。", reason: "link_ended");
        }

        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, UnlinkAction, link.CorpIdA, [],
            $"link #{link.Id}: {link.CorpIdA}/{link.UserIdA} ↔ {link.CorpIdB}/{link.UserIdB} ended {how}", AuditLog.Allowed, ct);
    }
}
