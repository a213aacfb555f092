using System.Globalization;
using System.Text.Json;
using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Features.Privacy;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.AfterSchool;

[RequestSchema("weekday", "startsAt", "endsAt")]
internal sealed record SessionRequest(int? Weekday, string? StartsAt, string? EndsAt);

[RequestSchema("kind", "name", "contentType", "capacity")]
internal sealed record OfferingRequest([property: CodeValues(typeof(OfferingKind))] string? Kind, string? Name, IReadOnlyList<int>? GradeLevels, string? TeacherUserId, [property: CodeValues(typeof(ContentType))] string? ContentType,
    int? Capacity, int? FeeCents, string? Allocation, long? ProviderId = null, IReadOnlyList<long>? ClassIds = null);

[RequestSchema("terms")]
internal sealed record TermsRequest(string? Terms);

[RequestSchema("name", "kind", "startsOn", "endsOn", "signupOpensAt", "signupClosesAt", "gradeLevels", "terms", "feeUnit", "sessions", "offerings")]
internal sealed record ProgramRequest(string? Name, [property: CodeValues(typeof(CareProgramKind))] string? Kind, DateOnly? StartsOn, DateOnly? EndsOn, DateTime? SignupOpensAt, DateTime? SignupClosesAt,
    IReadOnlyList<int>? GradeLevels, string? Terms, [property: CodeValues(typeof(FeeUnit))] string? FeeUnit, string? SafetyNotes, IReadOnlyList<SessionRequest?>? Sessions,
    IReadOnlyList<OfferingRequest?>? Offerings);

[RequestSchema("programId", "corpId", "studentUserId", "offeringIds", "weekdays", "pickup", "termsVersion")]
internal sealed record ApplicationRequest(long? ProgramId, string? CorpId, string? StudentUserId, IReadOnlyList<long>? OfferingIds,
    IReadOnlyList<int>? Weekdays, IReadOnlyList<PickupPerson?>? Pickup, string? Priority, string? Exemption, int? TermsVersion,
    bool? PaperConsent = null);

