using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Training;

internal sealed record ClaimDto(TrainingCredit Credit, long ApprovalRequestId);

[RequestSchema("credits")]
internal sealed record SetCreditsRequest(decimal? Credits);

[RequestSchema("passed")]
internal sealed record AppraisalRequest(bool? Passed);

/// <summary>Teacher training credits (docs/training.md): a teacher's own record and claims; the school's list, records and appraisals.</summary>
internal static class TrainingEndpoints
{
    public static IEndpointRouteBuilder MapTrainingEndpoints(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/me/training").WithTags("My training credits");
        mine.MapGet("", MineAsync).RequireAudience(Audience.Staff).WithName("MyTraining_Record");
        mine.MapPost("/claims", ClaimAsync).RequireAudience(Audience.Staff).WithName("MyTraining_Claim");

        var school = app.MapGroup("/api/corps/{corpId}/training").WithTags("Training credits");
        school.MapGet("/teachers", SchoolAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_Teachers");
        school.MapGet("/teachers/{userId}", TeacherAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_Teacher");
        school.MapPut("/teachers/{userId}/appraisals/{year:int}", AppraisalAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_Appraisal");
        school.MapPost("/credits", RecordAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_Record");
        school.MapPut("/claims/{id:long}/credits", SetCreditsAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_SetCredits");
        return app;
    }

    private static async Task<Ok<TeacherRecord>> MineAsync(Caller caller, TrainingService training, CancellationToken ct) =>
        TypedResults.Ok(await training.MineAsync(caller, ct));

    private static async Task<Created<ClaimDto>> ClaimAsync(CreditRequest request, Caller caller, TrainingService training, CancellationToken ct)
    {
        var (credit, approvalRequestId) = await training.ClaimAsync(caller, request, ct);
        return TypedResults.Created($"/api/approvals/{approvalRequestId}", new ClaimDto(credit, approvalRequestId));
    }

    private static async Task<Ok<IReadOnlyList<TeacherStanding>>> SchoolAsync(string corpId, Caller caller, TrainingService training,
        CancellationToken ct) =>
        TypedResults.Ok(await training.SchoolAsync(caller, corpId, ct));

    private static async Task<Ok<TeacherRecord>> TeacherAsync(string corpId, string userId, Caller caller, TrainingService training,
        CancellationToken ct) =>
        TypedResults.Ok(await training.TeacherAsync(caller, corpId, userId, ct));

    private static async Task<NoContent> AppraisalAsync(string corpId, string userId, int year, AppraisalRequest request, Caller caller,
        TrainingService training, CancellationToken ct)
    {
        await training.AppraisalAsync(caller, corpId, userId, year, request.Passed, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Created<TrainingCredit>> RecordAsync(string corpId, CreditRequest request, Caller caller, TrainingService training,
        CancellationToken ct)
    {
        var credit = await training.RecordAsync(caller, corpId, request, ct);
        return TypedResults.Created($"/api/corps/{corpId}/training/teachers/{credit.UserId}", credit);
    }

    private static async Task<Ok<TrainingCredit>> SetCreditsAsync(string corpId, long id, SetCreditsRequest request, Caller caller,
        TrainingService training, CancellationToken ct) =>
        TypedResults.Ok(await training.SetCreditsAsync(caller, corpId, id, request.Credits, ct));
}
