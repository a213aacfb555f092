using EduDing.Api.Data;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using MiniExcelLibs;

namespace EduDing.Api.Features.Vision;

/// <summary>A record as the API takes it; glasses is none, frame, contact or ok-lens; acuities are 5-point values.</summary>
[RequestSchema("studentUserId", "sex", "birthDate", "screenedOn", "glasses")]
internal sealed record RecordRequest(string? StudentUserId, string? Sex, DateOnly? BirthDate, DateOnly? ScreenedOn, string? Glasses,
    decimal? UcvaRight, decimal? UcvaLeft, decimal? WalkDistanceRight, decimal? WalkDistanceLeft, decimal? CvaRight, decimal? CvaLeft,
    decimal? SphereRight, decimal? CylinderRight, int? AxisRight, decimal? SphereLeft, decimal? CylinderLeft, int? AxisLeft,
    decimal? AxialLengthRight, decimal? AxialLengthLeft, string? NotTestableReason);

[RequestSchema("records")]
internal sealed record ClassRecordsRequest(IReadOnlyList<RecordRequest?>? Records);

internal sealed record RoundDto(long Id, string Kind, string KindName, int SchoolYear, string Name, string? CorpId, DateOnly OpensOn,
    DateOnly ClosesOn, long? RescreenOf)
{
    public static RoundDto From(VisionRound r) => new(r.Id, r.Kind, RoundKind.Chinese(r.Kind), r.SchoolYear, r.Name, r.CorpId, r.OpensOn,
        r.ClosesOn, r.RescreenOf);
}

internal sealed record ProgressItem(string CorpId, long? ClassId, string Name, int Enrolled, int Screened, decimal? Coverage);

internal sealed record RoundProgressDto(RoundDto Round, IReadOnlyList<ProgressItem> Schools, IReadOnlyList<ProgressItem> Classes);

internal sealed record EyeDto(decimal? Ucva, decimal? WalkDistance, decimal? Cva, decimal? Sphere, decimal? Cylinder, int? Axis, decimal? AxialLength,
    decimal? SphericalEquivalent);

internal sealed record RecordDto(long RoundId, string CorpId, string StudentUserId, long ClassId, string Sex, DateOnly BirthDate, DateOnly ScreenedOn,
    int AgeYears, string Glasses, EyeDto Right, EyeDto Left, string? NotTestableReason, string? PoorVision, bool? Myopic, string? MyopiaGrade,
    bool Valid, bool FollowUp, bool BelowAgeNorm, bool NeedsReferral, string RuleSet, int Version, string Source, string EnteredByUserId,
    DateTime EnteredAt)
{
    public static RecordDto From(VisionRecord r) => new(r.RoundId, r.CorpId, r.StudentUserId, r.ClassId, r.Sex, r.BirthDate, r.ScreenedOn, r.AgeYears,
        r.Glasses, new EyeDto(r.UcvaR, r.WalkDistanceR, r.CvaR, r.SphereR, r.CylinderR, r.AxisR, r.AxialLengthR, r.SeR),
        new EyeDto(r.UcvaL, r.WalkDistanceL, r.CvaL, r.SphereL, r.CylinderL, r.AxisL, r.AxialLengthL, r.SeL), r.NotTestableReason, r.PoorVision,
        r.Myopic, r.MyopiaGrade, r.Valid, r.FollowUp, r.BelowAgeNorm, r.NeedsReferral, r.RuleSet, r.Version, r.Source, r.EnteredByUserId, r.EnteredAt);
}

internal sealed record SavedDto(int Created, int Updated, int Unchanged);

internal sealed record StudentVisionDto(RecordDto Current, IReadOnlyList<RecordDto> EarlierVersions);

/// <summary>One group's figures; a suppressed group (too few children to show outside the school) has only its key and label.</summary>
internal sealed record StatisticsRowDto(string Key, string Label, int? Enrolled, int? Screened, int? Valid, int? Myopic, decimal? MyopiaRate,
    int? MyopiaLow, int? MyopiaModerate, int? MyopiaHigh, int? OkLens, int? PoorVisionKnown, int? PoorVision, decimal? PoorVisionRate,
    decimal? Coverage, bool Suppressed = false)
{
    public static StatisticsRowDto From(StatRow r) => new(r.Key, r.Label, r.Enrolled, r.Screened, r.Valid, r.Myopic, r.MyopiaRate, r.MyopiaLow,
        r.MyopiaModerate, r.MyopiaHigh, r.OkLens, r.PoorVisionKnown, r.PoorVision, r.PoorVisionRate, r.Coverage);

    /// <summary>The row as shown outside the school: withheld when 0 &lt; screened &lt; <paramref name="minimum"/>.</summary>
    public StatisticsRowDto SuppressedBelow(int minimum) => Screened is > 0 && Screened < minimum
        ? new(Key, Label, null, null, null, null, null, null, null, null, null, null, null, null, null, Suppressed: true)
        : this;
}

internal sealed record YearOnYearDto(long RoundId, string Name, decimal? MyopiaRate, decimal? Change);

