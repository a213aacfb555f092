using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.AfterSchool;

[RequestSchema("kind")]
internal sealed record CalendarDayRequest([property: CodeValues(typeof(CalendarDayKind))] string? Kind, int? FollowsWeekday, string? EndsAt, string? Note);

internal sealed record CalendarDayDto(DateOnly Day, [property: CodeValues(typeof(CalendarDayKind))] string Kind, int? FollowsWeekday, string? EndsAt, string? Note);

internal sealed record SessionDto(int Weekday, string StartsAt, string EndsAt);

internal sealed record OfferingDto(long Id, [property: CodeValues(typeof(OfferingKind))] string Kind, string Name, IReadOnlyList<int> GradeLevels, string? TeacherUserId, [property: CodeValues(typeof(ContentType))] string ContentType,
    int Capacity, int FeeCents, string Allocation, int Held, int Enrolled, int Waitlisted, long? ProviderId, IReadOnlyList<long> ClassIds);

internal sealed record ProgramDto(long Id, string CorpId, string Name, [property: CodeValues(typeof(CareProgramKind))] string Kind, DateOnly StartsOn, DateOnly EndsOn, DateTime SignupOpensAt,
    DateTime SignupClosesAt, IReadOnlyList<int> GradeLevels, [property: CodeValues(typeof(CareProgramStatus))] string Status, string Terms, int TermsVersion, [property: CodeValues(typeof(FeeUnit))] string FeeUnit, string? SafetyNotes,
    IReadOnlyList<SessionDto> Sessions, IReadOnlyList<OfferingDto> Offerings);

internal sealed record ComplianceDto(long ProgramId, bool Compliant, decimal MinimumDailyHours, IReadOnlyList<ComplianceViolation> Violations);

/// <summary>
/// A place: held, enrolled, waitlisted (with its position), applied (waiting for the draw or the ranked batch), offered
/// (claim it before offerExpiresAt) or released; choiceRank is the family's rank for a ranked-choice (志愿) elective.
/// </summary>
internal sealed record PlaceDto(long OfferingId, [property: CodeValues(typeof(PlaceStatus))] string Status, int? WaitlistPosition, int? ChoiceRank, DateTime? OfferExpiresAt);

internal sealed record LotteryRequest(string? Seed);

[RequestSchema("offeringId", "rating")]
internal sealed record SurveyAnswer(long? OfferingId, int? Rating, string? Comment);

[RequestSchema("fromOfferingId", "toOfferingId")]
internal sealed record SwitchRequest(long? FromOfferingId, long? ToOfferingId);

internal sealed record CareStatisticsDto(DateOnly Day, string By, [property: Unit(UnitAttribute.Percent)] decimal BaselineRate, IReadOnlyList<ParticipationRow> Participation,
    ParticipationRow? Total, IReadOnlyList<AttendanceRow> Attendance, IReadOnlyList<ElectiveDemand> Electives);

/// <summary>One elective's draw: the seed (anyone holding it can recompute the order) and the applications in drawn order.</summary>
internal sealed record LotteryDto(long OfferingId, string Seed, IReadOnlyList<long> DrawnOrder);

internal sealed record CareApplicationDto(long Id, long ProgramId, string CorpId, string StudentUserId, long ClassId, bool OnBehalf,
    IReadOnlyList<int> Weekdays, IReadOnlyList<PickupPerson> Pickup, string? Priority, string? Exemption, int TermsVersion, [property: CodeValues(typeof(CareApplicationStatus))] string Status,
    DateTime SubmittedAt, DateTime? DecidedAt, long? ApprovalRequestId, IReadOnlyList<PlaceDto> Places);

