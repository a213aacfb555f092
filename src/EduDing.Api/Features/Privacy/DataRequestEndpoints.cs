using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Privacy;

[RequestSchema("kind", "detail")]
internal sealed record DataRequestBody([property: CodeValues(typeof(DataRequestKind))] string? Kind,
    [property: CodeValues(typeof(ConsentPurpose))] string? Purpose, string? Detail);

/// <summary>
/// A guardian's correction or deletion request and where it stands: <c>reply</c> says what the school or EduDing did,
/// or why not; <c>approvalId</c> is the request the school's admins decide.
/// </summary>
internal sealed record DataRequestDto(long Id, [property: CodeValues(typeof(DataRequestKind))] string Kind,
    [property: CodeValues(typeof(ConsentPurpose))] string? Purpose, string Detail, [property: CodeValues(typeof(DataRequestStatus))] string Status,
    string? Reply, long? ApprovalId, DateTime CreatedAt, DateTime? DecidedAt)
{
    public static DataRequestDto From(DataRequest r) => new(r.Id, r.Kind, r.Purpose, r.Detail, r.Status, r.Outcome, r.ApprovalId, r.CreatedAt, r.DecidedAt);
}

/// <summary>Guardians' rights over their child's data (PIPL art. 44–47, docs/privacy.md): a copy, corrections and deletions.</summary>
internal static class DataRequestEndpoints
{
    public const string ExportAction = "privacy.child.export";
    public const string RequestAction = "privacy.request";
    public const string OutcomeAction = "privacy.request.outcome";

    public static IEndpointRouteBuilder MapDataRequestEndpoints(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/me/privacy/{corpId}/{studentUserId}").WithTags("Privacy");
        mine.MapGet("/export", ExportAsync).RequireAudience(Audience.GuardianOfChild).WithName("MyPrivacy_Export")
            .ProducesFile("application/json", Xlsx.ContentType);
        mine.MapPost("/requests", CreateAsync).RequireAudience(Audience.GuardianOfChild).WithName("MyPrivacy_Request");
        mine.MapGet("/requests", ListAsync).RequireAudience(Audience.GuardianOfChild).WithName("MyPrivacy_Requests");
        return app;
    }

    /// <summary>
    /// Everything EduDing holds about the child, for their guardian: <c>format=json</c> (default) or <c>xlsx</c> (a sheet
    /// per kind of record). Audited as an export.
    /// </summary>
    private static async Task<IResult> ExportAsync(string corpId, string studentUserId, string? format, Caller caller, AccessPolicy access,
        ChildDataExport export, AuditLog audit, CancellationToken ct)
    {
        await access.RequireGuardianAsync(caller, corpId, studentUserId, ExportAction, "a copy of the child's data (own child)", ct);
        if (format is not (null or "json" or "xlsx"))
        {
            throw new RequestValidationException("format", "must be json or xlsx");
        }

        var data = await export.ReadAsync(corpId, studentUserId, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, ExportAction, corpId, [studentUserId],
            $"guardian's copy of the child's data ({format ?? "json"}, {data.Sections.Sum(s => s.Value.Count)} rows)", AuditLog.Allowed, ct);
        return format == "xlsx"
            ? await Xlsx.FileAsync(ChildDataExport.Sheets(data), $"孩子的个人信息-{studentUserId}.xlsx", null, ct)
            : TypedResults.Json(data, statusCode: StatusCodes.Status200OK);
    }

    /// <summary>
    /// A correction (what is wrong, in <c>detail</c>) or a deletion (of one <c>purpose</c>'s data). A deletion a retention
    /// duty prevents is refused at once with the reason; anything else goes to the school's admins. 201 either way.
    /// </summary>
    private static async Task<Created<DataRequestDto>> CreateAsync(string corpId, string studentUserId, DataRequestBody request, Caller caller,
        AccessPolicy access, OrgDirectory directory, DataRequestRepository requests, ChildDataEraser eraser, ApprovalService approvals, AuditLog audit,
        TimeProvider time, CancellationToken ct)
    {
        var guardianUserId = await access.RequireGuardianAsync(caller, corpId, studentUserId, RequestAction, "a data request (own child)", ct);
        var errors = new Dictionary<string, string[]>();
        if (request.Kind is null || !DataRequestKind.All.Contains(request.Kind))
        {
            errors["kind"] = [$"must be one of {string.Join(", ", DataRequestKind.All)}"];
        }

        if (request.Kind == DataRequestKind.Deletion && (request.Purpose is null || !ConsentPurpose.All.Contains(request.Purpose)))
        {
            errors["purpose"] = [$"is required for a deletion: the data of which purpose ({string.Join(", ", ConsentPurpose.All)})"];
        }
        else if (request.Purpose is not null && !ConsentPurpose.All.Contains(request.Purpose))
        {
            errors["purpose"] = [$"must be one of {string.Join(", ", ConsentPurpose.All)} or omitted"];
        }

        if (string.IsNullOrWhiteSpace(request.Detail) || request.Detail.Length > 1000)
        {
            errors["detail"] = ["is required (what is wrong, or why the data should go), at most 1,000 characters"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var now = time.UtcNowForDatabase();
        var hold = request.Kind == DataRequestKind.Deletion
            ? await requests.Database.InTransactionAsync((tx, token) => eraser.HoldAsync(tx, corpId, studentUserId, request.Purpose!, token), ct)
            : null;
        var id = await requests.CreateAsync(corpId, studentUserId, request.Kind!, request.Purpose, request.Detail!.Trim(), (corpId, guardianUserId),
            hold is null ? DataRequestStatus.Pending : DataRequestStatus.Refused, hold, now, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, RequestAction, corpId, [studentUserId],
            $"data request #{id}: {request.Kind} {request.Purpose}{(hold is null ? ", to the school" : ", refused: retention duty")}", AuditLog.Allowed, ct);
        if (hold is null)
        {
            var child = (await directory.StudentPlacementAsync(corpId, studentUserId, ct))?.Name ?? studentUserId;
            var what = request.Kind == DataRequestKind.Correction ? "更正" : "删除";
            var approval = await approvals.SubmitAsync(new ApprovalSubmission(DataRequestApprovalKind.Name, corpId, id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{child}的监护人申请{what}个人信息", request.Detail.Trim()), (corpId, guardianUserId), ct);
            await requests.SetApprovalAsync(id, approval.Id, ct);
        }

        return TypedResults.Created($"/api/me/privacy/{corpId}/{studentUserId}/requests", DataRequestDto.From((await requests.FindAsync(id, ct))!));
    }

    /// <summary>The child's requests, newest first, with their outcomes.</summary>
    private static async Task<Ok<IReadOnlyList<DataRequestDto>>> ListAsync(string corpId, string studentUserId, Caller caller, AccessPolicy access,
        DataRequestRepository requests, CancellationToken ct)
    {
        await access.RequireGuardianAsync(caller, corpId, studentUserId, ConsentEndpoints.ReadAction, "data requests (own child)", ct);
        return TypedResults.Ok<IReadOnlyList<DataRequestDto>>((await requests.ForChildAsync(corpId, studentUserId, ct)).Select(DataRequestDto.From).ToList());
    }
}