/// <summary>
/// The plan's binding indicator (docs/vision.md): the myopia rate below <see cref="Limit"/> percent by <see cref="ByYear"/>,
/// compared strictly (a rate equal to the limit does not meet it). <see cref="Met"/> is null without a rate.
/// </summary>
internal sealed record BindingTargetDto(int ByYear, decimal Limit, string Comparison, decimal? Rate, bool? Met);

/// <summary>
/// The plan's annual decline: at least <see cref="RequiredDrop"/> percentage points below the same round a year earlier
/// (rate ≤ previous − drop). Null fields where either round has no rate.
/// </summary>
internal sealed record AnnualDeclineDto(long PreviousRoundId, decimal? PreviousRate, decimal RequiredDrop, decimal? RequiredRate, decimal? Rate,
    decimal? Drop, bool? Met);

internal sealed record TargetsDto(BindingTargetDto Binding, AnnualDeclineDto? AnnualDecline);

internal sealed record StatisticsDto(RoundDto Round, string By, string? CorpId, IReadOnlyList<StatisticsRowDto> Rows, StatisticsRowDto? Total,
    YearOnYearDto? SameRoundLastYear, TargetsDto? Targets, IReadOnlyDictionary<string, TargetsDto>? RowTargets);

internal sealed record TrendPoint(long RoundId, string Name, DateOnly OpensOn, int Screened, int Valid, decimal? MyopiaRate, decimal? PoorVisionRate,
    decimal Target);

/// <summary>A correction made after the results were published: when, and what it changed in plain words.</summary>
internal sealed record CorrectionDto(DateTime CorrectedAt, int Version, IReadOnlyList<string> Changes);

internal sealed record ResultDto(RoundDto Round, RecordDto Record, ResultForParents Words, IReadOnlyList<CorrectionDto> Corrections);

internal sealed record SeriesPoint(long RoundId, DateOnly ScreenedOn, decimal? UcvaRight, decimal? UcvaLeft, decimal? SeRight, decimal? SeLeft);

internal sealed record ReferralDto(long Id, long RoundId, string CorpId, string StudentUserId, long ClassId, string Reason, string Status,
    DateTime CreatedAt, DateTime? AcknowledgedAt, DateOnly? VisitDate, string? Hospital, string? Diagnosis, string? Prescription, DateTime? ReportedAt,
    DateTime? LastRemindedAt)
{
    public static ReferralDto From(VisionReferral r) => new(r.Id, r.RoundId, r.CorpId, r.StudentUserId, r.ClassId, r.Reason, r.Status, r.CreatedAt,
        r.AcknowledgedAt, r.VisitDate, r.Hospital, r.Diagnosis, r.Prescription, r.ReportedAt, r.LastRemindedAt);
}

internal sealed record ChildVisionDto(string CorpId, string StudentUserId, string Name, IReadOnlyList<ResultDto> Results, IReadOnlyList<SeriesPoint> Series,
    IReadOnlyList<ReferralDto> Referrals);

internal sealed record MyChildSummary(string CorpId, string StudentUserId, string Name, ResultDto? Latest, int OpenReferrals);

[RequestSchema("visitDate", "hospital", "diagnosis")]
internal sealed record VisitRequest(DateOnly? VisitDate, string? Hospital, string? Diagnosis, string? Prescription);

[RequestSchema()]
internal sealed record RemindRequest(long? ClassId, long? RoundId);

internal sealed record RemindedDto(int Guardians);

/// <summary>Referral completion of a school (ClassId null) or a class; a suppressed class (too few to show outside the school) has only its name.</summary>
internal sealed record ReferralCompletion(string CorpId, long? ClassId, string Name, int? Referred, int? Acknowledged, int? Visited,
    decimal? AcknowledgedRate, decimal? CompletionRate, bool Suppressed = false);

[RequestSchema("name", "desks", "adjustableDesks")]
internal sealed record ClassroomRequest(string? Name, DateOnly? LightingRenovatedOn, int? Desks, int? AdjustableDesks);

internal sealed record ClassroomDto(string CorpId, string ClassroomId, string Name, DateOnly? LightingRenovatedOn, int Desks, int AdjustableDesks,
    DateTime UpdatedAt);

internal sealed record ClassroomSummary(string CorpId, string Name, int Classrooms, int LightingRenovated, decimal? LightingRate, int Desks,
    int AdjustableDesks, decimal? AdjustableRate, decimal Target);