/// <summary>
/// After-school care (docs/after-school.md): programs checked against "5+2" before they open, guardians' applications
/// with places allocated at submission (basic care always; electives first come, then a waitlist), reviewed through the
/// approvals platform (the class adviser, then the school's admins, who may confirm in bulk), withdrawals that give the
/// place to the next family in line.
/// </summary>
internal sealed class CareService(CareRepository care, OrgDirectory directory, AccessPolicy access, ApprovalService approvals,
    ApprovalRepository approvalRequests, CareProviders providers, AuditLog audit, ConsentService consents, ConsentRepository consentRecords,
    IOptions<AfterSchoolOptions> options, TimeProvider time)
{
    public static readonly IReadOnlyList<string> PriorityCategories = ["left-behind", "migrant"];

    // ---- programs ----

    public async Task<CareProgram> CreateProgramAsync(Caller caller, string corpId, ProgramRequest request, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school runs its after-school care");
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string reason) => errors[field] = [reason];
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            Error("name", "is required, at most 100 characters");
        }

        if (request.Kind is null || !CareProgramKind.All.Contains(request.Kind))
        {
            Error("kind", $"must be one of {string.Join(", ", CareProgramKind.All)}");
        }

        if (request.StartsOn is not { } starts || request.EndsOn is not { } ends || ends < starts || ends > starts.AddYears(1))
        {
            Error("endsOn", "startsOn and endsOn are required; endsOn on or after startsOn, within a year");
        }

        if (request.SignupOpensAt is not { } opens || request.SignupClosesAt is not { } closes || closes <= opens)
        {
            Error("signupClosesAt", "signupOpensAt and signupClosesAt are required; the window closes after it opens");
        }

        if (request.GradeLevels is not { Count: > 0 } grades || grades.Any(g => g is < 1 or > 12))
        {
            Error("gradeLevels", "must list grade levels 1 to 12");
        }

        if (string.IsNullOrWhiteSpace(request.Terms) || request.Terms.Length > 20_000)
        {
            Error("terms", "is required (the public notice: time, content, fees, safety), at most 20,000 characters");
        }

        if (request.FeeUnit is null || !FeeUnit.All.Contains(request.FeeUnit))
        {
            Error("feeUnit", $"must be one of {string.Join(", ", FeeUnit.All)}");
        }

        var sessions = new List<CareSession>();
        var sessionRequests = request.Sessions ?? [];
        if (sessionRequests.Count is 0 or > 7)
        {
            Error("sessions", "must list 1 to 7 weekday sessions");
        }

        for (var i = 0; i < Math.Min(sessionRequests.Count, 7); i++)
        {
            var s = sessionRequests[i];
            if (s?.Weekday is not (>= 1 and <= 7) || sessions.Any(x => x.Weekday == s.Weekday))
            {
                Error($"sessions[{i}].weekday", "must be 1 (Monday) to 7 (Sunday), each once");
                continue;
            }

            if (!TimeOnly.TryParseExact(s.StartsAt, "HH:mm", out var from) || !TimeOnly.TryParseExact(s.EndsAt, "HH:mm", out var to) || to <= from)
            {
                Error($"sessions[{i}].endsAt", "startsAt and endsAt are HH:mm, ending after it starts");
                continue;
            }

            sessions.Add(new CareSession(0, s.Weekday.Value, s.StartsAt!, s.EndsAt!));
        }

        var offerings = new List<CareOffering>();
        var offeringRequests = request.Offerings ?? [];
        var whitelisted = (await providers.ListAsync(corpId, ct)).Where(p => p.Status == CareProviders.Whitelisted).Select(p => p.Id).ToHashSet();
        if (offeringRequests.Count is 0 or > 200)
        {
            Error("offerings", "must list 1 to 200 basic care groups and electives");
        }

        for (var i = 0; i < Math.Min(offeringRequests.Count, 200); i++)
        {
            if (await OfferingAsync(corpId, request.GradeLevels, offeringRequests[i], $"offerings[{i}]", whitelisted, errors, ct) is { } offering)
            {
                offerings.Add(offering);
            }
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var now = time.UtcNowForDatabase();
        var id = await care.CreateProgramAsync(new CareProgram(0, corpId, request.Name!.Trim(), request.Kind!, request.StartsOn!.Value, request.EndsOn!.Value,
            request.SignupOpensAt!.Value.ToUniversalTime(), request.SignupClosesAt!.Value.ToUniversalTime(),
            string.Join(',', request.GradeLevels!.Distinct().Order()), CareProgramStatus.Draft, request.Terms!, 1, request.FeeUnit!,
            request.SafetyNotes, now, caller.UserIdIn(corpId), now), sessions, offerings, ct);
        return (await care.FindProgramAsync(id, ct))!;
    }

    /// <summary>One offering as requested, checked against the program's grades and the school's staff and providers; errors by field.</summary>
    private async Task<CareOffering?> OfferingAsync(string corpId, IReadOnlyList<int>? programGrades, OfferingRequest? o, string field,
        IReadOnlySet<long> whitelisted, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        void Error(string key, string reason) => errors[key] = [reason];
        if (o?.Kind is not (OfferingKind.Basic or OfferingKind.Elective))
        {
            Error($"{field}.kind", "must be basic (基础托管) or elective (拓展课程)");
            return null;
        }

        if (string.IsNullOrWhiteSpace(o.Name) || o.Name.Length > 100)
        {
            Error($"{field}.name", "is required, at most 100 characters");
        }

        if (o.ContentType is null || !ContentType.All.Contains(o.ContentType))
        {
            Error($"{field}.contentType", $"must be one of {string.Join(", ", ContentType.All)} (never new lessons)");
        }

        if (o.Capacity is not (>= 1 and <= 2000))
        {
            Error($"{field}.capacity", "must be 1 to 2,000");
        }

        if (o.FeeCents is < 0)
        {
            Error($"{field}.feeCents", "must not be negative");
        }

        var allocation = o.Allocation ?? AllocationMode.FirstCome;
        if (!AllocationMode.All.Contains(allocation))
        {
            Error($"{field}.allocation", $"must be one of {string.Join(", ", AllocationMode.All)}");
        }

        var offeringGrades = o.GradeLevels is { Count: > 0 } g ? g : programGrades ?? [];
        if (programGrades is not null && offeringGrades.Any(x => !programGrades.Contains(x)))
        {
            Error($"{field}.gradeLevels", "must be grades of the program");
        }

        if (o.ProviderId is { } providerId && (o.Kind != OfferingKind.Elective || !whitelisted.Contains(providerId)))
        {
            Error($"{field}.providerId", "must be an outside provider on the school's whitelist, for an elective");
        }

        // The teacher: one of the school's staff, or (for a provider's course) the provider's person in the school's DingTalk.
        if (o.TeacherUserId is { } teacher && (o.ProviderId is null
                ? (await directory.CurrentStaffAsync(corpId, [teacher], ct)).Count == 0
                : await directory.FindAccountAsync(corpId, teacher, ct) is null))
        {
            Error($"{field}.teacherUserId", o.ProviderId is null
                ? "must be a current member of the school's staff (or name the outside provider whose staff they are)"
                : "must be a person in the school's DingTalk organization");
        }

        // A group formed by class: classes of the school in the offering's grades.
        if (o.ClassIds is { Count: > 0 } classIds)
        {
            var classes = await directory.ClassesAsync(corpId, new ClassFilter(ClassIds: classIds.Distinct().ToList()), ct);
            if (classIds.Count > 100 || classes.Count != classIds.Distinct().Count() ||
                classes.Any(c => c.GradeLevel is not { } level || !offeringGrades.Contains(level)))
            {
                Error($"{field}.classIds", "must be 1 to 100 classes of the school, in the offering's grades");
            }
        }

        return new CareOffering(0, 0, o.Kind, o.Name?.Trim() ?? "", string.Join(',', offeringGrades.Distinct().Order()), o.TeacherUserId,
            o.ContentType ?? "", o.Capacity ?? 0, o.FeeCents ?? 0, allocation, 0, o.ProviderId,
            o.ClassIds is { Count: > 0 } ids ? string.Join(',', ids.Distinct().Order()) : null);
    }

    /// <summary>
    /// Adds a group or course to a program that is not closed: above all another basic care group when a group's demand
    /// exceeds its capacity (应保尽保); families move into it with a switch.
    /// </summary>
    public async Task<CareOffering> AddOfferingAsync(Caller caller, string corpId, long id, OfferingRequest? request, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school runs its after-school care");
        var program = await ProgramOfSchoolAsync(corpId, id, ct);
        if (program.Status == CareProgramStatus.Closed)
        {
            throw new ConflictException($"Program {id} is closed.", "该托管项目已结束。", reason: "program_closed");
        }

        var errors = new Dictionary<string, string[]>();
        var whitelisted = (await providers.ListAsync(corpId, ct)).Where(p => p.Status == CareProviders.Whitelisted).Select(p => p.Id).ToHashSet();
        var offering = await OfferingAsync(corpId, program.Grades, request, "offering", whitelisted, errors, ct);
        if (errors.Count > 0 || offering is null)
        {
            throw new RequestValidationException(errors);
        }

        var offeringId = await care.AddOfferingAsync(program.Id, offering, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "care.offering.add", corpId, [],
            $"program {id}: {offering.Kind} {offering.Name} (capacity {offering.Capacity})", AuditLog.Allowed, ct);
        return (await care.FindOfferingAsync(offeringId, ct))!;
    }

    /// <summary>Publishes new terms (the public notice): the version goes up; families applying from now on accept it.</summary>
    public async Task<CareProgram> ReviseTermsAsync(Caller caller, string corpId, long id, string? terms, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school runs its after-school care");
        var program = await ProgramOfSchoolAsync(corpId, id, ct);
        if (string.IsNullOrWhiteSpace(terms) || terms.Length > 20_000)
        {
            throw new RequestValidationException("terms", "is required (the public notice: time, content, fees, safety), at most 20,000 characters");
        }

        if (!await care.ReviseTermsAsync(id, terms, time.UtcNowForDatabase(), ct))
        {
            throw new ConflictException($"Program {id} is {program.Status}; the terms of a closed program stay as they were.", "项目已结束，须知不能再修改。", reason: "program_closed");
        }

        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "care.terms.revise", corpId, [],
            $"program {id}: terms version {program.TermsVersion + 1}", AuditLog.Allowed, ct);
        return (await care.FindProgramAsync(id, ct))!;
    }

    public Task<CareProgram> ProgramOfSchoolAsync(string corpId, long id, CancellationToken ct) => care.ProgramOfSchoolAsync(corpId, id, ct);

    /// <summary>The program's "5+2" violations against the school's calendar and the local off-work time.</summary>
    public async Task<IReadOnlyList<ComplianceViolation>> ComplianceAsync(CareProgram program, CancellationToken ct) =>
        CareCompliance.Check(program, await care.SessionsAsync(program.Id, ct),
            SchoolCalendar.Of(await care.DaysAsync(program.CorpId, program.StartsOn, program.EndsOn, ct)), options.Value);

    /// <summary>Opens signup; a program that breaks "5+2" stays a draft, and the answer lists the first violations.</summary>
    public async Task<CareProgram> OpenAsync(Caller caller, string corpId, long id, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school runs its after-school care");
        var program = await ProgramOfSchoolAsync(corpId, id, ct);
        var violations = await ComplianceAsync(program, ct);
        if (violations.Count > 0)
        {
            throw new RuleViolationException($"The program breaks \"5+2\" on {violations.Count} day(s) and stays a draft: " +
                                             string.Join("; ", violations.Take(5).Select(v => $"{v.Day:yyyy-MM-dd} {v.Rule}: {v.Detail}")),
                $"该项目有 {violations.Count} 天不符合“5+2”要求（每个上课日至少 2 小时、不早于下班时间结束），暂保存为草稿。", reason: "five_plus_two");
        }

        if (!await care.SetProgramStatusAsync(id, CareProgramStatus.Draft, CareProgramStatus.Open, time.UtcNowForDatabase(), ct))
        {
            throw new ConflictException($"Program {id} is {program.Status}; only a draft is opened.", "只有草稿状态的项目可以开放报名。", reason: "not_draft");
        }

        return (await care.FindProgramAsync(id, ct))!;
    }

    /// <summary>
    /// Draws the lottery of each elective of the program allocated by lottery, and allocates its ranked-choice electives
    /// in one batch, once the signup window has closed; with <paramref name="seed"/> null a random seed is recorded.
    /// Drawing again returns the recorded draws.
    /// </summary>
    public async Task<IReadOnlyList<(long OfferingId, string Seed, IReadOnlyList<long> Drawn)>> DrawAsync(Caller caller, string corpId, long id,
        string? seed, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school runs its after-school care");
        var program = await ProgramOfSchoolAsync(corpId, id, ct);
        if (seed is { Length: 0 or > 64 })
        {
            throw new RequestValidationException("seed", "1 to 64 characters, or omit it for a random seed");
        }

        var now = time.UtcNowForDatabase();
        if (now < program.SignupClosesAt)
        {
            throw new RuleViolationException("The lottery is drawn after the signup window closes, so that every family is in it.", "报名截止后才能摇号，以保证每个家庭都参与。", reason: "lottery_before_close");
        }

        var draws = new List<(long, string, IReadOnlyList<long>)>();
        var offerings = await care.OfferingsAsync(program.Id, ct);
        foreach (var offering in offerings.Where(o => o.Allocation == AllocationMode.Lottery))
        {
            var (usedSeed, drawn) = await care.DrawAsync(offering, seed ?? CareLottery.NewSeed(), caller.UserIdIn(corpId), now, ct);
            draws.Add((offering.Id, usedSeed, drawn));
        }

        // The ranked-choice electives share one batch: each of them is answered with the batch's seed and order.
        if (offerings.Any(o => o.Allocation == AllocationMode.Ranked))
        {
            var (usedSeed, drawn) = await care.AllocateRankedAsync(program.Id, seed ?? CareLottery.NewSeed(), caller.UserIdIn(corpId), now, ct);
            draws.AddRange(offerings.Where(o => o.Allocation == AllocationMode.Ranked).Select(o => (o.Id, usedSeed, drawn)));
        }

        return draws;
    }

    // ---- applications ----

    /// <summary>
    /// A guardian applies for their own child (or the child's class adviser for a family not on DingTalk, recorded as
    /// such) within the signup window: places are allocated at once (or by the draw or the ranked batch after the
    /// window), and the application goes to review. The order of offeringIds ranks the ranked-choice electives.
    /// </summary>
    public async Task<(CareApplication Application, IReadOnlyList<CarePlace> Places, ApprovalRequest Review, IReadOnlyDictionary<long, int> WaitlistPositions)> ApplyAsync(Caller caller,
        ApplicationRequest request,
        CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string reason) => errors[field] = [reason];
        if (request.ProgramId is null || string.IsNullOrWhiteSpace(request.CorpId) || string.IsNullOrWhiteSpace(request.StudentUserId))
        {
            Error("programId", "programId, corpId and studentUserId are required");
            throw new RequestValidationException(errors);
        }

        var corpId = request.CorpId;
        if (await care.ProgramWithDetailsAsync(request.ProgramId.Value, ct) is not var (program, programOfferings, sessions)
            || program.CorpId != corpId || program.Status != CareProgramStatus.Open)
        {
            throw new NotFoundException($"No open after-school program {request.ProgramId} in {corpId}.");
        }

        // Who applies: the child's guardian, or the adviser of the child's class on the family's behalf.
        if (await directory.StudentPlacementAsync(caller.Identities, corpId, request.StudentUserId, ct) is not var (studentName, classId, grade, relation))
        {
            throw new NotFoundException($"No student {request.StudentUserId} in {corpId}.");
        }

        var onBehalf = false;
        if (relation is null)
        {
            if (await access.ScopeOverClassAsync(caller, corpId, classId, allowGrant: false, ct) is not { Scope: Scope.ClassAdvised or Scope.School })
            {
                throw new ForbiddenException("Missing scope: guardian of this child (or the adviser of their class, on the family's behalf).", "只有孩子的家长（或班主任代为）可以报名。");
            }

            onBehalf = true;
        }

        var now = time.UtcNowForDatabase();
        // After the window, a family may still join while the program runs: a mid-term join, reviewed like any application.
        var midTerm = now >= program.SignupClosesAt;
        if (now < program.SignupOpensAt || (midTerm && ShanghaiTime.DayOf(now) > program.EndsOn))
        {
            throw new RuleViolationException(
                $"Signup for this program is open from {ShanghaiTime.FromUtc(program.SignupOpensAt):yyyy-MM-dd HH:mm} (Beijing time) until it ends on {program.EndsOn:yyyy-MM-dd}.",
                $"不在报名时间内：本项目自 {ShanghaiTime.FromUtc(program.SignupOpensAt):M月d日 HH:mm} 起可报名，至 {program.EndsOn:M月d日} 结束。", reason: "signup_window");
        }

        if (grade is null || !program.Grades.Contains(grade.Value))
        {
            throw new RuleViolationException($"The program is for grades {program.GradeLevels}; this child's class is not.", "孩子所在年级不在本项目的招收范围内。", reason: "grade_not_eligible");
        }

        var paperConsent = await RequireCareConsentAsync(corpId, request.StudentUserId, onBehalf, request.PaperConsent == true, ct);
        var offerings = programOfferings.ToDictionary(o => o.Id);
        var chosen = request.OfferingIds?.Distinct().ToList() ?? [];
        if (chosen.Count is 0 or > 10 || chosen.Any(id => !offerings.ContainsKey(id)))
        {
            Error("offeringIds", "must name 1 to 10 offerings of this program");
        }
        else if (chosen.Count(id => offerings[id].Kind == OfferingKind.Basic) > 1)
        {
            Error("offeringIds", "at most one basic care group");
        }
        else if (chosen.FirstOrDefault(id => !offerings[id].IsFor(grade.Value, classId)) is var wrong and > 0)
        {
            Error("offeringIds", $"offering {wrong} is not for this child's grade ({grade}) and class");
        }

        var sessionDays = sessions.Select(s => s.Weekday).ToHashSet();
        var weekdays = request.Weekdays?.Distinct().Order().ToList() ?? [];
        if (weekdays.Count == 0 || weekdays.Any(d => !sessionDays.Contains(d)))
        {
            Error("weekdays", $"must choose days the program runs ({string.Join(", ", sessionDays.Order())})");
        }

        var pickup = request.Pickup ?? [];
        if (pickup.Count is 0 or > 5)
        {
            Error("pickup", "must name 1 to 5 pickup people");
        }

        for (var i = 0; i < Math.Min(pickup.Count, 5); i++)
        {
            if (!PickupPerson.IsValid(pickup[i]))
            {
                Error($"pickup[{i}]", "needs a name (≤ 50), a relation (≤ 20) and a phone number");
            }
        }

        if (request.Priority is { } priority && !PriorityCategories.Contains(priority))
        {
            Error("priority", $"must be one of {string.Join(", ", PriorityCategories)} (留守儿童, 随迁子女) or omitted");
        }

        if (request.Exemption is { } exemption && !options.Value.FeeExemptions.ContainsKey(exemption))
        {
            Error("exemption", $"must be one of {string.Join(", ", options.Value.FeeExemptions.Keys)} or omitted");
        }

        if (request.TermsVersion != program.TermsVersion)
        {
            Error("termsVersion", $"must accept the program's current terms (version {program.TermsVersion})");
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var applicantCorp = caller.Identities.Any(i => i.CorpId == corpId) ? corpId : caller.Account.CorpId;
        var application = new CareApplication(0, program.Id, corpId, request.StudentUserId, classId, applicantCorp, caller.UserIdIn(applicantCorp),
            onBehalf ? caller.UserIdIn(applicantCorp) : null, string.Join(',', weekdays),
            JsonSerializer.Serialize(pickup, JsonSerializerOptions.Web), request.Priority, request.Exemption, program.TermsVersion,
            CareApplicationStatus.Pending, now, null);
        var requester = (applicantCorp, caller.UserIdIn(applicantCorp));
        ApprovalSubmission Review(long id) => new(CareApprovalKind.Name, corpId, CareApprovalKind.SubjectOf(id), $"{studentName}：{program.Name}",
            string.Join("、", chosen.Select(o => offerings[o].Name)) + (onBehalf ? "（班主任代为申请）" : "") + (midTerm ? "（学期中加入）" : ""), classId);

        // The review request is written with the application, in its transaction, where the chain lets it (in the app):
        // no application without its review, and one transaction for the busiest minute's write (docs/after-school.md).
        var prepared = await approvals.PrepareInAppAsync(CareApprovalKind.Name, corpId, classId, ct);
        SubmittedRequest? submitted = null;
        var (id, places, positions) = await care.SubmitAsync(application, chosen, now, ct, prepared is null
                               ? null
                               : async (tx, newId, token) => submitted = await approvals.SubmitInTransactionAsync(tx, prepared, Review(newId), requester, now, token))
                           ?? throw new ConflictException("This child already has an application for the program.", "已为孩子报名过本项目，请勿重复提交。", reason: "already_applied");
        if (paperConsent is { } notice)
        {
            await consentRecords.RecordAsync(corpId, request.StudentUserId, [(ConsentPurpose.AfterSchoolCare, ConsentDecision.Give)], notice,
                ConsentChannel.Paper, null, requester, now, ct);
            await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, ConsentEndpoints.AnswerAction, corpId, [request.StudentUserId],
                $"paper consent to {ConsentPurpose.AfterSchoolCare} under notice {notice.Scope} v{notice.Version}, recorded by the adviser with application {id}",
                AuditLog.Allowed, ct);
        }

        var review = submitted is not null ? await approvals.CompleteAsync(submitted, ct) : await approvals.SubmitAsync(Review(id), requester, ct);
        // While the review is pending nothing has changed what was just written; a chain that decided at once (auto-approval) has.
        return review.Status == ApprovalStatus.Pending
            ? (application with { Id = id }, places.OrderBy(p => p.OfferingId).ToList(), review, positions)
            : ((await care.FindApplicationAsync(id, ct))!, await care.PlacesAsync([id], ct), review, new Dictionary<long, int>());
    }

    /// <summary>
    /// After-school care needs the guardian's consent once a processing notice covering it is in force (docs/privacy.md):
    /// without it the application is refused (the data is not collected). An adviser applying for a family not on
    /// DingTalk records the family's paper form (<c>paperConsent</c>): the notice it was given under is returned, to be
    /// recorded with the application. A family's refusal or withdrawal is never overridden on its behalf.
    /// </summary>
    private async Task<PrivacyNotice?> RequireCareConsentAsync(string corpId, string studentUserId, bool onBehalf, bool paperConsent, CancellationToken ct)
    {
        if (consents.BasisOf(ConsentPurpose.AfterSchoolCare) != LegalBasis.Consent)
        {
            return null;
        }

        var standing = (await consents.StandingsAsync(corpId, ConsentPurpose.AfterSchoolCare, [studentUserId], ct))[studentUserId];
        if (standing is ConsentStanding.Given or ConsentStanding.NoNotice)
        {
            return null;
        }

        if (onBehalf && paperConsent && standing == ConsentStanding.Missing)
        {
            return await consents.NoticeInForceAsync(corpId, ct);
        }

        throw new RuleViolationException(
            $"The guardian's consent to after-school care under the processing notice in force is {standing}; the application needs it.",
            standing is ConsentStanding.Refused or ConsentStanding.Withdrawn
                ? "监护人已拒绝或撤回课后服务个人信息处理的同意，不能报名。"
                : "报名前请先在“隐私与授权”中阅读个人信息处理规则并同意课后服务用途。", reason: "consent_missing");
    }

    /// <summary>
    /// The family moves a child from one group or course to another of the same program (the first place is released and
    /// goes to the next family in line; the new one is allocated like a new application's), audited.
    /// </summary>
    public async Task<IReadOnlyList<CarePlace>> SwitchAsync(Caller caller, long id, long? fromOfferingId, long? toOfferingId, CancellationToken ct)
    {
        var application = await care.ApplicationOfAsync(caller, id, ct);

        if (application.Status is not (CareApplicationStatus.Pending or CareApplicationStatus.Approved))
        {
            throw new ConflictException($"Application {id} is {application.Status}; only a live application changes groups.", "该报名已结束，不能再调整班组或课程。", reason: "application_ended");
        }

        var offerings = (await care.OfferingsAsync(application.ProgramId, ct)).ToDictionary(o => o.Id);
        var places = (await care.PlacesAsync([id], ct)).ToDictionary(p => p.OfferingId);
        if (fromOfferingId is not { } from || !places.TryGetValue(from, out var current) || current.Status == PlaceStatus.Released)
        {
            throw new RequestValidationException("fromOfferingId", "must be a group or course the child has a place in");
        }

        var grade = (await directory.ClassesAsync(application.CorpId, new ClassFilter(ClassIds: [application.ClassId]), ct)).FirstOrDefault()?.GradeLevel;
        if (toOfferingId is not { } to || !offerings.TryGetValue(to, out var target) || places.TryGetValue(to, out var existing) && existing.Status != PlaceStatus.Released
            || target.Kind != offerings[from].Kind || grade is null || !target.IsFor(grade.Value, application.ClassId))
        {
            throw new RequestValidationException("toOfferingId", "must be another offering of the same kind in this program, for the child's grade");
        }

        if (!await care.SwitchAsync(id, from, to, time.UtcNowForDatabase(), ct))
        {
            throw new ConflictException($"Application {id} changed meanwhile; read it again.", "报名信息刚被修改过，请刷新后再试。", reason: "changed_meanwhile");
        }

        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "care.switch", application.CorpId, [application.StudentUserId],
            $"application {id}: from {offerings[from].Name} to {target.Name}", AuditLog.Allowed, ct);
        return await care.PlacesAsync([id], ct);
    }

    /// <summary>
    /// The family withdraws: before the decision, by withdrawing the approval request; after approval, at once. Either
    /// way its places go to the next families in line.
    /// </summary>
    public async Task<CareApplication> WithdrawAsync(Caller caller, long id, CancellationToken ct)
    {
        var application = await care.ApplicationOfAsync(caller, id, ct);

        if (application.Status is CareApplicationStatus.Pending or CareApplicationStatus.Returned &&
            await approvalRequests.FindBySubjectAsync(CareApprovalKind.Name, CareApprovalKind.SubjectOf(id), ct) is { } request)
        {
            await approvals.WithdrawAsync(caller, request.Id, ct);
        }
        else if (!await care.SettleAsync(id, [CareApplicationStatus.Approved], CareApplicationStatus.Withdrawn, time.UtcNowForDatabase(), ct))
        {
            throw new ConflictException($"Application {id} is {application.Status}; there is nothing to withdraw.", "该报名已结束，无需退出。", reason: "application_ended");
        }

        return (await care.FindApplicationAsync(id, ct))!;
    }

}

