using EduDing.Api.Features.Audit;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Identity;

internal sealed record AuditEntryDto(long Id, DateTime At, string ActorCorpId, string ActorUserId, string Action, string SubjectCorpId,
    IReadOnlyList<string> StudentUserIds, string Reason, string Outcome);

/// <summary>The audit log as admins read it: school admins their school's entries, the bureau's admins every school's.</summary>
internal static class AuditEndpoints
{
    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/audit", ListAsync).RequireAudience(Audience.Admins).WithTags("Audit").RequireAudience(Audience.Admins).WithName("Audit_List");
        return app;
    }

    /// <summary>Newest first, paged.</summary>
    private static async Task<Ok<Paged<AuditEntryDto>>> ListAsync(string? corpId, int? page, int? pageSize, Caller caller, AuditLog audit,
        CancellationToken ct)
    {
        var request = PageRequest.From(page, pageSize);
        IReadOnlyCollection<string>? scope;
        if (caller.HasAnywhere(Roles.BureauAdmin))
        {
            scope = corpId is null ? null : [corpId];
        }
        else
        {
            var administered = caller.CorpsWith(Roles.SchoolAdmin);
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
