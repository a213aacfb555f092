using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Vision;

/// <remarks>
/// 明眸 (docs/vision.md, docs/access.md): identifiable records go only to the class's teachers, the school's admins, the child's
/// guardians and grant holders, each read audited; statistics are aggregates for the bureau and each school's staff.
/// </remarks>
internal static class VisionEndpoints
{
    public static IEndpointRouteBuilder MapVisionEndpoints(this IEndpointRouteBuilder app)
    {
        var vision = app.MapGroup("/api/vision").WithTags("Vision").RequireAuthorization();
        vision.MapPost("/rounds", VisionRoundsEndpoints.CreateRoundAsync).RequireAudience(Audience.Person).WithName("Vision_CreateRound");
        vision.MapGet("/rounds", VisionRoundsEndpoints.ListRoundsAsync).RequireAudience(Audience.Staff).WithName("Vision_ListRounds");
        vision.MapGet("/rounds/{roundId:long}/progress", VisionRoundsEndpoints.ProgressAsync).RequireAudience(Audience.Bureau).WithName("Vision_Progress");
        vision.MapPut("/rounds/{roundId:long}/corps/{corpId}/students/{studentUserId}", VisionRecordsEndpoints.EnterOneAsync).RequireAudience(Audience.Person).WithName("Vision_EnterStudent");
        vision.MapGet("/rounds/{roundId:long}/corps/{corpId}/students/{studentUserId}", VisionRecordsEndpoints.GetStudentAsync).RequireAudience(Audience.Person).WithName("Vision_GetStudent");
        vision.MapPut("/rounds/{roundId:long}/corps/{corpId}/records", VisionRecordsEndpoints.EnterClassAsync).RequireAudience(Audience.Person).WithName("Vision_EnterClass");
        vision.MapGet("/rounds/{roundId:long}/corps/{corpId}/classes/{classId:long}/records", VisionRecordsEndpoints.ClassRecordsAsync).RequireAudience(Audience.Person).WithName("Vision_ClassRecords");
        vision.MapPost("/rounds/{roundId:long}/corps/{corpId}/imports", VisionRecordsEndpoints.ImportAsync).RequireAudience(Audience.Person).WithName("Vision_Import").DisableAntiforgery()
            .AcceptsUpload("The school's records in the import template's layout (GET /api/vision/import-template).", ContractFiles.Xlsx);
        vision.MapPost("/rounds/{roundId:long}/corps/{corpId}/publish", VisionRoundsEndpoints.PublishAsync).RequireAudience(Audience.Person).WithName("Vision_Publish");
        vision.MapGet("/import-template", VisionRecordsEndpoints.Template).RequireAudience(Audience.SignedIn).WithName("Vision_ImportTemplate").ProducesFile();
        vision.MapGet("/rounds/{roundId:long}/statistics", VisionStatisticsEndpoints.StatisticsAsync).RequireAudience(Audience.Bureau).WithName("Vision_Statistics");
        vision.MapGet("/rounds/{roundId:long}/statistics.xlsx", VisionStatisticsEndpoints.ExportAsync).RequireAudience(Audience.Bureau).WithName("Vision_StatisticsExport").ProducesFile();
        vision.MapGet("/trend", VisionStatisticsEndpoints.TrendAsync).RequireAudience(Audience.Bureau).WithName("Vision_Trend");
        vision.MapGet("/referrals/summary", VisionReferralsEndpoints.ReferralSummaryAsync).RequireAudience(Audience.Bureau).WithName("Vision_ReferralSummary");
        vision.MapGet("/classrooms/summary", VisionClassroomsEndpoints.ClassroomSummaryAsync).RequireAudience(Audience.Bureau).WithName("Vision_ClassroomSummary");

        var school = app.MapGroup("/api/corps/{corpId}/vision").WithTags("Vision").RequireAuthorization();
        school.MapGet("/referrals", VisionReferralsEndpoints.ReferralsAsync).RequireAudience(Audience.SchoolAdmin).WithName("Vision_Referrals");
        school.MapPost("/referrals/remind", VisionReferralsEndpoints.RemindAsync).RequireAudience(Audience.SchoolAdmin).WithName("Vision_RemindReferrals");
        school.MapGet("/classrooms", VisionClassroomsEndpoints.ClassroomsAsync).RequireAudience(Audience.SchoolStaffOrBureau).WithName("Vision_Classrooms");
        school.MapPut("/classrooms/{classroomId}", VisionClassroomsEndpoints.PutClassroomAsync).RequireAudience(Audience.SchoolAdmin).WithName("Vision_PutClassroom");

        var mine = app.MapGroup("/api/me/vision").WithTags("My children's vision").RequireAuthorization();
        mine.MapGet("/", VisionGuardianEndpoints.MyChildrenAsync).RequireAudience(Audience.Person).WithName("MyVision_Children");
        mine.MapGet("/{corpId}/{studentUserId}", VisionGuardianEndpoints.MyChildAsync).RequireAudience(Audience.GuardianOfChild).WithName("MyVision_Child");
        mine.MapPost("/referrals/{id:long}/acknowledge", VisionReferralsEndpoints.AcknowledgeAsync).RequireAudience(Audience.Person).WithName("MyVision_Acknowledge");
        mine.MapPost("/referrals/{id:long}/visit", VisionReferralsEndpoints.VisitAsync).RequireAudience(Audience.Person).WithName("MyVision_Visit");
        return app;
    }
}
