using System.Security.Claims;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Identity;

internal sealed record StudentClassDto(long ClassId, string ClassName);

internal sealed record StudentGuardianDto(string UserId, string Name, string RelationCode);

internal sealed record StudentRecordDto(string CorpId, string UserId, string Name, string? StudentNumber,
    IReadOnlyList<StudentClassDto> Classes, IReadOnlyList<StudentGuardianDto> Guardians);

internal sealed record AuditEntryDto(long Id, DateTime At, string ActorCorpId, string ActorUserId, string Action, string SubjectCorpId,
    IReadOnlyList<string> StudentUserIds, string Reason, string Outcome);

/// <remarks>
/// A child's record is identifiable data of a minor, sensitive under PIPL (domain-rules §4): it is shown to the
/// child's guardians, the teachers of the child's classes and the school's admins, and every read and every refusal
/// is written to the audit log with who, when, which student and why. The bureau sees aggregates only; reading one
/// child needs a time-limited grant from that school's admin (AccessGrantEndpoints).
/// </remarks>
internal static class StudentRecordEndpoints
{
    public const string ReadAction = "student.record.read";

    public static IEndpointRouteBuilder MapStudentRecordEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/corps/{corpId}/students/{studentUserId}", GetAsync).WithTags("Students").RequireAuthorization()
            .WithName("Students_GetRecord");
        app.MapGet("/api/audit", ListAuditAsync).WithTags("Audit").RequireAuthorization().WithName("Audit_List");
        return app;
    }

    private static async Task<Ok<StudentRecordDto>> GetAsync(string corpId, string studentUserId, ClaimsPrincipal user,
        IdentityRepository identity, OrgRepository org, CorpDirectory corps, AuditLog audit, AccessGrantRepository grants,
        TimeProvider time, CancellationToken ct)
    {
        corps.Get(corpId);
        var caller = await Caller.FromAsync(user, identity, ct);
        var student = await org.FindStudentAsync(corpId, studentUserId, ct)
                      ?? throw new NotFoundException($"No student {studentUserId} in corp {corpId}.");

        string? reason = null;
        if (await identity.GuardianRelationAsync(caller.Identities, corpId, studentUserId, ct) is { } relation)
        {
            reason = $"guardian of the student (relation {relation})";
        }
        else if (await identity.TaughtClassOfStudentAsync(caller.Identities, corpId, studentUserId, ct) is { } classId)
        {
            reason = $"teacher of the student's class {classId}";
        }
        else if (caller.Has("school-admin", corpId))
        {
            reason = "admin of the student's school";
        }
        else if (await grants.ActiveAsync(caller.Identities, corpId, Data.DatabaseTime.UtcNowForDatabase(time), ct) is { } grant)
        {
            reason = $"access grant #{grant.Id} until {grant.ExpiresAt:O}: {grant.Purpose}";
        }

        var account = caller.Account;
        if (reason is null)
        {
            await audit.WriteAsync(account.CorpId, account.UserId, ReadAction, corpId, [studentUserId],
                "refused: not the student's guardian, teacher or school admin", AuditLog.Denied, ct);
            throw new ForbiddenException(
                "Missing scope: guardian of this student, teacher of one of their classes, admin of their school, or an " +
                "access grant from that school.");
        }

        var classes = await org.ClassesOfStudentAsync(corpId, studentUserId, ct);
        var guardians = await org.GuardiansOfStudentAsync(corpId, studentUserId, ct);
        await audit.WriteAsync(account.CorpId, account.UserId, ReadAction, corpId, [studentUserId], reason, AuditLog.Allowed, ct);
        return TypedResults.Ok(new StudentRecordDto(corpId, student.UserId, student.Name, student.StudentNumber,
            classes.Select(c => new StudentClassDto(c.ClassId, c.ClassName)).ToList(),
            guardians.Select(g => new StudentGuardianDto(g.UserId, g.Name, g.RelationCode)).ToList()));
    }

    /// <summary>School admins read their school's entries; the bureau's admins every school's. Newest first, paged.</summary>
    private static async Task<Ok<Paged<AuditEntryDto>>> ListAuditAsync(string? corpId, int? page, int? pageSize, ClaimsPrincipal user,
        IdentityRepository identity, AuditLog audit, CancellationToken ct)
    {
        var request = PageRequest.From(page, pageSize);
        var caller = await Caller.FromAsync(user, identity, ct);
        IReadOnlyCollection<string>? scope;
        if (caller.HasAnywhere("bureau-admin"))
        {
            scope = corpId is null ? null : [corpId];
        }
        else
        {
            var administered = caller.CorpsWith("school-admin");
            if (administered.Count == 0 || (corpId is not null && !administered.Contains(corpId)))
            {
                throw new ForbiddenException("Missing scope: admin of the school (or of the bureau) whose audit log this is.");
            }

            scope = corpId is null ? administered : [corpId];
        }

        var (items, total) = await audit.ListAsync(scope, request.Skip, request.PageSize, ct);
        return TypedResults.Ok(new Paged<AuditEntryDto>(items.Select(e => new AuditEntryDto(e.Id, e.At, e.ActorCorpId, e.ActorUserId,
            e.Action, e.SubjectCorpId, e.StudentUserIds.Split(',', StringSplitOptions.RemoveEmptyEntries), e.Reason, e.Outcome)).ToList(),
            request.Page, request.PageSize, total));
    }
}