/// <remarks>
/// After-school care (docs/after-school.md): the school's calendar and programs for its admins (and staff, to read),
/// applications for guardians; reviews go through /api/approvals.
/// </remarks>
internal static class CareEndpoints
{
    public static IEndpointRouteBuilder MapCareEndpoints(this IEndpointRouteBuilder app)
    {
        var school = app.MapGroup("/api/corps/{corpId}").WithTags("After-school care");
        school.MapGet("/calendar", CalendarAsync).RequireAudience(Audience.SchoolStaff).WithName("Calendar_List");
        school.MapPut("/calendar/{day}", PutDayAsync).RequireAudience(Audience.SchoolAdmin).WithName("Calendar_PutDay");
        school.MapDelete("/calendar/{day}", DeleteDayAsync).RequireAudience(Audience.SchoolAdmin).WithName("Calendar_DeleteDay");
        school.MapPost("/care-programs", CreateProgramAsync).RequireAudience(Audience.SchoolAdmin).WithName("CarePrograms_Create");
        school.MapGet("/care-programs", ProgramsAsync).RequireAudience(Audience.SchoolStaff).WithName("CarePrograms_List");
        school.MapGet("/care-programs/{id:long}/compliance", ComplianceAsync).RequireAudience(Audience.SchoolStaff).WithName("CarePrograms_Compliance");
        school.MapPost("/care-programs/{id:long}/open", OpenAsync).RequireAudience(Audience.SchoolAdmin).WithName("CarePrograms_Open");
        school.MapPost("/care-programs/{id:long}/offerings", AddOfferingAsync).RequireAudience(Audience.SchoolAdmin).WithName("CarePrograms_AddOffering");
        school.MapPut("/care-programs/{id:long}/terms", TermsAsync).RequireAudience(Audience.SchoolAdmin).WithName("CarePrograms_ReviseTerms");
        school.MapGet("/care-providers", ProvidersAsync).RequireAudience(Audience.SchoolAdmin).WithName("CareProviders_List");
        school.MapPost("/care-providers", WhitelistAsync).RequireAudience(Audience.SchoolAdmin).WithName("CareProviders_Whitelist");
        school.MapPost("/care-providers/{id:long}/revoke", RevokeProviderAsync).RequireAudience(Audience.SchoolAdmin).WithName("CareProviders_Revoke");
        school.MapPost("/care-programs/{id:long}/lottery", LotteryAsync).RequireAudience(Audience.SchoolAdmin).WithName("CarePrograms_DrawLottery");

        school.MapGet("/care/statistics", SchoolStatisticsAsync).RequireAudience(Audience.SchoolStaffOrBureau).WithName("CareStatistics_School");
        school.MapGet("/care/statistics.xlsx", SchoolStatisticsExportAsync).RequireAudience(Audience.SchoolStaffOrBureau)
            .WithName("CareStatistics_SchoolExport").ProducesFile();
        app.MapGet("/api/care/statistics", CityStatisticsAsync).WithTags("After-school care").RequireAudience(Audience.Bureau)
            .WithName("CareStatistics_City");
        app.MapGet("/api/care/statistics.xlsx", CityStatisticsExportAsync).WithTags("After-school care").RequireAudience(Audience.Bureau)
            .WithName("CareStatistics_CityExport").ProducesFile();

        var mine = app.MapGroup("/api/me/care").WithTags("My after-school care");
        mine.MapGet("/programs", OpenProgramsAsync).RequireAudience(Audience.Person).WithName("MyCare_Programs");
        mine.MapPost("/applications", ApplyAsync).RequireAudience(Audience.Person).WithName("MyCare_Apply");
        mine.MapGet("/applications", MyApplicationsAsync).RequireAudience(Audience.Person).WithName("MyCare_Applications");
        mine.MapPost("/applications/{id:long}/withdraw", WithdrawAsync).RequireAudience(Audience.Person).WithName("MyCare_Withdraw");
        mine.MapPost("/applications/{id:long}/switch", SwitchAsync).RequireAudience(Audience.Person).WithName("MyCare_Switch");
        mine.MapPost("/applications/{id:long}/offers/{offeringId:long}/claim", ClaimOfferAsync).RequireAudience(Audience.Person)
            .WithName("MyCare_ClaimOffer");
        mine.MapPost("/applications/{id:long}/offers/{offeringId:long}/decline", DeclineOfferAsync).RequireAudience(Audience.Person)
            .WithName("MyCare_DeclineOffer");
        mine.MapPost("/applications/{id:long}/survey", SurveyAsync).RequireAudience(Audience.Person).WithName("MyCare_AnswerSurvey");
        school.MapGet("/care-programs/{id:long}/survey", SurveyResultsAsync).RequireAudience(Audience.SchoolAdminOrBureau)
            .WithName("CarePrograms_SurveyResults");
        return app;
    }

    // ---- calendar ----

    private static async Task<Ok<IReadOnlyList<CalendarDayDto>>> CalendarAsync(string corpId, DateOnly? from, DateOnly? to, Caller caller,
        AccessPolicy access, CareRepository care, TimeProvider time, CancellationToken ct)
    {
        access.RequireSchoolStaff(caller, corpId);
        var start = from ?? ShanghaiTime.Today(time).AddDays(-30);
        var end = to ?? start.AddYears(1);
        if (end < start || end > start.AddYears(2))
        {
            throw new RequestValidationException("to", "must be on or after from, within two years");
        }

        return TypedResults.Ok<IReadOnlyList<CalendarDayDto>>((await care.DaysAsync(corpId, start, end, ct))
            .Select(d => new CalendarDayDto(d.Day, d.Kind, d.FollowsWeekday, d.EndsAt, d.Note)).ToList());
    }

