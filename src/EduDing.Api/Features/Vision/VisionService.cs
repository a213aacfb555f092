using System.Security.Cryptography;
using System.Text.Json;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Notices;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Vision;

[RequestSchema("kind", "schoolYear", "opensOn", "closesOn")]
internal sealed record CreateRound([property: CodeValues(typeof(RoundKind))] string? Kind, int? SchoolYear, string? Name, string? CorpId, DateOnly? OpensOn, DateOnly? ClosesOn,
    long? RescreenOf);

internal sealed record ImportReport(long? ImportId, int TotalRows, int GoodRows, IReadOnlyList<ImportProblem> Problems, string OnErrors,
    bool Imported, int Created, int Updated, int Unchanged);

/// <summary>The 明眸 workflows: rounds, entry (one, a class, an xlsx), classification, publishing to parents, referrals.</summary>
internal sealed class VisionService(VisionRepository vision, OrgDirectory directory, VisionAccess access, SystemNotices notices, AuditLog audit,
    IOptions<VisionOptions> options, TimeProvider time)
{
    public const string ResultsPage = "pages/vision/results";

    private VisionClassifier Classifier => new(options.Value);

    private DateOnly Today => ShanghaiTime.Today(time);

    public async Task<VisionRound> CreateRoundAsync(Caller caller, CreateRound request, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Kind is null || !RoundKind.All.Contains(request.Kind))
        {
            errors["kind"] = [$"must be one of {string.Join(", ", RoundKind.All)}"];
        }

        if (request.SchoolYear is not (>= 2020 and <= 2100))
        {
            errors["schoolYear"] = ["is the year the school year starts, e.g. 2026 for 2026–2027"];
        }

        if (request.OpensOn is null || request.ClosesOn is null || request.ClosesOn < request.OpensOn ||
            request.ClosesOn.Value.DayNumber - request.OpensOn.Value.DayNumber > 120)
        {
            errors["closesOn"] = ["opensOn and closesOn are required, closesOn on or after opensOn, at most 120 days apart"];
        }

        if (request.Name is { Length: > 100 })
        {
            errors["name"] = ["at most 100 characters"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        IReadOnlyList<string> schools;
        string creatorCorp;
        if (request.CorpId is null)
        {
            if (!VisionAccess.IsBureauAdmin(caller))
            {
                throw new ForbiddenException("Missing scope: a city-wide round is opened by a bureau admin (schools give their corpId).");
            }

            schools = await directory.SchoolCorpIdsAsync(ct);
            creatorCorp = caller.CorpsWith(Roles.BureauAdmin)[0];
        }
        else
        {
            access.School(request.CorpId);
            VisionAccess.RequireSchoolAdmin(caller, request.CorpId);
            if (request.Kind is not (RoundKind.AdHoc or RoundKind.Rescreen))
            {
                // 两假双测 rounds are the bureau's, city-wide; a school adds its own ad-hoc and rescreen rounds.
                throw new ForbiddenException($"Missing scope: {request.Kind} rounds are opened city-wide by the bureau; a school opens ad-hoc or rescreen rounds.");
            }

            schools = [request.CorpId];
            creatorCorp = request.CorpId;
        }

        if (request.RescreenOf is { } of)
        {
            if (await vision.FindRoundAsync(of, ct) is null ||
                (request.CorpId is not null && !await vision.RoundCoversAsync(of, request.CorpId, ct)))
            {
                throw new RequestValidationException("rescreenOf", $"round {of} is not a round of this school");
            }
        }
        else if (request.Kind == RoundKind.Rescreen)
        {
            throw new RequestValidationException("rescreenOf", "is required for a rescreen round: the round being rescreened");
        }

        var kind = request.Kind!;
        var name = string.IsNullOrWhiteSpace(request.Name) ? RoundKind.DefaultName(kind, request.SchoolYear!.Value) : request.Name.Trim();
        var id = await vision.CreateRoundAsync(kind, request.SchoolYear!.Value, name, request.CorpId, request.OpensOn!.Value, request.ClosesOn!.Value,
            request.RescreenOf, creatorCorp, caller.UserIdIn(creatorCorp), schools, await directory.ClassesAsync(schools, new ClassFilter(), ct),
            time.UtcNowForDatabase(), ct);
        return (await vision.FindRoundAsync(id, ct))!;
    }

    public async Task<VisionRound> RoundForSchoolAsync(long roundId, string corpId, CancellationToken ct)
    {
        access.School(corpId);
        var round = await vision.FindRoundAsync(roundId, ct) ?? throw new NotFoundException($"No screening round {roundId}.");
        return await vision.RoundCoversAsync(roundId, corpId, ct) ? round : throw new NotFoundException($"Round {roundId} does not cover corp {corpId}.");
    }

    /// <summary>Validates, classifies and stores entered records (one student or a class); 400 naming each bad field.</summary>
    public async Task<SaveOutcome> EnterAsync(Caller caller, long roundId, string corpId, IReadOnlyList<VisionRecordInput?> inputs, string source,
        CancellationToken ct)
    {
        var round = await RoundForSchoolAsync(roundId, corpId, ct);

        // Scope before content: who may not enter records here learns nothing from the answer (not even whether a
        // userid is a student of this school).
        await access.RequireSchoolWriterAsync(caller, corpId, ct);
        var roster = (await RosterAsync(corpId, ct)).ToDictionary(s => s.UserId);
        var errors = new Dictionary<string, string[]>();
        var rows = new List<ClassifiedInput>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < inputs.Count; i++)
        {
            var prefix = inputs.Count == 1 && source == VisionRecordSource.Single ? "" : $"records[{i}].";
            if (inputs[i] is not { } input)
            {
                errors[$"{prefix.TrimEnd('.')}"] = ["must be an object"];
                continue;
            }

            if (!roster.TryGetValue(input.StudentUserId ?? "", out var student))
            {
                errors[$"{prefix}studentUserId"] = ["is not a current student of this school"];
                continue;
            }

            if (!seen.Add(student.UserId))
            {
                errors[$"{prefix}studentUserId"] = ["appears more than once in this request; send one record per student"];
                continue;
            }

            foreach (var (field, reason) in input.Problems(round, Today))
            {
                errors[prefix + field] = [reason];
            }

            rows.Add(new ClassifiedInput(input, student.ClassId, Classify(input)));
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        foreach (var classId in rows.Select(r => r.ClassId).Distinct())
        {
            await access.RequireClassWriteAsync(caller, corpId, classId, ct);
        }

        var outcome = await vision.SaveRecordsAsync(roundId, corpId, rows, source, caller.Account.CorpId, caller.Account.UserId,
            time.UtcNowForDatabase(), ct);
        await access.AuditWriteAsync(caller, corpId, rows.Select(r => r.Input.StudentUserId),
            $"round {roundId} {source}: {outcome.Created} new, {outcome.Updated} corrected, {outcome.Unchanged} unchanged", ct);
        await TellOfCorrectionsAfterPublicationAsync(caller, round, corpId, outcome, ct);
        return outcome;
    }

    /// <summary>
    /// Records corrected after the school published the round are audited as such, and their guardians are told that
    /// the result changed (no health data in the push); the parent's view lists what changed (docs/vision.md).
    /// </summary>
    private async Task TellOfCorrectionsAfterPublicationAsync(Caller caller, VisionRound round, string corpId, SaveOutcome outcome,
        CancellationToken ct)
    {
        if (outcome.Corrected.Count == 0 || await vision.PublishedAtAsync(round.Id, corpId, ct) is null)
        {
            return;
        }

        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "vision.record.correct-after-publication", corpId, outcome.Corrected,
            $"round {round.Id}: {outcome.Corrected.Count} record(s) corrected after the results were published", AuditLog.Allowed, ct);
        var guardians = await directory.GuardiansOfStudentsAsync(corpId, outcome.Corrected, ct);
        if (guardians.Count == 0)
        {
            return;
        }

        await notices.SendAsync(new SystemNotice("vision-result-corrected", corpId, access.School(corpId).Name, $"{round.Name}结果已更正",
            "学校更正了您孩子本次视力筛查的结果，请在小程序中查看更正后的结果和更正内容。筛查结果不等于诊断。", ResultsPage,
            guardians.Select(g => new NoticeRecipient(corpId, g.UserId, g.UnionId, g.Name, "guardians", g.ClassId,
                $"guardian of a child whose result in round {round.Id} was corrected")).ToList()), ct);
    }

    public StudentClassification Classify(VisionRecordInput input) =>
        Classifier.Classify(input.AgeYears, input.Glasses, new EyeMeasurement(input.UcvaRight, input.SphereRight, input.CylinderRight),
            new EyeMeasurement(input.UcvaLeft, input.SphereLeft, input.CylinderLeft), input.CvaRight is not null && input.CvaLeft is not null,
            !string.IsNullOrWhiteSpace(input.NotTestableReason));

    /// <summary>Importing into a round of a school: the round must cover it, and the caller must be its admin.</summary>
    public async Task RequireImportScopeAsync(Caller caller, long roundId, string corpId, CancellationToken ct)
    {
        await RoundForSchoolAsync(roundId, corpId, ct);
        VisionAccess.RequireSchoolAdmin(caller, corpId);
    }

    /// <summary>
    /// An xlsx of one school: every bad row reported by row and column; with onErrors=reject nothing is stored while any
    /// row is bad, with import-valid the good rows are. Rows equal to what is stored change nothing, so a re-import is a no-op.
    /// </summary>
    public async Task<ImportReport> ImportAsync(Caller caller, long roundId, string corpId, string fileName, byte[] file, string onErrors,
        CancellationToken ct)
    {
        if (onErrors is not (VisionImportMode.Reject or VisionImportMode.ImportValid))
        {
            throw new RequestValidationException("onErrors", "must be reject (store nothing while any row is bad) or import-valid");
        }

        var round = await RoundForSchoolAsync(roundId, corpId, ct);
        VisionAccess.RequireSchoolAdmin(caller, corpId);
        var parsed = VisionImport.Parse(new MemoryStream(file), round, await RosterAsync(corpId, ct), Today);
        var fileProblem = parsed.Problems.Any(p => p.Column == "file");
        var store = !fileProblem && (parsed.Problems.Count == 0 || onErrors == VisionImportMode.ImportValid) && parsed.Rows.Count > 0;
        var outcome = new SaveOutcome(0, 0, 0);
        var sha = Convert.ToHexString(SHA256.HashData(file)).ToLowerInvariant();
        if (store)
        {
            outcome = await vision.SaveRecordsAsync(roundId, corpId,
                parsed.Rows.Select(r => new ClassifiedInput(r.Input, r.ClassId, Classify(r.Input))).ToList(), VisionRecordSource.ForImport(sha),
                caller.Account.CorpId, caller.Account.UserId, time.UtcNowForDatabase(), ct);
            await access.AuditWriteAsync(caller, corpId, [],
                $"round {roundId} import {fileName} ({sha[..12]}): {outcome.Created} new, {outcome.Updated} corrected, {outcome.Unchanged} unchanged", ct);
            await TellOfCorrectionsAfterPublicationAsync(caller, round, corpId, outcome, ct);
        }

        var id = await vision.RecordImportAsync(roundId, corpId, sha, fileName.Length > 200 ? fileName[..200] : fileName,
            store ? onErrors : "rejected", parsed.TotalRows, parsed.Problems.Select(p => p.Row).Distinct().Count(), outcome,
            JsonSerializer.Serialize(parsed.Problems.Take(1000), JsonSerializerOptions.Web), caller.Account.UserId, time.UtcNowForDatabase(), ct);
        return new ImportReport(id, parsed.TotalRows, parsed.Rows.Count, parsed.Problems, onErrors, store, outcome.Created, outcome.Updated,
            outcome.Unchanged);
    }

    /// <summary>The school releases the round's results: each guardian of a screened child is told, through the notice pipeline.</summary>
    public async Task<int> PublishAsync(Caller caller, long roundId, string corpId, CancellationToken ct)
    {
        var round = await RoundForSchoolAsync(roundId, corpId, ct);
        VisionAccess.RequireSchoolAdmin(caller, corpId);
        if (!await vision.PublishAsync(roundId, corpId, caller.UserIdIn(corpId), time.UtcNowForDatabase(), ct))
        {
            throw new ConflictException($"Round {roundId} is already published for this school.", "本校该轮筛查结果已发布。", reason: "already_published");
        }

        var guardians = await directory.GuardiansOfStudentsAsync(corpId, await vision.ScreenedStudentsAsync(roundId, corpId, ct), ct);
        if (guardians.Count == 0)
        {
            return 0;
        }

        // One message for the school, not one per child: the monthly call quota, and no health data in the push itself.
        await notices.SendAsync(new SystemNotice("vision-result", corpId, access.School(corpId).Name, $"{round.Name}结果已发布",
            "您孩子本次视力筛查的结果已发布，请在小程序中查看结果、建议及转诊回执。筛查结果不等于诊断。", ResultsPage,
            guardians.Select(g => new NoticeRecipient(corpId, g.UserId, g.UnionId, g.Name, "guardians", g.ClassId, $"guardian of a child screened in round {roundId}"))
                .ToList()), ct);
        return guardians.Count;
    }

    /// <summary>
    /// Reminds the guardians of children whose referral is not completed (acknowledged, then a visit reported): only
    /// referrals of rounds published to this school's parents, each at most once a Beijing day however often or
    /// concurrently this is called (the referral is claimed in the database before anyone is notified).
    /// </summary>
    public async Task<int> RemindReferralsAsync(Caller caller, string corpId, long? classId, long? roundId, CancellationToken ct)
    {
        access.School(corpId);
        if (classId is { } c)
        {
            await access.RequireClassAdviserAsync(caller, corpId, c, ct);
        }
        else
        {
            VisionAccess.RequireSchoolAdmin(caller, corpId);
        }

        var outstanding = (await vision.ReferralsAsync(corpId, classId, roundId, null, ct, publishedOnly: true))
            .Where(r => r.Status != ReferralStatus.Visited).ToList();
        var now = time.UtcNowForDatabase();
        var claimed = await vision.ClaimReminderAsync(outstanding.Select(r => r.Id).ToList(), now, ShanghaiTime.StartOfDayUtc(now), ct);
        if (claimed.Count == 0)
        {
            return 0;
        }

        var students = outstanding.Where(r => claimed.Contains(r.Id)).Select(r => r.StudentUserId).ToList();
        var recipients = (await directory.GuardiansOfStudentsAsync(corpId, students, ct))
            .Select(g => new NoticeRecipient(corpId, g.UserId, g.UnionId, g.Name, "guardians", g.ClassId, "guardian of a child with an open vision referral"))
            .ToList();
        await notices.SendAsync(new SystemNotice("vision-referral-reminder", corpId, access.School(corpId).Name, "视力筛查转诊提醒",
            "您孩子的视力筛查转诊建议尚未完成。请尽快到医疗机构眼科检查，并在小程序中回执、填写就诊结果。", ResultsPage,
            recipients), ct);
        return recipients.Count;
    }

    /// <summary>The school's current students, each with one class of theirs.</summary>
    private async Task<IReadOnlyList<RosterStudent>> RosterAsync(string corpId, CancellationToken ct) =>
        (await directory.StudentsOfSchoolAsync(corpId, ct)).Select(s => new RosterStudent(s.UserId, s.Name, s.StudentNumber, s.ClassId)).ToList();
}