/// <remarks>
/// 明眸 (domain-rules §1, §4): identifiable records go only to the class's teachers, the school's admins, the child's
/// guardians and grant holders, each read audited; statistics are aggregates for the bureau and each school's staff.
/// </remarks>
internal static class VisionEndpoints
{
    public static IEndpointRouteBuilder MapVisionEndpoints(this IEndpointRouteBuilder app)
    {
        var vision = app.MapGroup("/api/vision").WithTags("Vision").RequireAuthorization();
        vision.MapPost("/rounds", CreateRoundAsync).RequireAudience(Audience.Person).WithName("Vision_CreateRound");
        vision.MapGet("/rounds", ListRoundsAsync).RequireAudience(Audience.Staff).WithName("Vision_ListRounds");
        vision.MapGet("/rounds/{roundId:long}/progress", ProgressAsync).RequireAudience(Audience.Bureau).WithName("Vision_Progress");
        vision.MapPut("/rounds/{roundId:long}/corps/{corpId}/students/{studentUserId}", EnterOneAsync).RequireAudience(Audience.Person).WithName("Vision_EnterStudent");
        vision.MapGet("/rounds/{roundId:long}/corps/{corpId}/students/{studentUserId}", GetStudentAsync).RequireAudience(Audience.Person).WithName("Vision_GetStudent");
        vision.MapPut("/rounds/{roundId:long}/corps/{corpId}/records", EnterClassAsync).RequireAudience(Audience.Person).WithName("Vision_EnterClass");
        vision.MapGet("/rounds/{roundId:long}/corps/{corpId}/classes/{classId:long}/records", ClassRecordsAsync).RequireAudience(Audience.Person).WithName("Vision_ClassRecords");
        vision.MapPost("/rounds/{roundId:long}/corps/{corpId}/imports", ImportAsync).RequireAudience(Audience.Person).WithName("Vision_Import").DisableAntiforgery();
        vision.MapPost("/rounds/{roundId:long}/corps/{corpId}/publish", PublishAsync).RequireAudience(Audience.Person).WithName("Vision_Publish");
        vision.MapGet("/import-template", Template).RequireAudience(Audience.SignedIn).WithName("Vision_ImportTemplate");
        vision.MapGet("/rounds/{roundId:long}/statistics", StatisticsAsync).RequireAudience(Audience.Bureau).WithName("Vision_Statistics");
        vision.MapGet("/rounds/{roundId:long}/statistics.xlsx", ExportAsync).RequireAudience(Audience.Bureau).WithName("Vision_StatisticsExport");
        vision.MapGet("/trend", TrendAsync).RequireAudience(Audience.Bureau).WithName("Vision_Trend");
        vision.MapGet("/referrals/summary", ReferralSummaryAsync).RequireAudience(Audience.Bureau).WithName("Vision_ReferralSummary");
        vision.MapGet("/classrooms/summary", ClassroomSummaryAsync).RequireAudience(Audience.Bureau).WithName("Vision_ClassroomSummary");

        var school = app.MapGroup("/api/corps/{corpId}/vision").WithTags("Vision").RequireAuthorization();
        school.MapGet("/referrals", ReferralsAsync).RequireAudience(Audience.SchoolAdmin).WithName("Vision_Referrals");
        school.MapPost("/referrals/remind", RemindAsync).RequireAudience(Audience.SchoolAdmin).WithName("Vision_RemindReferrals");
        school.MapGet("/classrooms", ClassroomsAsync).RequireAudience(Audience.SchoolStaffOrBureau).WithName("Vision_Classrooms");
        school.MapPut("/classrooms/{classroomId}", PutClassroomAsync).RequireAudience(Audience.SchoolAdmin).WithName("Vision_PutClassroom");

        var mine = app.MapGroup("/api/me/vision").WithTags("My children's vision").RequireAuthorization();
        mine.MapGet("/", MyChildrenAsync).RequireAudience(Audience.Person).WithName("MyVision_Children");
        mine.MapGet("/{corpId}/{studentUserId}", MyChildAsync).RequireAudience(Audience.GuardianOfChild).WithName("MyVision_Child");
        mine.MapPost("/referrals/{id:long}/acknowledge", AcknowledgeAsync).RequireAudience(Audience.Person).WithName("MyVision_Acknowledge");
        mine.MapPost("/referrals/{id:long}/visit", VisitAsync).RequireAudience(Audience.Person).WithName("MyVision_Visit");
        return app;
    }

    // ---- rounds ----

    private static async Task<Created<RoundDto>> CreateRoundAsync(CreateRound request, Caller caller,
        VisionService service, CancellationToken ct)
    {
        var round = await service.CreateRoundAsync(caller, request, ct);
        return TypedResults.Created($"/api/vision/rounds/{round.Id}", RoundDto.From(round));
    }

    private static async Task<Ok<IReadOnlyList<RoundDto>>> ListRoundsAsync(Caller caller, VisionRepository vision,
        CancellationToken ct)
    {
        var schools = caller.CorpsWith(Roles.SchoolStaff);
        if (!VisionAccess.IsBureau(caller) && schools.Count == 0)
        {
            throw new ForbiddenException("Missing scope: bureau or school staff.");
        }

        var rounds = await vision.ListRoundsAsync(VisionAccess.IsBureau(caller) ? null : schools, ct);
        return TypedResults.Ok<IReadOnlyList<RoundDto>>(rounds.Select(RoundDto.From).ToList());
    }

    private static async Task<Ok<RoundProgressDto>> ProgressAsync(long roundId, string? corpId, Caller caller,
        VisionRepository vision, VisionAccess access, CancellationToken ct)
    {
        VisionAccess.RequireStatistics(caller, corpId);
        var round = await vision.FindRoundAsync(roundId, ct) ?? throw new NotFoundException($"No screening round {roundId}.");
        var rows = await vision.ProgressAsync(roundId, corpId, ct);
        var schools = rows.GroupBy(r => r.CorpId).Select(g => new ProgressItem(g.Key, null, access.School(g.Key).Name, g.Sum(r => r.Enrolled),
            g.Sum(r => r.Screened), VisionStatistics.Rate(g.Sum(r => r.Screened), g.Sum(r => r.Enrolled)))).ToList();
        var classes = rows.Select(r => new ProgressItem(r.CorpId, r.ClassId, r.ClassName, r.Enrolled, r.Screened, VisionStatistics.Rate(r.Screened, r.Enrolled)))
            .ToList();
        return TypedResults.Ok(new RoundProgressDto(RoundDto.From(round), schools, corpId is null ? [] : classes));
    }