    private static async Task<Ok<CalendarDayDto>> PutDayAsync(string corpId, string day, CalendarDayRequest request, Caller caller,
        AccessPolicy access, CareRepository care, TimeProvider time, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school keeps its calendar");
        var errors = new Dictionary<string, string[]>();
        if (!DateOnly.TryParseExact(day, "yyyy-MM-dd", out var date))
        {
            errors["day"] = ["must be a date yyyy-MM-dd"];
        }

        if (request.Kind is null || !CalendarDayKind.All.Contains(request.Kind))
        {
            errors["kind"] = [$"must be one of {string.Join(", ", CalendarDayKind.All)}"];
        }

        if (request.Kind == CalendarDayKind.MakeUp && request.FollowsWeekday is not (>= 1 and <= 5))
        {
            errors["followsWeekday"] = ["a make-up day (调休) follows the timetable of a weekday 1 (Monday) to 5 (Friday)"];
        }

        if (request.EndsAt is { } endsAt && !TimeOnly.TryParseExact(endsAt, "HH:mm", out _))
        {
            errors["endsAt"] = ["must be HH:mm (a seasonal end time for this day)"];
        }

        if (request.Note is { Length: > 200 })
        {
            errors["note"] = ["at most 200 characters"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var stored = new CalendarDay(corpId, date, request.Kind!, request.Kind == CalendarDayKind.MakeUp ? request.FollowsWeekday : null,
            request.EndsAt, request.Note?.Trim());
        await care.SaveDayAsync(stored, caller.UserIdIn(corpId), time.UtcNowForDatabase(), ct);
        return TypedResults.Ok(new CalendarDayDto(stored.Day, stored.Kind, stored.FollowsWeekday, stored.EndsAt, stored.Note));
    }

    private static async Task<NoContent> DeleteDayAsync(string corpId, string day, Caller caller, AccessPolicy access, CareRepository care,
        CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school keeps its calendar");
        if (!DateOnly.TryParseExact(day, "yyyy-MM-dd", out var date))
        {
            throw new RequestValidationException("day", "must be a date yyyy-MM-dd");
        }

        return await care.DeleteDayAsync(corpId, date, ct) ? TypedResults.NoContent() : throw new NotFoundException($"Nothing stored for {day}.");
    }

    // ---- programs ----

    private static async Task<Created<ProgramDto>> CreateProgramAsync(string corpId, ProgramRequest request, Caller caller, CareService service,
        CareRepository care, CancellationToken ct)
    {
        var program = await service.CreateProgramAsync(caller, corpId, request, ct);
        return TypedResults.Created($"/api/corps/{corpId}/care-programs/{program.Id}", await ProgramDtoAsync(program, care, ct));
    }

    private static async Task<Ok<IReadOnlyList<ProgramDto>>> ProgramsAsync(string corpId, Caller caller, AccessPolicy access, CareRepository care,
        CancellationToken ct)
    {
        access.RequireSchoolStaff(caller, corpId);
        var programs = new List<ProgramDto>();
        foreach (var program in await care.ProgramsAsync([corpId], null, ct))
        {
            programs.Add(await ProgramDtoAsync(program, care, ct));
        }

        return TypedResults.Ok<IReadOnlyList<ProgramDto>>(programs);
    }

    private static async Task<Ok<ComplianceDto>> ComplianceAsync(string corpId, long id, Caller caller, AccessPolicy access, CareService service,
        Microsoft.Extensions.Options.IOptions<AfterSchoolOptions> options, CancellationToken ct)
    {
        access.RequireSchoolStaff(caller, corpId);
        var violations = await service.ComplianceAsync(await service.ProgramOfSchoolAsync(corpId, id, ct), ct);
        return TypedResults.Ok(new ComplianceDto(id, violations.Count == 0, options.Value.MinimumDailyHours, violations));
    }

    private static async Task<Ok<ProgramDto>> OpenAsync(string corpId, long id, Caller caller, CareService service, CareRepository care,
        CancellationToken ct) =>
        TypedResults.Ok(await ProgramDtoAsync(await service.OpenAsync(caller, corpId, id, ct), care, ct));

    private static async Task<Created<ProgramDto>> AddOfferingAsync(string corpId, long id, OfferingRequest request, Caller caller, CareService service,
        CareRepository care, CancellationToken ct)
    {
        var offering = await service.AddOfferingAsync(caller, corpId, id, request, ct);
        return TypedResults.Created($"/api/corps/{corpId}/care-programs/{id}#offering-{offering.Id}",
            await ProgramDtoAsync((await care.FindProgramAsync(id, ct))!, care, ct));
    }

    private static async Task<Ok<ProgramDto>> TermsAsync(string corpId, long id, TermsRequest request, Caller caller, CareService service,
        CareRepository care, CancellationToken ct) =>
        TypedResults.Ok(await ProgramDtoAsync(await service.ReviseTermsAsync(caller, corpId, id, request.Terms, ct), care, ct));

    private static async Task<Ok<IReadOnlyList<CareProvider>>> ProvidersAsync(string corpId, Caller caller, AccessPolicy access, CareProviders providers,
        CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school whitelists its after-school providers");
        return TypedResults.Ok(await providers.ListAsync(corpId, ct));
    }

    private static async Task<Created<CareProvider>> WhitelistAsync(string corpId, ProviderRequest request, Caller caller, CareProviders providers,
        CancellationToken ct)
    {
        var provider = await providers.WhitelistAsync(caller, corpId, request, ct);
        return TypedResults.Created($"/api/corps/{corpId}/care-providers/{provider.Id}", provider);
    }

    private static async Task<Ok<CareProvider>> RevokeProviderAsync(string corpId, long id, Caller caller, CareProviders providers, CancellationToken ct) =>
        TypedResults.Ok(await providers.RevokeAsync(caller, corpId, id, ct));

    private static async Task<Ok<IReadOnlyList<LotteryDto>>> LotteryAsync(string corpId, long id, LotteryRequest? request, Caller caller,
        CareService service, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<LotteryDto>>((await service.DrawAsync(caller, corpId, id, request?.Seed, ct))
            .Select(d => new LotteryDto(d.OfferingId, d.Seed, d.Drawn)).ToList());

    private static async Task<ProgramDto> ProgramDtoAsync(CareProgram p, CareRepository care, CancellationToken ct)
    {
        var counts = (await care.PlaceCountsAsync(p.Id, ct)).ToDictionary(c => c.OfferingId);
        return new ProgramDto(p.Id, p.CorpId, p.Name, p.Kind, p.StartsOn, p.EndsOn, p.SignupOpensAt, p.SignupClosesAt, p.Grades, p.Status, p.Terms,
            p.TermsVersion, p.FeeUnit, p.SafetyNotes,
            (await care.SessionsAsync(p.Id, ct)).Select(s => new SessionDto(s.Weekday, s.StartsAt, s.EndsAt)).ToList(),
            (await care.OfferingsAsync(p.Id, ct)).Select(o =>
            {
                var c = counts.GetValueOrDefault(o.Id);
                return new OfferingDto(o.Id, o.Kind, o.Name, o.Grades, o.TeacherUserId, o.ContentType, o.Capacity, o.FeeCents, o.Allocation,
                    (c?.Held ?? 0) + (c?.Applied ?? 0) + (c?.Offered ?? 0), c?.Enrolled ?? 0, c?.Waitlisted ?? 0, o.ProviderId, o.Classes);
            }).ToList());
    }

    // ---- statistics ----

    /// <summary>One school's participation by school, grade or class on a day, its attendance and its electives: its staff, and the bureau.</summary>
    private static async Task<Ok<CareStatisticsDto>> SchoolStatisticsAsync(string corpId, string? by, DateOnly? day, Caller caller,
        AccessPolicy access, CareStatistics statistics, Microsoft.Extensions.Options.IOptions<AfterSchoolOptions> options, TimeProvider time,
        CancellationToken ct)
    {
        access.School(corpId);
        if (!AccessPolicy.IsBureau(caller) && !caller.Has(Roles.SchoolStaff, corpId) && !caller.Has(Roles.SchoolAdmin, corpId))
        {
            throw new ForbiddenException("Missing scope: staff of this school, or the bureau.");
        }

        return TypedResults.Ok(await StatisticsAsync([corpId], by ?? "grade", ["school", "grade", "class"], day, statistics, options, time, ct));
    }

    /// <summary>The city's participation by school against the 2020 baseline, attendance and electives: the bureau.</summary>
    private static async Task<Ok<CareStatisticsDto>> CityStatisticsAsync(string? by, DateOnly? day, Caller caller, CareStatistics statistics,
        OrgDirectory directory, Microsoft.Extensions.Options.IOptions<AfterSchoolOptions> options, TimeProvider time, CancellationToken ct)
    {
        if (!AccessPolicy.IsBureau(caller))
        {
            throw new ForbiddenException("Missing scope: city-wide statistics are for the bureau.");
        }

        var schools = await directory.SchoolCorpIdsAsync(ct);
        return TypedResults.Ok(await StatisticsAsync(schools, by ?? "school", ["city", "school"], day, statistics, options, time, ct));
    }

    private static async Task<FileContentHttpResult> SchoolStatisticsExportAsync(string corpId, string? by, DateOnly? day, Caller caller,
        AccessPolicy access, CareStatistics statistics, Microsoft.Extensions.Options.IOptions<AfterSchoolOptions> options, TimeProvider time,
        CancellationToken ct) =>
        await WorkbookAsync((await SchoolStatisticsAsync(corpId, by, day, caller, access, statistics, options, time, ct)).Value!, corpId, ct);

    private static async Task<FileContentHttpResult> CityStatisticsExportAsync(string? by, DateOnly? day, Caller caller, CareStatistics statistics,
        OrgDirectory directory, Microsoft.Extensions.Options.IOptions<AfterSchoolOptions> options, TimeProvider time, CancellationToken ct) =>
        await WorkbookAsync((await CityStatisticsAsync(by, day, caller, statistics, directory, options, time, ct)).Value!, "city", ct);

    /// <summary>The statistics as a workbook: participation, attendance and electives, one sheet each, headers in Chinese.</summary>
    private static async Task<FileContentHttpResult> WorkbookAsync(CareStatisticsDto view, string scope, CancellationToken ct)
    {
        var sheets = new Dictionary<string, object>
        {
            ["参与率"] = view.Participation.Select(r => new Dictionary<string, object?>
            {
                ["范围"] = r.Label, ["编号"] = r.Key, ["应参与人数"] = r.Eligible, ["参与人数"] = r.Enrolled, ["参与率(%)"] = r.Rate,
                ["五天全参与"] = r.AllFiveDays, ["五天全参与占比(%)"] = r.AllFiveDaysShare, ["2020基线(%)"] = view.BaselineRate,
            }).ToList(),
            ["出勤"] = view.Attendance.Select(a => new Dictionary<string, object?>
            {
                ["学校"] = a.CorpId, ["应到"] = a.Expected, ["实到"] = a.Present, ["请假"] = a.OnLeave, ["缺勤"] = a.Absent, ["未点名"] = a.Unmarked,
                ["接送提醒"] = a.HandoverAlerts,
            }).ToList(),
            ["拓展课程"] = view.Electives.Select(e => new Dictionary<string, object?>
            {
                ["学校"] = e.CorpId, ["课程"] = e.Name, ["名额"] = e.Capacity, ["报名"] = e.Applications, ["录取"] = e.Enrolled, ["候补"] = e.Waitlisted,
            }).ToList(),
        };
        return await Xlsx.FileAsync(sheets, $"care-statistics-{scope}-{view.Day:yyyyMMdd}.xlsx", null, ct);
    }

    private static async Task<CareStatisticsDto> StatisticsAsync(IReadOnlyCollection<string> corpIds, string by, IReadOnlyList<string> dimensions,
        DateOnly? day, CareStatistics statistics, Microsoft.Extensions.Options.IOptions<AfterSchoolOptions> options, TimeProvider time,
        CancellationToken ct)
    {
        if (!dimensions.Contains(by))
        {
            throw new RequestValidationException("by", $"must be one of {string.Join(", ", dimensions)}");
        }

        var date = day ?? ShanghaiTime.Today(time);
        var total = (await statistics.ParticipationAsync(corpIds, "city", date, ct)).FirstOrDefault();
        return new CareStatisticsDto(date, by, options.Value.BaselineParticipationRate, await statistics.ParticipationAsync(corpIds, by, date, ct), total,
            await statistics.AttendanceAsync(corpIds, date, ct), await statistics.ElectivesAsync(corpIds, date, ct));
    }

    // ---- a guardian's ----

    /// <summary>Open programs of the schools of the caller's children, for their grades.</summary>
    private static async Task<Ok<IReadOnlyList<ProgramDto>>> OpenProgramsAsync(Caller caller, OrgDirectory directory, CareRepository care,
        CancellationToken ct)
    {
        var children = await directory.ChildrenAsync(caller.Identities, ct);
        var programs = new List<ProgramDto>();
        foreach (var program in await care.ProgramsAsync(children.Select(c => c.CorpId).Distinct().ToList(), CareProgramStatus.Open, ct))
        {
            programs.Add(await ProgramDtoAsync(program, care, ct));
        }

        return TypedResults.Ok<IReadOnlyList<ProgramDto>>(programs);
    }

    private static async Task<Created<CareApplicationDto>> ApplyAsync(ApplicationRequest request, Caller caller, CareService service,
        CareRepository care, CancellationToken ct)
    {
        var (application, places, review, positions) = await service.ApplyAsync(caller, request, ct);
        return TypedResults.Created($"/api/me/care/applications/{application.Id}", await DtoAsync(application, places, review.Id, care, ct, positions));
    }

    private static async Task<Ok<IReadOnlyList<CareApplicationDto>>> MyApplicationsAsync(Caller caller, CareRepository care,
        ApprovalRepository approvals, CancellationToken ct) =>
        TypedResults.Ok(await DtosAsync(await care.ApplicationsOfGuardianAsync(caller.Identities, ct), care, approvals, ct));

    private static async Task<Ok<CareApplicationDto>> WithdrawAsync(long id, Caller caller, CareService service, CareRepository care,
        ApprovalRepository approvals, CancellationToken ct) =>
        TypedResults.Ok((await DtosAsync([await service.WithdrawAsync(caller, id, ct)], care, approvals, ct))[0]);

    private static async Task<Ok<CareApplicationDto>> SwitchAsync(long id, SwitchRequest request, Caller caller, CareService service,
        CareRepository care, ApprovalRepository approvals, CancellationToken ct)
    {
        await service.SwitchAsync(caller, id, request.FromOfferingId, request.ToOfferingId, ct);
        return TypedResults.Ok((await DtosAsync([(await care.FindApplicationAsync(id, ct))!], care, approvals, ct))[0]);
    }

    private static async Task<Ok<CareApplicationDto>> ClaimOfferAsync(long id, long offeringId, Caller caller, CareOffers offers,
        CareRepository care, ApprovalRepository approvals, CancellationToken ct) =>
        TypedResults.Ok((await DtosAsync([await offers.ClaimAsync(caller, id, offeringId, ct)], care, approvals, ct))[0]);

    private static async Task<Ok<CareApplicationDto>> DeclineOfferAsync(long id, long offeringId, Caller caller, CareOffers offers,
        CareRepository care, ApprovalRepository approvals, CancellationToken ct) =>
        TypedResults.Ok((await DtosAsync([await offers.DeclineAsync(caller, id, offeringId, ct)], care, approvals, ct))[0]);

    private static async Task<NoContent> SurveyAsync(long id, SurveyAnswer request, Caller caller, CareSurvey survey, CancellationToken ct)
    {
        await survey.AnswerAsync(caller, id, request.OfferingId, request.Rating, request.Comment, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<IReadOnlyList<SurveyResult>>> SurveyResultsAsync(string corpId, long id, Caller caller, CareSurvey survey,
        CancellationToken ct) =>
        TypedResults.Ok(await survey.ResultsAsync(caller, corpId, id, ct));

    private static async Task<IReadOnlyList<CareApplicationDto>> DtosAsync(IReadOnlyList<CareApplication> applications, CareRepository care,
        ApprovalRepository approvals, CancellationToken ct)
    {
        var places = (await care.PlacesAsync(applications.Select(a => a.Id).ToList(), ct)).ToLookup(p => p.ApplicationId);
        var dtos = new List<CareApplicationDto>();
        foreach (var a in applications)
        {
            var request = await approvals.FindBySubjectAsync(CareApprovalKind.Name, CareApprovalKind.SubjectOf(a.Id), ct);
            dtos.Add(await DtoAsync(a, places[a.Id], request?.Id, care, ct));
        }

        return dtos;
    }

    // knownPositions: waitlist positions already counted by the submission that made the places, by offering.
    private static async Task<CareApplicationDto> DtoAsync(CareApplication a, IEnumerable<CarePlace> places, long? reviewId, CareRepository care,
        CancellationToken ct, IReadOnlyDictionary<long, int>? knownPositions = null)
    {
        var placeDtos = new List<PlaceDto>();
        foreach (var place in places)
        {
            var position = place.Status != PlaceStatus.Waitlisted ? null
                : knownPositions?.TryGetValue(place.OfferingId, out var known) == true ? known
                : await care.WaitlistPositionAsync(a.Id, place.OfferingId, ct);
            placeDtos.Add(new PlaceDto(place.OfferingId, place.Status, position, place.ChoiceRank,
                place.Status == PlaceStatus.Offered ? place.OfferExpiresAt : null));
        }

        return new CareApplicationDto(a.Id, a.ProgramId, a.CorpId, a.StudentUserId, a.ClassId, a.OnBehalfByUserId is not null,
            a.WeekdaySet.Order().ToList(), a.PickupPeople(), a.Priority, a.Exemption, a.TermsVersion,
            a.Status, a.SubmittedAt, a.DecidedAt, reviewId, placeDtos);
    }
}

[RequestSchema("entries")]
internal sealed record RollRequest(IReadOnlyList<RollMark?>? Entries);

internal sealed record RollMark(long? ApplicationId, [property: CodeValues(typeof(RollStatus))] string? Status);

[RequestSchema("applicationId", "collectedBy", "relation")]
internal sealed record HandoverRequest(long? ApplicationId, string? CollectedBy, string? Relation, string? Reason);

[RequestSchema("from", "to", "reason")]
internal sealed record LeaveRequest(DateOnly? From, DateOnly? To, string? Reason);

/// <remarks>
/// The daily loop (docs/after-school.md): the group's roll and handovers for its teacher and the school's admins (every
/// read of the roll audited: it names children and their pickup people's phones), leave and delegates for families.
/// </remarks>
internal static class CareDailyEndpoints
{
    public static IEndpointRouteBuilder MapCareDailyEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/corps/{corpId}/care-groups/{offeringId:long}").WithTags("After-school care");
        group.MapGet("/roll/{day}", RollAsync).RequireAudience(Audience.CareGroupKeeper).WithName("CareRoll_Get");
        group.MapPut("/roll/{day}", SaveRollAsync).RequireAudience(Audience.CareGroupKeeper).WithName("CareRoll_Put");
        group.MapPost("/roll/{day}/corrections", CorrectionAsync).RequireAudience(Audience.CareGroupKeeper).WithName("CareRoll_RequestCorrection");
        group.MapPost("/handovers/{day}", HandoverAsync).RequireAudience(Audience.CareGroupKeeper).WithName("CareHandovers_Record");

        var mine = app.MapGroup("/api/me/care/applications/{id:long}").WithTags("My after-school care");
        mine.MapPost("/leaves", LeaveAsync).RequireAudience(Audience.Person).WithName("MyCare_ReportLeave");
        mine.MapPut("/delegates/{day}", DelegateAsync).RequireAudience(Audience.Person).WithName("MyCare_SetDelegate");
        return app;
    }

    private static DateOnly Day(string day) =>
        DateOnly.TryParseExact(day, "yyyy-MM-dd", out var date) ? date : throw new RequestValidationException("day", "must be a date yyyy-MM-dd");

    private static async Task<Ok<IReadOnlyList<RollRow>>> RollAsync(string corpId, long offeringId, string day, Caller caller, CareDaily care,
        CancellationToken ct) =>
        TypedResults.Ok(await care.RollAsync(caller, corpId, offeringId, Day(day), ct));

    private static async Task<Ok<IReadOnlyList<RollRow>>> SaveRollAsync(string corpId, long offeringId, string day, RollRequest request, Caller caller,
        CareDaily care, CancellationToken ct)
    {
        var date = Day(day);
        await care.SaveRollAsync(caller, corpId, offeringId, date,
            (request.Entries ?? []).Select(e => (e?.ApplicationId ?? 0, e?.Status)).ToList(), ct);
        return TypedResults.Ok(await care.RollAsync(caller, corpId, offeringId, date, ct));
    }

    private static async Task<Accepted<RollCorrectionDto>> CorrectionAsync(string corpId, long offeringId, string day, RollCorrectionRequest request,
        Caller caller, CareRollCorrections corrections, CancellationToken ct)
    {
        var correction = await corrections.RequestAsync(caller, corpId, offeringId, Day(day), request, ct);
        return TypedResults.Accepted($"/api/approvals/{correction.ApprovalRequestId}", correction);
    }

    private static async Task<Ok<Handover>> HandoverAsync(string corpId, long offeringId, string day, HandoverRequest request, Caller caller,
        CareDaily care, CancellationToken ct) =>
        TypedResults.Ok(await care.RecordHandoverAsync(caller, corpId, offeringId, Day(day), request.ApplicationId ?? 0, request.CollectedBy,
            request.Relation, request.Reason, ct));

    private static async Task<Created<CareLeave>> LeaveAsync(long id, LeaveRequest request, Caller caller, CareDaily care, CancellationToken ct)
    {
        var leave = await care.ReportLeaveAsync(caller, id, request.From, request.To, request.Reason, ct);
        return TypedResults.Created($"/api/me/care/applications/{id}/leaves/{leave.Id}", leave);
    }

    private static async Task<Ok<CareDelegate>> DelegateAsync(long id, string day, PickupPerson? request, Caller caller, CareDaily care,
        CancellationToken ct) =>
        TypedResults.Ok(await care.SetDelegateAsync(caller, id, Day(day), request, ct));
}

[RequestSchema("teacherUserId", "reason")]
internal sealed record CoverRequest(string? TeacherUserId, string? Reason);

/// <remarks>
/// Teachers' duty (docs/after-school.md): cover named by the school's admins, sign-in by the group's teacher or the
/// day's cover, hours per teacher for the school's admins (JSON or xlsx).
/// </remarks>
internal static class CareDutyEndpoints
{
    public static IEndpointRouteBuilder MapCareDutyEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/corps/{corpId}").WithTags("After-school care");
        group.MapPut("/care-groups/{offeringId:long}/cover/{day}", CoverAsync).RequireAudience(Audience.SchoolAdmin).WithName("CareDuty_SetCover");
        group.MapPost("/care-groups/{offeringId:long}/duty", SignInAsync).RequireAudience(Audience.Person).WithName("CareDuty_SignIn");
        group.MapGet("/care-programs/{id:long}/hours", HoursAsync).RequireAudience(Audience.SchoolAdmin).WithName("CareDuty_Hours");
        group.MapGet("/care-programs/{id:long}/hours.xlsx", HoursExportAsync).RequireAudience(Audience.SchoolAdmin).WithName("CareDuty_HoursExport").ProducesFile();
        return app;
    }

    private static async Task<Ok<CareCover>> CoverAsync(string corpId, long offeringId, string day, CoverRequest request, Caller caller, CareDuty duty,
        CancellationToken ct)
    {
        if (!DateOnly.TryParseExact(day, "yyyy-MM-dd", out var date))
        {
            throw new RequestValidationException("day", "must be a date yyyy-MM-dd");
        }

        return TypedResults.Ok(await duty.SetCoverAsync(caller, corpId, offeringId, date, request.TeacherUserId, request.Reason, ct));
    }

    private static async Task<Ok<DutySignIn>> SignInAsync(string corpId, long offeringId, Caller caller, CareDuty duty, CancellationToken ct) =>
        TypedResults.Ok(await duty.SignInAsync(caller, corpId, offeringId, ct));

    private static async Task<Ok<IReadOnlyList<TeacherHours>>> HoursAsync(string corpId, long id, DateOnly? from, DateOnly? to, Caller caller,
        CareDuty duty, CareRepository care, CancellationToken ct)
    {
        var (start, end) = await PeriodAsync(corpId, id, from, to, care, ct);
        return TypedResults.Ok(await duty.HoursAsync(caller, corpId, id, start, end, ct));
    }

    /// <summary>The hours as an xlsx for the school's finance office, one row per teacher.</summary>
    private static async Task<FileContentHttpResult> HoursExportAsync(string corpId, long id, DateOnly? from, DateOnly? to, Caller caller, CareDuty duty,
        CareRepository care, CancellationToken ct)
    {
        var (start, end) = await PeriodAsync(corpId, id, from, to, care, ct);
        var rows = (await duty.HoursAsync(caller, corpId, id, start, end, ct)).Select(h => new Dictionary<string, object?>
        {
            ["教师"] = h.Name,
            ["UserId"] = h.TeacherUserId,
            ["本校教职工"] = h.SchoolStaff ? "是" : "否（校外）",
            ["值守次数"] = h.Sessions,
            ["代课次数"] = h.CoverSessions,
            ["时长(小时)"] = h.Hours,
        }).ToList();
        return await Xlsx.FileAsync(rows, $"care-hours-{id}-{start:yyyyMMdd}-{end:yyyyMMdd}.xlsx", "课后服务课时", ct);
    }

    private static async Task<(DateOnly From, DateOnly To)> PeriodAsync(string corpId, long id, DateOnly? from, DateOnly? to, CareRepository care,
        CancellationToken ct)
    {
        var program = await care.FindProgramAsync(id, ct);
        return program is null || program.CorpId != corpId ? (from ?? DateOnly.MinValue, to ?? DateOnly.MinValue)
            : (from ?? program.StartsOn, to ?? program.EndsOn);
    }
}

[RequestSchema("status", "amountCents")]
internal sealed record PaymentRequest([property: CodeValues(typeof(PaymentStatus))] string? Status, long? AmountCents, string? Note);

/// <remarks>Fees (docs/after-school.md): statements per child and period for the school's admins (JSON or xlsx), payment status from finance.</remarks>
internal static class CareFeeEndpoints
{
    public static IEndpointRouteBuilder MapCareFeeEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/corps/{corpId}/care-programs/{id:long}").WithTags("After-school care");
        group.MapGet("/fees", FeesAsync).RequireAudience(Audience.SchoolAdmin).WithName("CareFees_Statements");
        group.MapGet("/fees.xlsx", FeesExportAsync).RequireAudience(Audience.SchoolAdmin).WithName("CareFees_Export").ProducesFile();
        group.MapPut("/payments/{applicationId:long}/{period}", PaymentAsync).RequireAudience(Audience.SchoolAdmin).WithName("CareFees_RecordPayment");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<FeeStatement>>> FeesAsync(string corpId, long id, string? period, Caller caller, CareBilling billing,
        CancellationToken ct) =>
        TypedResults.Ok(await billing.StatementsAsync(caller, corpId, id, period, ct));

    private static async Task<FileContentHttpResult> FeesExportAsync(string corpId, long id, string? period, Caller caller, CareBilling billing,
        CancellationToken ct)
    {
        var rows = (await billing.StatementsAsync(caller, corpId, id, period, ct)).Select(s => new Dictionary<string, object?>
        {
            ["学生"] = s.StudentName,
            ["UserId"] = s.StudentUserId,
            ["项目"] = string.Join("、", s.Lines.Select(l => l.Offering)),
            ["实际次数"] = s.Lines.Sum(l => l.Sessions),
            ["减免"] = s.Exemption is null ? "" : $"{s.Exemption} {s.ExemptPercent}%",
            ["应收(元)"] = s.DueCents / 100m,
            ["缴费状态"] = s.Payment?.Status ?? "未记录",
            ["金额(元)"] = s.Payment is null ? null : s.Payment.AmountCents / 100m,
            ["差额(元)"] = s.BalanceCents / 100m,
        }).ToList();
        return await Xlsx.FileAsync(rows, $"care-fees-{id}-{period ?? "term"}.xlsx", "课后服务收费", ct);
    }

    private static async Task<Ok<CarePayment>> PaymentAsync(string corpId, long id, long applicationId, string period, PaymentRequest request,
        Caller caller, CareBilling billing, CancellationToken ct) =>
        TypedResults.Ok(await billing.RecordPaymentAsync(caller, corpId, id, applicationId, period, request.Status, request.AmountCents, request.Note, ct));
}
