using EduDing.Api.Features.Audit;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Identity;

internal sealed record AuditEntryDto(long Id, DateTime At, string ActorCorpId, string ActorUserId, string Action, string SubjectCorpId,
    IReadOnlyList<string> StudentUserIds, string Reason, [property: CodeValues(typeof(AuditLog))] string Outcome);

/// <summary>One audit entry with its link in its chain (null chain: written before chains existed).</summary>
internal sealed record AuditExtractEntryDto(long Id, DateTime At, string ActorCorpId, string ActorUserId, string Action, string SubjectCorpId,
    IReadOnlyList<string> StudentUserIds, string Reason, [property: CodeValues(typeof(AuditLog))] string Outcome, string? Chain, long? Seq, string? PrevHash, string? Hash);

/// <summary>An extract for an inspection: the days, what their verification found, and every entry.</summary>
internal sealed record AuditExtractDto(DateOnly From, DateOnly To, AuditVerification Verification, IReadOnlyList<AuditExtractEntryDto> Entries);

/// <summary>The audit log as admins read it: school admins their school's entries, the bureau's admins every school's.</summary>
internal static class AuditEndpoints
{
    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/audit", ListAsync).RequireAudience(Audience.Admins).WithTags("Audit").WithName("Audit_List");
        app.MapGet("/api/audit/verify", VerifyAsync).RequireAudience(Audience.Bureau).WithTags("Audit").WithName("Audit_Verify");
        app.MapGet("/api/audit/extract", ExtractAsync).RequireAudience(Audience.Bureau).WithTags("Audit").WithName("Audit_Extract");
        return app;
    }

    /// <summary>An extract's most entries; a longer span is asked for in parts.</summary>
    public const int MaxExtractEntries = 100_000;

    /// <summary>
    /// Checks the audit chains of Beijing days <c>from</c> to <c>to</c> (the last 7 days by default) and reports the first
    /// broken link: the entry altered or missing, or the chain cut short. Bureau admins.
    /// </summary>
    private static async Task<Ok<AuditVerification>> VerifyAsync(DateOnly? from, DateOnly? to, Caller caller, AuditChainVerifier verifier,
        TimeProvider time, CancellationToken ct)
    {
        RequireBureauAdmin(caller);
        var (first, last) = DayRange.Of(from, to, 7, time);
        return TypedResults.Ok(await verifier.VerifyAsync(first, last, ct));
    }

    /// <summary>
    /// The audit entries of Beijing days <c>from</c> to <c>to</c> with their chains and hashes, for an inspection: whoever
    /// holds the chain key can check every link outside EduDing (docs/audit-chain.md). Bureau admins; the extract is audited.
    /// </summary>
    private static async Task<Ok<AuditExtractDto>> ExtractAsync(DateOnly? from, DateOnly? to, Caller caller, AuditLog audit,
        AuditChainVerifier verifier, TimeProvider time, CancellationToken ct)
    {
        RequireBureauAdmin(caller);
        var (first, last) = DayRange.Of(from, to, 7, time);
        var entries = await audit.ExtractAsync(first, last, MaxExtractEntries + 1, ct);
        if (entries.Count > MaxExtractEntries)
        {
            throw new RequestValidationException("to", $"the days asked for hold more than {MaxExtractEntries} entries; ask for fewer days");
        }

        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "audit.extract", caller.Account.CorpId, [],
            $"audit extract {first:yyyy-MM-dd}..{last:yyyy-MM-dd}: {entries.Count} entries", AuditLog.Allowed, ct);
        return TypedResults.Ok(new AuditExtractDto(first, last, await verifier.VerifyAsync(first, last, ct), entries.Select(e =>
            new AuditExtractEntryDto(e.Id, e.At, e.ActorCorpId, e.ActorUserId, e.Action, e.SubjectCorpId,
                e.StudentUserIds.Split(',', StringSplitOptions.RemoveEmptyEntries), e.Reason, e.Outcome, e.Chain, e.Seq, e.PrevHash, e.Hash)).ToList()));
    }

    private static void RequireBureauAdmin(Caller caller)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            throw new ForbiddenException("Missing scope: admin of the bureau.");
        }
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