    private static async Task<Accepted<RemindedDto>> PublishAsync(long roundId, string corpId, Caller caller,
        VisionService service, CancellationToken ct) =>
        TypedResults.Accepted($"/api/vision/rounds/{roundId}/progress?corpId={corpId}",
            new RemindedDto(await service.PublishAsync(caller, roundId, corpId, ct)));

    // ---- records ----

    private static VisionRecordInput? ToInput(RecordRequest? r, string? studentUserId, Dictionary<string, string[]> errors, string prefix)
    {
        if (r is null)
        {
            errors[prefix.TrimEnd('.')] = ["must be an object"];
            return null;
        }

        var glasses = VisionImport.ParseGlasses(r.Glasses);
        if (glasses is null)
        {
            errors[prefix + "glasses"] = ["must be none, frame, contact or ok-lens"];
        }

        if (r.BirthDate is null)
        {
            errors[prefix + "birthDate"] = ["is required"];
        }

        if (r.ScreenedOn is null)
        {
            errors[prefix + "screenedOn"] = ["is required"];
        }

        var student = studentUserId ?? r.StudentUserId;
        if (string.IsNullOrWhiteSpace(student))
        {
            errors[prefix + "studentUserId"] = ["is required"];
        }

        return glasses is null || r.BirthDate is null || r.ScreenedOn is null || string.IsNullOrWhiteSpace(student)
            ? null
            : new VisionRecordInput(student, r.Sex ?? "", r.BirthDate.Value, r.ScreenedOn.Value, glasses.Value, r.UcvaRight, r.UcvaLeft,
                r.WalkDistanceRight, r.WalkDistanceLeft, r.CvaRight, r.CvaLeft, r.SphereRight, r.CylinderRight, r.AxisRight, r.SphereLeft,
                r.CylinderLeft, r.AxisLeft, r.AxialLengthRight, r.AxialLengthLeft, string.IsNullOrWhiteSpace(r.NotTestableReason) ? null : r.NotTestableReason.Trim());
    }

    private static async Task<Ok<SavedDto>> EnterOneAsync(long roundId, string corpId, string studentUserId, RecordRequest request,
        Caller caller, VisionService service, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var input = ToInput(request, studentUserId, errors, "");
        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var outcome = await service.EnterAsync(caller, roundId, corpId, [input], "single", ct);
        return TypedResults.Ok(new SavedDto(outcome.Created, outcome.Updated, outcome.Unchanged));
    }

    private static async Task<Ok<SavedDto>> EnterClassAsync(long roundId, string corpId, ClassRecordsRequest request, Caller caller, VisionService service, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Records is not { Count: > 0 and <= 200 })
        {
            throw new RequestValidationException("records", "must hold 1 to 200 records (a class at a time)");
        }