/// <summary>
/// An after-school application under review (家长申请 → 班级审核 → 学校统一实施): by default the class adviser, then any of
/// the school's admins. Approved, the application's held places become enrolments; rejected or withdrawn, its places
/// go to the next families in line; returned, it keeps its places while the family corrects it.
/// </summary>
internal sealed class CareApprovalKind(CareRepository care, TimeProvider time) : IApprovalKind
{
    public const string Name = "after-school";

    public string Kind => Name;

    public string DisplayName => "课后服务报名";

    public ApprovalChain DefaultChain { get; } = new([
        new ApprovalStep(ApproverSource.ClassAdviser, StepMode.Any),
        new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any),
    ]);

    /// <summary>Applications arrive in waves at signup opening: advisers and admins work from the inbox and the daily digest.</summary>
    public bool MessagesApproversPerRequest => false;

    public static string SubjectOf(long applicationId) => applicationId.ToString(CultureInfo.InvariantCulture);

    public async Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct)
    {
        var id = long.Parse(request.SubjectId, CultureInfo.InvariantCulture);
        var now = time.UtcNowForDatabase();
        _ = request.Status switch
        {
            ApprovalStatus.Approved => await care.SettleAsync(id, [CareApplicationStatus.Pending, CareApplicationStatus.Returned],
                CareApplicationStatus.Approved, now, ct),
            ApprovalStatus.Rejected => await care.SettleAsync(id, [CareApplicationStatus.Pending, CareApplicationStatus.Returned],
                CareApplicationStatus.Rejected, now, ct),
            ApprovalStatus.Withdrawn => await care.SettleAsync(id, [CareApplicationStatus.Pending, CareApplicationStatus.Returned],
                CareApplicationStatus.Withdrawn, now, ct),
            ApprovalStatus.Returned => await care.SettleAsync(id, [CareApplicationStatus.Pending], CareApplicationStatus.Returned, now, ct),
            _ => false,
        };
    }
}
