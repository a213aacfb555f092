using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Training;

internal sealed record ClaimDto(TrainingCredit Credit, long ApprovalRequestId);

[RequestSchema("credits")]
internal sealed record SetCreditsRequest(decimal? Credits);

[RequestSchema("passed")]
internal sealed record AppraisalRequest(bool? Passed);

/// <summary>A training with its sessions (each session's sign-in code only for the organiser's admins, to show on the spot).</summary>
internal sealed record TrainingView(TrainingEvent Training, IReadOnlyList<TrainingSession> Sessions, IReadOnlyDictionary<string, int> Quotas,
    IReadOnlyList<CreditPart> Parts);

[RequestSchema("corpId")]
internal sealed record EnrolRequest(string? CorpId);

internal sealed record EnrolmentDto(TrainingEnrolment Enrolment, long ApprovalRequestId);

[RequestSchema("code")]
internal sealed record SignInRequest(string? Code);

internal sealed record SignInDto(long SessionId, DateTime SignedAt);

internal sealed record ReopenDto(long ApprovalRequestId);

/// <summary>Teacher training credits (docs/training.md): a teacher's own record and claims; the school's list, records and appraisals.</summary>
internal static class TrainingEndpoints
{
    public static IEndpointRouteBuilder MapTrainingEndpoints(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/me/training").WithTags("My training credits");
        mine.MapGet("", MineAsync).RequireAudience(Audience.Staff).WithName("MyTraining_Record");
        mine.MapPost("/claims", ClaimAsync).RequireAudience(Audience.Staff).WithName("MyTraining_Claim");
        mine.MapGet("/archive", MyArchiveAsync).RequireAudience(Audience.Staff).WithName("MyTraining_Archive");
        mine.MapGet("/archive.xlsx", MyArchiveExportAsync).RequireAudience(Audience.Staff).WithName("MyTraining_ArchiveExport").ProducesFile();
        mine.MapPost("/prior-approvals", PriorApprovalAsync).RequireAudience(Audience.Staff).WithName("MyTraining_PriorApproval");
        mine.MapPut("/claims/{id:long}/evidence", AttachEvidenceAsync).RequireAudience(Audience.Staff).WithName("MyTraining_AttachEvidence")
            .DisableAntiforgery().AcceptsUpload("The certificate, a scan or a photo.", TrainingService.EvidenceContentTypes);
        app.MapGet("/api/training/claims/{id:long}/evidence", EvidenceAsync).WithTags("Training credits").RequireAudience(Audience.Staff)
            .WithName("Training_Evidence").ProducesFile(TrainingService.EvidenceContentTypes);

        var school = app.MapGroup("/api/corps/{corpId}/training").WithTags("Training credits");
        school.MapGet("/teachers", SchoolAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_Teachers");
        school.MapGet("/teachers/{userId}", TeacherAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_Teacher");
        school.MapGet("/teachers/{userId}/archive", TeacherArchiveAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_TeacherArchive");
        school.MapGet("/teachers/{userId}/archive.xlsx", TeacherArchiveExportAsync).RequireAudience(Audience.SchoolAdmin)
            .WithName("Training_TeacherArchiveExport").ProducesFile();
        school.MapPut("/teachers/{userId}/profile", ProfileAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_TeacherProfile");
        school.MapGet("/report", SchoolReportAsync).RequireAudience(Audience.SchoolAdminOrBureau).WithName("Training_SchoolReport");
        school.MapGet("/report.xlsx", SchoolReportExportAsync).RequireAudience(Audience.SchoolAdminOrBureau).WithName("Training_SchoolReportExport").ProducesFile();
        school.MapPut("/teachers/{userId}/appraisals/{year:int}", AppraisalAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_Appraisal");
        school.MapPost("/credits", RecordAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_Record");
        school.MapPut("/claims/{id:long}/credits", SetCreditsAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_SetCredits");
        school.MapPost("/provincial-imports", ProvincialImportAsync).RequireAudience(Audience.SchoolAdminOrBureau).WithName("Training_ProvincialImport")
            .DisableAntiforgery().AcceptsUpload("The provincial platform's xlsx export, as downloaded.", ContractFiles.Xlsx);
        school.MapGet("/years", YearsAsync).RequireAudience(Audience.SchoolAdminOrBureau).WithName("Training_Years");
        school.MapPost("/years/{year:int}/confirm", ConfirmYearAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_ConfirmYear");
        school.MapPost("/years/{year:int}/reopen", ReopenYearAsync).RequireAudience(Audience.SchoolAdmin).WithName("Training_ReopenYear");
        school.MapGet("/registration-runs/{id:long}", SchoolRegistrationRunAsync).RequireAudience(Audience.SchoolAdminOrBureau)
            .WithName("Training_SchoolRegistrationRun");
        var city = app.MapGroup("/api/training").WithTags("Training credits");
        city.MapGet("/report", CityReportAsync).RequireAudience(Audience.Bureau).WithName("Training_CityReport");
        city.MapGet("/report.xlsx", CityReportExportAsync).RequireAudience(Audience.Bureau).WithName("Training_CityReportExport").ProducesFile();
        city.MapPost("/years/{year:int}/lock", LockYearAsync).RequireAudience(Audience.Bureau).WithName("Training_LockYear");
        city.MapPost("/registration-runs", CreateRegistrationRunAsync).RequireAudience(Audience.Bureau).WithName("Training_CreateRegistrationRun");
        city.MapGet("/registration-runs/{id:long}", RegistrationRunAsync).RequireAudience(Audience.Bureau).WithName("Training_RegistrationRun");
        school.MapGet("/unregistered", UnregisteredAsync).RequireAudience(Audience.SchoolAdminOrBureau).WithName("Training_Unregistered");

        var trainings = app.MapGroup("/api/trainings").WithTags("Trainings");
        trainings.MapPost("", CreateTrainingAsync).RequireAudience(Audience.Admins).WithName("Trainings_Create");
        trainings.MapGet("/{id:long}", TrainingAsync).RequireAudience(Audience.Staff).WithName("Trainings_Get");
        trainings.MapPost("/{id:long}/enrol", EnrolAsync).RequireAudience(Audience.Staff).WithName("Trainings_Enrol");
        trainings.MapPost("/{id:long}/sessions/{sessionId:long}/sign-in", SignInAsync).RequireAudience(Audience.Staff).WithName("Trainings_SignIn");
        trainings.MapPut("/{id:long}/results", ResultsAsync).RequireAudience(Audience.Admins).WithName("Trainings_Results");
        app.MapGet("/api/certificates/{code}", VerifyAsync).WithTags("Trainings").RequireAudience(Audience.Anonymous).WithName("Certificates_Verify");
        return app;
    }

    private static async Task<Ok<TrainingArchive>> MyArchiveAsync(Caller caller, TrainingService service, CancellationToken ct) =>
        TypedResults.Ok(await service.MyArchiveAsync(caller, ct));

    private static async Task<FileContentHttpResult> MyArchiveExportAsync(Caller caller, TrainingService service, CancellationToken ct)
    {
        var archive = await service.MyArchiveAsync(caller, ct);
        return await Xlsx.FileAsync(ArchiveWorkbook(archive), $"training-archive-{archive.Record.UserId}.xlsx", null, ct);
    }

    private static async Task<Ok<TrainingArchive>> TeacherArchiveAsync(string corpId, string userId, Caller caller, TrainingService service,
        CancellationToken ct) =>
        TypedResults.Ok(await service.TeacherArchiveAsync(caller, corpId, userId, ct));

    private static async Task<FileContentHttpResult> TeacherArchiveExportAsync(string corpId, string userId, Caller caller, TrainingService service,
        CancellationToken ct) =>
        await Xlsx.FileAsync(ArchiveWorkbook(await service.TeacherArchiveAsync(caller, corpId, userId, ct)), $"training-archive-{userId}.xlsx", null, ct);

    /// <summary>A teacher's archive as a workbook: credits, trainings and certificates, appraisals, registrations; headers in Chinese.</summary>
    private static Dictionary<string, object> ArchiveWorkbook(TrainingArchive a) => new()
    {
        ["学分记录"] = a.Record.Credits.Select(c => new Dictionary<string, object?>
        {
            ["编号"] = c.Id, ["学校"] = c.CorpId, ["项目"] = c.Title, ["机构"] = c.Organiser, ["结束日期"] = c.EarnedOn.ToString("yyyy-MM-dd"),
            ["类别"] = c.Kind, ["来源"] = c.Source, ["知识领域"] = c.Domain, ["层次"] = c.Level, ["学分"] = c.Credits, ["学时"] = c.Hours,
            ["状态"] = c.Status, ["证明"] = c.EvidenceUrl,
        }).ToList(),
        ["培训与证书"] = a.Trainings.Select(t => new Dictionary<string, object?>
        {
            ["培训"] = t.Title, ["主办"] = t.OrganiserCorpId, ["报名状态"] = t.Status, ["结果"] = t.Result, ["证书验证码"] = t.CertificateCode,
        }).ToList(),
        ["年度考核"] = a.Record.Appraisals.Select(x => new Dictionary<string, object?> { ["年度"] = x.Year, ["合格"] = x.Passed ? "是" : "否" }).ToList(),
        ["定期注册"] = a.Registrations.Select(r => new Dictionary<string, object?>
        {
            ["批次"] = r.RunName, ["学校"] = r.CorpId, ["周期学分"] = r.Total, ["结果"] = r.Outcome, ["原因"] = r.Reasons,
        }).ToList(),
    };

    /// <summary>The school records a teacher's own cycle start and role periods (新任教师 probation, 新任校长); it replaces the last.</summary>
    private static async Task<Ok<TeacherRecord>> ProfileAsync(string corpId, string userId, TeacherProfileRequest request, Caller caller,
        TeacherProfiles profiles, TrainingService service, CancellationToken ct)
    {
        await profiles.SaveAsync(caller, corpId, userId, request, ct);
        return TypedResults.Ok(await service.TeacherAsync(caller, corpId, userId, ct));
    }

    private static async Task<Ok<TrainingReport>> SchoolReportAsync(string corpId, int? year, Caller caller, TrainingReports reports, CancellationToken ct) =>
        TypedResults.Ok(await reports.SchoolAsync(caller, corpId, year, ct));

    private static async Task<FileContentHttpResult> SchoolReportExportAsync(string corpId, int? year, Caller caller, TrainingReports reports,
        CancellationToken ct)
    {
        var report = await reports.SchoolAsync(caller, corpId, year, ct);
        return await Xlsx.FileAsync(TrainingReports.Workbook(report), $"training-report-{corpId}-{report.Year}.xlsx", null, ct);
    }

    private static async Task<Ok<TrainingReport>> CityReportAsync(int? year, Caller caller, TrainingReports reports, CancellationToken ct) =>
        TypedResults.Ok(await reports.CityAsync(caller, year, ct));

    private static async Task<FileContentHttpResult> CityReportExportAsync(int? year, Caller caller, TrainingReports reports, CancellationToken ct)
    {
        // The workbook lists every teacher at risk, not only the first of the JSON report.
        var report = await reports.CityAsync(caller, year, ct, int.MaxValue);
        return await Xlsx.FileAsync(TrainingReports.Workbook(report), $"training-report-city-{report.Year}.xlsx", null, ct);
    }

    /// <summary>
    /// The provincial platform's xlsx export, for a school (its admins) or the city (the bureau's admins, corpId = the
    /// bureau): each problem by row and column; onErrors=reject (default) stores nothing when a row is bad, skip stores the good rows.
    /// </summary>
    private static async Task<Ok<ProvincialImportReport>> ProvincialImportAsync(string corpId, string? onErrors, HttpRequest http, Caller caller,
        ProvincialImports imports, CancellationToken ct)
    {
        imports.RequireScope(caller, corpId);
        var (fileName, content) = await Xlsx.ReadUploadAsync(http, 30 * 1024 * 1024, "at most 30 MB (split the file by school)", ct);
        return TypedResults.Ok(await imports.ImportAsync(caller, corpId, fileName, content, onErrors ?? "reject", ct));
    }

    /// <summary>The school's approved local credits in this cycle that the provincial platform has no record of yet (to register there).</summary>
    private static async Task<Ok<IReadOnlyList<UnregisteredCredit>>> UnregisteredAsync(string corpId, Caller caller, AccessPolicy access,
        ProvincialImports imports, CancellationToken ct)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            access.RequireSchoolAdmin(caller, corpId, "the school registers its teachers' credits");
        }

        access.School(corpId);
        return TypedResults.Ok(await imports.UnregisteredAsync(corpId, ct));
    }

    private static async Task<Ok<IReadOnlyList<TrainingYear>>> YearsAsync(string corpId, Caller caller, TrainingYears years, CancellationToken ct) =>
        TypedResults.Ok(await years.OfSchoolAsync(caller, corpId, ct));

    /// <summary>The school confirms its teachers' year (before the bureau locks it).</summary>
    private static async Task<Ok<TrainingYear>> ConfirmYearAsync(string corpId, int year, Caller caller, TrainingYears years, CancellationToken ct) =>
        TypedResults.Ok(await years.ConfirmAsync(caller, corpId, year, ct));

    /// <summary>A correction: asks the bureau to reopen a locked year for the school (approval kind training-year-reopen).</summary>
    private static async Task<Created<ReopenDto>> ReopenYearAsync(string corpId, int year, ReopenRequest request, Caller caller, TrainingYears years,
        CancellationToken ct)
    {
        var approval = await years.RequestReopenAsync(caller, corpId, year, request.Reason, ct);
        return TypedResults.Created($"/api/approvals/{approval.Id}", new ReopenDto(approval.Id));
    }

    /// <summary>The bureau locks a year for every school; the schools that had not confirmed it are listed.</summary>
    private static async Task<Ok<LockResult>> LockYearAsync(int year, Caller caller, TrainingYears years, CancellationToken ct) =>
        TypedResults.Ok(await years.LockAsync(caller, year, ct));

    /// <summary>定期注册: every current teacher's standing frozen as a snapshot.</summary>
    private static async Task<Created<RegistrationRunView>> CreateRegistrationRunAsync(RegistrationRunRequest request, Caller caller,
        RegistrationRuns runs, CancellationToken ct)
    {
        var view = await runs.CreateAsync(caller, request, ct);
        return TypedResults.Created($"/api/training/registration-runs/{view.Run.Id}", view);
    }

    private static async Task<Ok<RegistrationRunView>> RegistrationRunAsync(long id, Caller caller, RegistrationRuns runs, CancellationToken ct) =>
        TypedResults.Ok(await runs.GetAsync(caller, id, null, ct));

    private static async Task<Ok<RegistrationRunView>> SchoolRegistrationRunAsync(string corpId, long id, Caller caller, RegistrationRuns runs,
        CancellationToken ct) =>
        TypedResults.Ok(await runs.GetAsync(caller, id, corpId, ct));

    /// <summary>A certificate file (PDF, PNG or JPEG, multipart field <c>file</c>) for the caller's claim under review.</summary>
    private static async Task<NoContent> AttachEvidenceAsync(long id, HttpRequest http, Caller caller, TrainingService service,
        IOptions<TrainingOptions> options, CancellationToken ct)
    {
        TrainingService.RequireTeacher(caller);
        var max = options.Value.EvidenceMaxBytes;
        var (fileName, content) = await Uploads.ReadFileAsync(http, max, $"at most {max / 1024} KiB", ct);
        await service.AttachEvidenceAsync(caller, id, fileName, content, ct);
        return TypedResults.NoContent();
    }

    /// <summary>A claim's evidence file: its teacher, the school's admins, the bureau's.</summary>
    private static async Task<FileContentHttpResult> EvidenceAsync(long id, Caller caller, TrainingService service, CancellationToken ct)
    {
        var (fileName, contentType, content) = await service.EvidenceAsync(caller, id, ct);
        return TypedResults.File(content, contentType, fileName);
    }

    /// <summary>Asks the school beforehand to count a training at a non-vetted institution (事前审批).</summary>
    private static async Task<Created<PriorApprovalDto>> PriorApprovalAsync(PriorApprovalRequest request, Caller caller, PriorApprovals priorApprovals,
        CancellationToken ct)
    {
        var (prior, approvalRequestId) = await priorApprovals.RequestAsync(caller, request, ct);
        return TypedResults.Created($"/api/approvals/{approvalRequestId}", new PriorApprovalDto(prior, approvalRequestId));
    }

    private static async Task<Created<TrainingView>> CreateTrainingAsync(TrainingRequest request, Caller caller, Trainings trainings, CancellationToken ct)
    {
        var training = await trainings.CreateAsync(caller, request, ct);
        var (t, sessions) = await trainings.ViewAsync(caller, training.Id, ct);
        return TypedResults.Created($"/api/trainings/{t.Id}", new TrainingView(t, sessions, await trainings.QuotasAsync(t.Id, ct), await trainings.PartsAsync(t.Id, ct)));
    }

    private static async Task<Ok<TrainingView>> TrainingAsync(long id, Caller caller, Trainings trainings, CancellationToken ct)
    {
        var (t, sessions) = await trainings.ViewAsync(caller, id, ct);
        return TypedResults.Ok(new TrainingView(t, sessions, await trainings.QuotasAsync(t.Id, ct), await trainings.PartsAsync(t.Id, ct)));
    }

    private static async Task<Created<EnrolmentDto>> EnrolAsync(long id, EnrolRequest request, Caller caller, Trainings trainings, CancellationToken ct)
    {
        var (enrolment, approvalRequestId) = await trainings.EnrolAsync(caller, id, request.CorpId, ct);
        return TypedResults.Created($"/api/approvals/{approvalRequestId}", new EnrolmentDto(enrolment, approvalRequestId));
    }

    private static async Task<Ok<SignInDto>> SignInAsync(long id, long sessionId, SignInRequest request, Caller caller, Trainings trainings,
        CancellationToken ct) =>
        TypedResults.Ok(new SignInDto(sessionId, await trainings.SignInAsync(caller, id, sessionId, request.Code, ct)));

    private static async Task<Ok<IReadOnlyList<TrainingEnrolment>>> ResultsAsync(long id, ResultsRequest request, Caller caller, Trainings trainings,
        CancellationToken ct) =>
        TypedResults.Ok(await trainings.ResultsAsync(caller, id, request.Results ?? [], ct));

    private static async Task<Ok<CertificateDto>> VerifyAsync(string code, Trainings trainings, CancellationToken ct) =>
        TypedResults.Ok(await trainings.VerifyAsync(code, ct));

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