        var inputs = request.Records.Select((r, i) => ToInput(r, null, errors, $"records[{i}].")).ToList();
        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var outcome = await service.EnterAsync(caller, roundId, corpId, inputs, "class", ct);
        return TypedResults.Ok(new SavedDto(outcome.Created, outcome.Updated, outcome.Unchanged));
    }

    private static async Task<Ok<IReadOnlyList<RecordDto>>> ClassRecordsAsync(long roundId, string corpId, long classId, Caller caller, VisionService service, VisionRepository vision, VisionAccess access, CancellationToken ct)
    {
        await service.RoundForSchoolAsync(roundId, corpId, ct);
        var records = await vision.ClassRecordsAsync(roundId, corpId, classId, ct);
        await access.RequireClassReadAsync(caller, corpId, classId, records.Select(r => r.StudentUserId).ToList(), $"class {classId} records of round {roundId}", ct);
        return TypedResults.Ok<IReadOnlyList<RecordDto>>(records.Select(RecordDto.From).ToList());
    }

    private static async Task<Ok<StudentVisionDto>> GetStudentAsync(long roundId, string corpId, string studentUserId, Caller caller,
        VisionService service, VisionRepository vision, OrgDirectory directory, VisionAccess access, CancellationToken ct)
    {
        await service.RoundForSchoolAsync(roundId, corpId, ct);
        var record = await vision.FindRecordAsync(roundId, corpId, studentUserId, ct);
        var classId = record?.ClassId ?? (await directory.ClassesOfStudentAsync(corpId, studentUserId, ct)).Select(c => (long?)c.ClassId).FirstOrDefault()
            ?? throw new NotFoundException($"No student {studentUserId} in corp {corpId}.");
        await access.RequireClassReadAsync(caller, corpId, classId, [studentUserId], $"record of round {roundId}", ct);
        return record is null
            ? throw new NotFoundException($"No record of {studentUserId} in round {roundId}.")
            : TypedResults.Ok(new StudentVisionDto(RecordDto.From(record),
                (await vision.HistoryAsync(roundId, corpId, studentUserId, ct)).Select(RecordDto.From).ToList()));
    }

    /// <summary>The form is read here rather than bound, so a wrong content type is a 400 naming the field, after the caller check.</summary>
    private static async Task<Ok<ImportReport>> ImportAsync(long roundId, string corpId, string? onErrors, HttpRequest http, Caller caller, VisionService service, CancellationToken ct)
    {

        // Scope before content: nobody but the school's admins has the upload read.
        await service.RequireImportScopeAsync(caller, roundId, corpId, ct);
        var file = http.HasFormContentType ? (await http.ReadFormAsync(ct)).Files.GetFile("file") : null;
        if (file is null || file.Length == 0)
        {
            throw new RequestValidationException("file", "an .xlsx file is required (multipart/form-data, field 'file')");
        }

        if (file.Length > 30 * 1024 * 1024)
        {
            throw new RequestValidationException("file", "at most 30 MB (split the school's file by grade)");
        }

        using var buffer = new MemoryStream();
        await file.CopyToAsync(buffer, ct);

        // An .xlsx is a zip package: anything else (a .xls, a CSV, a renamed picture) is refused before it is parsed.
        if (buffer.Length < 4 || !buffer.GetBuffer().AsSpan(0, 4).SequenceEqual("PK\u0003\u0004"u8))
        {
            throw new UnsupportedMediaTypeException("file", "is not an .xlsx workbook; save it as Excel Workbook (.xlsx) from the template");
        }

        return TypedResults.Ok(await service.ImportAsync(caller, roundId, corpId, file.FileName, buffer.ToArray(),
            onErrors ?? "reject", ct));
    }

    private static FileContentHttpResult Template() =>
        TypedResults.File(VisionImport.Template(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "视力筛查导入模板.xlsx");

    // ---- statistics ----

    private static async Task<StatisticsDto> BuildStatisticsAsync(long roundId, string? by, string? corpId, Caller caller, VisionRepository vision,
        VisionStatistics statistics, IOptions<VisionOptions> options, CancellationToken ct)
    {
        by ??= "school";
        if (!VisionStatistics.DimensionNames.Contains(by))
        {
            throw new RequestValidationException("by", $"must be one of {string.Join(", ", VisionStatistics.DimensionNames)}");
        }

        VisionAccess.RequireStatistics(caller, corpId);
        var round = await vision.FindRoundAsync(roundId, ct) ?? throw new NotFoundException($"No screening round {roundId}.");
        var rows = await statistics.ByAsync(roundId, by, corpId, ct);
        var total = (await statistics.ByAsync(roundId, "city", corpId, ct)).FirstOrDefault();
        YearOnYearDto? yoy = null;
        var previous = await vision.SameRoundAYearEarlierAsync(round, ct);
        if (previous is not null)
        {
            var before = (await statistics.ByAsync(previous.Id, "city", corpId, ct)).FirstOrDefault();
            yoy = new YearOnYearDto(previous.Id, previous.Name, before?.MyopiaRate,
                before?.MyopiaRate is { } b && total?.MyopiaRate is { } now ? now - b : null);
        }

        // Both checks of the plan, for the total (the city, or the school asked for) and for each row of a school, period or grade.
        var o = options.Value;
        IReadOnlyList<StatRow> previousRows = [];
        if (previous is not null && by is "school" or "period" or "grade")
        {
            previousRows = await statistics.ByAsync(previous.Id, by, corpId, ct);
        }

        TargetsDto Targets(decimal? rate, decimal? previousRate) => new(
            new BindingTargetDto(o.TargetFinalYear, o.TargetFinalRate, "<", rate, rate is { } r ? r < o.TargetFinalRate : null),
            previous is null ? null : new AnnualDeclineDto(previous.Id, previousRate, o.TargetAnnualDrop,
                previousRate - o.TargetAnnualDrop, rate, previousRate - rate,
                rate is { } now && previousRate is { } before ? now <= before - o.TargetAnnualDrop : null));

        // Outside the school's own staff, small groups are withheld, and so are their targets.
        var minimum = VisionAccess.MinimumCellSize(caller, corpId, o);
        var shown = rows.Select(r => StatisticsRowDto.From(r).SuppressedBelow(minimum)).ToList();
        var shownTotal = total is null ? null : StatisticsRowDto.From(total).SuppressedBelow(minimum);
        return new StatisticsDto(RoundDto.From(round), by, corpId, shown, shownTotal, shownTotal?.Suppressed == true ? null : yoy,
            shownTotal?.Suppressed == true ? null : Targets(total?.MyopiaRate, yoy?.MyopiaRate),
            by is "school" or "period" or "grade"
                ? rows.Where((r, i) => !shown[i].Suppressed)
                    .ToDictionary(r => r.Key, r => Targets(r.MyopiaRate, previousRows.FirstOrDefault(p => p.Key == r.Key)?.MyopiaRate))
                : null);
    }

    /// <summary>The city path for a calendar year: the base rate less the annual drop per year, and under the final rate from its year.</summary>
    internal static decimal Target(VisionOptions o, int year)
    {
        var path = o.TargetBaseRate - (o.TargetAnnualDrop * Math.Max(0, year - o.TargetBaseYear));
        return year >= o.TargetFinalYear ? Math.Min(path, o.TargetFinalRate) : path;
    }

    private static async Task<Ok<StatisticsDto>> StatisticsAsync(long roundId, string? by, string? corpId, Caller caller, VisionRepository vision, VisionStatistics statistics, IOptions<VisionOptions> options, CancellationToken ct) =>
        TypedResults.Ok(await BuildStatisticsAsync(roundId, by, corpId, caller, vision, statistics, options, ct));

    private static async Task<FileContentHttpResult> ExportAsync(long roundId, string? by, string? corpId, Caller caller, VisionRepository vision, VisionStatistics statistics, VisionAccess access, IOptions<VisionOptions> options,
        CancellationToken ct)
    {
        var stats = await BuildStatisticsAsync(roundId, by, corpId, caller, vision, statistics, options, ct);
        var rows = stats.Rows.Append(stats.Total).OfType<StatisticsRowDto>().Select(r => new Dictionary<string, object?>
        {
            ["分组"] = r == stats.Total ? "合计" : r.Label,
            ["在册人数"] = r.Enrolled,
            ["筛查人数"] = r.Screened,
            ["有效人数"] = r.Valid,
            ["近视人数"] = r.Myopic,
            ["近视率(%)"] = r.MyopiaRate,
            ["低度"] = r.MyopiaLow,
            ["中度"] = r.MyopiaModerate,
            ["高度"] = r.MyopiaHigh,
            ["角膜塑形镜"] = r.OkLens,
            ["视力不良人数"] = r.PoorVision,
            ["视力不良率(%)"] = r.PoorVisionRate,
            ["筛查覆盖率(%)"] = r.Coverage,
        }).ToList();
        using var stream = new MemoryStream();
        await stream.SaveAsAsync(rows, sheetName: "统计", cancellationToken: ct);
        await access.AuditExportAsync(caller, corpId ?? "city", $"statistics of round {roundId} by {stats.By} (aggregates)", ct);
        return TypedResults.File(stream.ToArray(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            $"round-{roundId}-{stats.By}.xlsx");
    }

    private static async Task<Ok<IReadOnlyList<TrendPoint>>> TrendAsync(int? rounds, string? corpId, Caller caller,
        VisionRepository vision, VisionStatistics statistics, IOptions<VisionOptions> options, CancellationToken ct)
    {
        if (rounds is < 1 or > 40)
        {
            throw new RequestValidationException("rounds", "must be 1 to 40");
        }

        VisionAccess.RequireStatistics(caller, corpId);
        var recent = (await vision.RecentCityRoundsAsync(rounds ?? 10, ct)).Reverse().ToList();
        var totals = await statistics.TotalsAsync(recent.Select(r => r.Id).ToList(), corpId, ct);
        var points = recent.Select(round =>
        {
            var total = totals.GetValueOrDefault(round.Id);
            return new TrendPoint(round.Id, round.Name, round.OpensOn, total?.Screened ?? 0, total?.Valid ?? 0, total?.MyopiaRate,
                total?.PoorVisionRate, Target(options.Value, round.OpensOn.Year));
        }).ToList();

        return TypedResults.Ok<IReadOnlyList<TrendPoint>>(points);
    }

    // ---- referrals ----

    private static async Task<Ok<IReadOnlyList<ReferralDto>>> ReferralsAsync(string corpId, long? classId, long? roundId, string? status,
        Caller caller, VisionRepository vision, VisionAccess access, CancellationToken ct)
    {
        access.School(corpId);
        if (classId is null)
        {
            VisionAccess.RequireSchoolAdmin(caller, corpId);
        }

        var referrals = await vision.ReferralsAsync(corpId, classId, roundId, status, ct);
        if (classId is { } c)
        {
            await access.RequireClassReadAsync(caller, corpId, c, referrals.Select(r => r.StudentUserId).ToList(), "referrals", ct);
        }

        return TypedResults.Ok<IReadOnlyList<ReferralDto>>(referrals.Select(ReferralDto.From).ToList());
    }

    private static async Task<Accepted<RemindedDto>> RemindAsync(string corpId, RemindRequest? request, Caller caller,
        VisionService service, CancellationToken ct) =>
        TypedResults.Accepted($"/api/corps/{corpId}/vision/referrals",
            new RemindedDto(await service.RemindReferralsAsync(caller, corpId, request?.ClassId, request?.RoundId, ct)));

    private static async Task<Ok<IReadOnlyList<ReferralCompletion>>> ReferralSummaryAsync(long? roundId, string? corpId, Caller caller, VisionRepository vision, VisionAccess access, IOptions<VisionOptions> options, CancellationToken ct)
    {
        VisionAccess.RequireStatistics(caller, corpId);
        var rows = await vision.ReferralCompletionAsync(roundId, corpId, ct);
        var minimum = VisionAccess.MinimumCellSize(caller, corpId, options.Value);
        // Outside the school, a school or class with only a few referrals is withheld: its children could be told apart.
        ReferralCompletion Row(string corp, long? classId, string name, long referred, long acknowledged, long visited) =>
            referred > 0 && referred < minimum
                ? new(corp, classId, name, null, null, null, null, null, Suppressed: true)
                : new(corp, classId, name, (int)referred, (int)acknowledged, (int)visited, VisionStatistics.Rate((int)acknowledged, (int)referred),
                    VisionStatistics.Rate((int)visited, (int)referred));
        var result = rows.GroupBy(r => r.CorpId).Select(g => Row(g.Key, null, access.School(g.Key).Name, g.Sum(r => r.Referred), g.Sum(r => r.Acknowledged),
            g.Sum(r => r.Visited))).ToList();
        if (corpId is not null)
        {
            result.AddRange(rows.Select(r => Row(r.CorpId, r.ClassId, r.ClassName, r.Referred, r.Acknowledged, r.Visited)));
        }

        return TypedResults.Ok<IReadOnlyList<ReferralCompletion>>(result);
    }

    // ---- guardians ----

    private static async Task<ChildVisionDto> ChildAsync(string corpId, string studentUserId, string name, VisionRepository vision, CancellationToken ct)
    {
        var records = await vision.StudentRecordsAsync(corpId, studentUserId, publishedOnly: true, ct);
        var results = new List<ResultDto>();
        foreach (var (round, record) in records)
        {
            results.Add(new ResultDto(RoundDto.From(round), RecordDto.From(record), VisionReport.For(record),
                await CorrectionsAfterPublicationAsync(vision, round.Id, corpId, record, ct)));
        }

        return new ChildVisionDto(corpId, studentUserId, name, results,
            records.Select(r => new SeriesPoint(r.Round.Id, r.Record.ScreenedOn, r.Record.UcvaR, r.Record.UcvaL, r.Record.SeR, r.Record.SeL)).ToList(),
            (await vision.ReferralsOfStudentAsync(corpId, studentUserId, ct))
            .Where(f => records.Any(r => r.Round.Id == f.RoundId)).Select(ReferralDto.From).ToList());
    }

    /// <summary>Each version entered after the round was published for the school, against the version before it.</summary>
    private static async Task<IReadOnlyList<CorrectionDto>> CorrectionsAfterPublicationAsync(VisionRepository vision, long roundId, string corpId,
        VisionRecord current, CancellationToken ct)
    {
        if (current.Version == 1 || await vision.PublishedAtAsync(roundId, corpId, ct) is not { } publishedAt)
        {
            return [];
        }

        var versions = (await vision.HistoryAsync(roundId, corpId, current.StudentUserId, ct)).Append(current).OrderBy(v => v.Version).ToList();
        return versions.Zip(versions.Skip(1))
            .Where(pair => pair.Second.EnteredAt > publishedAt)
            .Select(pair => new CorrectionDto(pair.Second.EnteredAt, pair.Second.Version, VisionReport.Changes(pair.First, pair.Second)))
            .ToList();
    }

    private static async Task<Ok<IReadOnlyList<MyChildSummary>>> MyChildrenAsync(Caller caller, OrgDirectory directory, VisionRepository vision,
        VisionAccess access, CancellationToken ct)
    {
        var summaries = new List<MyChildSummary>();
        foreach (var child in (await directory.ChildrenAsync(caller.Identities, ct)).DistinctBy(c => (c.CorpId, c.StudentUserId)))
        {
            await access.RequireGuardianAsync(caller, child.CorpId, child.StudentUserId, "vision results (own child)", ct);
            var detail = await ChildAsync(child.CorpId, child.StudentUserId, child.Name, vision, ct);
            summaries.Add(new MyChildSummary(child.CorpId, child.StudentUserId, child.Name, detail.Results.LastOrDefault(),
                detail.Referrals.Count(r => r.Status is ReferralStatus.Open or ReferralStatus.Acknowledged)));
        }

        return TypedResults.Ok<IReadOnlyList<MyChildSummary>>(summaries);
    }

    private static async Task<Ok<ChildVisionDto>> MyChildAsync(string corpId, string studentUserId, Caller caller, OrgDirectory directory,
        VisionRepository vision, VisionAccess access, CancellationToken ct)
    {
        await access.RequireGuardianAsync(caller, corpId, studentUserId, "vision results (own child)", ct);
        var name = (await directory.ChildrenAsync(caller.Identities, ct)).First(c => c.CorpId == corpId && c.StudentUserId == studentUserId).Name;
        return TypedResults.Ok(await ChildAsync(corpId, studentUserId, name, vision, ct));
    }

    private static async Task<VisionReferral> GuardiansReferralAsync(long id, Caller caller, VisionRepository vision, VisionAccess access, CancellationToken ct)
    {
        var referral = await vision.FindReferralAsync(id, ct);
        if (referral is null || referral.Status == ReferralStatus.Cancelled ||
            await vision.PublishedAtAsync(referral.RoundId, referral.CorpId, ct) is null)
        {
            throw new NotFoundException($"No referral {id} for your child.");
        }

        await access.RequireGuardianAsync(caller, referral.CorpId, referral.StudentUserId, $"referral {id}", ct);
        return referral;
    }

    private static async Task<Ok<ReferralDto>> AcknowledgeAsync(long id, Caller caller, VisionRepository vision,
        VisionAccess access, TimeProvider time, CancellationToken ct)
    {
        var referral = await GuardiansReferralAsync(id, caller, vision, access, ct);
        if (!await vision.AcknowledgeReferralAsync(id, caller.UserIdIn(referral.CorpId), time.UtcNowForDatabase(), ct))
        {
            throw new ConflictException($"Referral {id} is {referral.Status}; only an open referral is acknowledged.");
        }

        return TypedResults.Ok(ReferralDto.From((await vision.FindReferralAsync(id, ct))!));
    }

    private static async Task<Ok<ReferralDto>> VisitAsync(long id, VisitRequest request, Caller caller,
        VisionRepository vision, VisionAccess access, TimeProvider time, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var today = ShanghaiTime.Today(time);
        if (request.VisitDate is not { } visit || visit > today)
        {
            errors["visitDate"] = ["is required and not in the future"];
        }

        if (string.IsNullOrWhiteSpace(request.Hospital) || request.Hospital.Length > 200)
        {
            errors["hospital"] = ["is required, at most 200 characters"];
        }

        if (string.IsNullOrWhiteSpace(request.Diagnosis) || request.Diagnosis.Length > 500)
        {
            errors["diagnosis"] = ["is required, at most 500 characters"];
        }

        if (request.Prescription is { Length: > 500 })
        {
            errors["prescription"] = ["at most 500 characters"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var referral = await GuardiansReferralAsync(id, caller, vision, access, ct);
        if (request.VisitDate < ShanghaiTime.DayOf(referral.CreatedAt))
        {
            throw new RequestValidationException("visitDate", "is before the referral was made");
        }

        if (!await vision.ReportVisitAsync(id, caller.UserIdIn(referral.CorpId), request.VisitDate!.Value, request.Hospital!.Trim(),
                request.Diagnosis!.Trim(), request.Prescription?.Trim(), time.UtcNowForDatabase(), ct))
        {
            throw new ConflictException($"Referral {id} is {referral.Status}; its visit was already reported.");
        }

        return TypedResults.Ok(ReferralDto.From((await vision.FindReferralAsync(id, ct))!));
    }

    // ---- 明眸 classrooms ----

    private static async Task<Ok<ClassroomDto>> PutClassroomAsync(string corpId, string classroomId, ClassroomRequest request, Caller caller, VisionRepository vision, VisionAccess access, TimeProvider time, CancellationToken ct)
    {
        access.School(corpId);
        VisionAccess.RequireSchoolAdmin(caller, corpId);
        var errors = new Dictionary<string, string[]>();
        if (classroomId.Length > 64)
        {
            errors["classroomId"] = ["at most 64 characters"];
        }

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            errors["name"] = ["is required, at most 100 characters"];
        }

        if (request.Desks is not (>= 0 and <= 200))
        {
            errors["desks"] = ["is required, 0 to 200"];
        }

        if (request.AdjustableDesks is not { } adjustable || adjustable < 0 || adjustable > (request.Desks ?? 0))
        {
            errors["adjustableDesks"] = ["is required, 0 to the number of desks"];
        }

        var today = ShanghaiTime.Today(time);
        if (request.LightingRenovatedOn > today)
        {
            errors["lightingRenovatedOn"] = ["must not be in the future"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var classroom = new VisionClassroom(corpId, classroomId, request.Name!.Trim(), request.LightingRenovatedOn, request.Desks!.Value,
            request.AdjustableDesks!.Value, time.UtcNowForDatabase(), caller.UserIdIn(corpId));
        await vision.SaveClassroomAsync(classroom, ct);
        return TypedResults.Ok(new ClassroomDto(corpId, classroomId, classroom.Name, classroom.LightingRenovatedOn, classroom.Desks,
            classroom.AdjustableDesks, classroom.UpdatedAt));
    }

    private static async Task<Ok<IReadOnlyList<ClassroomDto>>> ClassroomsAsync(string corpId, Caller caller,
        VisionRepository vision, VisionAccess access, CancellationToken ct)
    {
        access.School(corpId);
        VisionAccess.RequireStatistics(caller, corpId);
        return TypedResults.Ok<IReadOnlyList<ClassroomDto>>((await vision.ClassroomsAsync(corpId, ct)).Select(c => new ClassroomDto(c.CorpId,
            c.ClassroomId, c.Name, c.LightingRenovatedOn, c.Desks, c.AdjustableDesks, c.UpdatedAt)).ToList());
    }

    private static async Task<Ok<IReadOnlyList<ClassroomSummary>>> ClassroomSummaryAsync(string? corpId, Caller caller,
        VisionRepository vision, VisionAccess access, CancellationToken ct)
    {
        VisionAccess.RequireStatistics(caller, corpId);
        return TypedResults.Ok<IReadOnlyList<ClassroomSummary>>((await vision.ClassroomsAsync(corpId, ct)).GroupBy(c => c.CorpId).Select(g =>
            new ClassroomSummary(g.Key, access.School(g.Key).Name, g.Count(), g.Count(c => c.LightingRenovatedOn is not null),
                VisionStatistics.Rate(g.Count(c => c.LightingRenovatedOn is not null), g.Count()), g.Sum(c => c.Desks), g.Sum(c => c.AdjustableDesks),
                VisionStatistics.Rate(g.Sum(c => c.AdjustableDesks), g.Sum(c => c.Desks)), 100m)).ToList());
    }
}
