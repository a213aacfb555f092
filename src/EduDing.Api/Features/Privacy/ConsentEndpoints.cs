using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Privacy;

[RequestSchema("title", "body", "purposes")]
internal sealed record PublishNoticeRequest(string? CorpId, string? Title, string? Body,
    [property: CodeValues(typeof(ConsentPurpose))] List<string>? Purposes, bool? RequiresNewConsent);

/// <summary>
/// One version of a processing notice: the city's (<c>corpId</c> null) or one school's own, which then is in force there
/// instead. With <c>requiresNewConsent</c>, answers given under earlier versions stop counting: every guardian answers again.
/// </summary>
internal sealed record PrivacyNoticeDto(long Id, string? CorpId, int Version, string Title, string Body,
    [property: CodeValues(typeof(ConsentPurpose))] IReadOnlyList<string> Purposes, bool RequiresNewConsent, DateTime PublishedAt)
{
    public static PrivacyNoticeDto From(PrivacyNotice n) => new(n.Id, n.Scope == PrivacyNotice.City ? null : n.Scope, n.Version, n.Title, n.Body,
        n.PurposeList, n.RequiresNewConsent, n.PublishedAt);
}

/// <summary>
/// Where one purpose stands for a child: <c>covered</c> says whether the notice in force covers it (until one does,
/// nothing is asked or hidden); <c>needsAnswer</c>, whether the guardian is asked to answer now.
/// </summary>
internal sealed record PurposeStandingDto([property: CodeValues(typeof(ConsentPurpose))] string Purpose,
    [property: CodeValues(typeof(LegalBasis))] string Basis, bool Covered, [property: CodeValues(typeof(ConsentStanding))] string Standing,
    bool NeedsAnswer);

/// <summary>One recorded answer: by a guardian in the mini-app (<c>guardianUserId</c>), or a paper form an adviser entered.</summary>
internal sealed record ConsentHistoryDto([property: CodeValues(typeof(ConsentPurpose))] string Purpose,
    [property: CodeValues(typeof(ConsentDecision))] string Decision, int NoticeVersion, [property: CodeValues(typeof(ConsentChannel))] string Channel,
    string? GuardianUserId, DateTime At);

/// <summary>One child's privacy page for their guardian: the notice in force, each purpose's standing, and every answer given.</summary>
internal sealed record ChildPrivacyDto(string CorpId, string StudentUserId, PrivacyNoticeDto? Notice, IReadOnlyList<PurposeStandingDto> Purposes,
    IReadOnlyList<ConsentHistoryDto> History);

[RequestSchema("purpose", "decision")]
internal sealed record ConsentAnswer([property: CodeValues(typeof(ConsentPurpose))] string? Purpose,
    [property: CodeValues(typeof(ConsentDecision))] string? Decision);

[RequestSchema("noticeId", "answers")]
internal sealed record ConsentAnswersRequest(long? NoticeId, List<ConsentAnswer>? Answers);

internal sealed record ChildConsentDto(string StudentUserId, string Name, long ClassId, string ClassName,
    [property: CodeValues(typeof(ConsentStanding))] string Standing);

/// <summary>A school's children for one purpose: who gave consent and who has not (yet), with the counts per standing.</summary>
internal sealed record SchoolConsentsDto([property: CodeValues(typeof(ConsentPurpose))] string Purpose,
    [property: CodeValues(typeof(LegalBasis))] string Basis, PrivacyNoticeDto? Notice, IReadOnlyDictionary<string, int> Counts,
    Paged<ChildConsentDto> Children);

/// <summary>
/// Processing notices and guardians' consent (docs/privacy.md): the bureau publishes versioned notices for the city or
/// one school; guardians read the one in force and answer per purpose for each child; the school sees who has not.
/// </summary>
internal static class ConsentEndpoints
{
    public const string PublishAction = "privacy.notice.publish";
    public const string AnswerAction = "privacy.consent";
    public const string ListAction = "privacy.consents.read";
    public const string ReadAction = "privacy.consent.read";

    public static IEndpointRouteBuilder MapConsentEndpoints(this IEndpointRouteBuilder app)
    {
        var bureau = app.MapGroup("/api/privacy/notices").WithTags("Privacy");
        bureau.MapPost("/", PublishAsync).RequireAudience(Audience.Bureau).WithName("PrivacyNotices_Publish");
        bureau.MapGet("/", ListAsync).RequireAudience(Audience.Bureau).WithName("PrivacyNotices_List");

        var mine = app.MapGroup("/api/me/privacy/{corpId}/{studentUserId}").WithTags("Privacy");
        mine.MapGet("/", ChildAsync).RequireAudience(Audience.GuardianOfChild).WithName("MyPrivacy_Child");
        mine.MapPost("/consents", AnswerAsync).RequireAudience(Audience.GuardianOfChild).WithName("MyPrivacy_Answer");

        app.MapGet("/api/corps/{corpId}/consents", SchoolAsync).WithTags("Privacy").RequireAudience(Audience.SchoolStaff)
            .WithName("Consents_ListForSchool");
        return app;
    }

    /// <summary>Publishes the next version of the city's notice, or of one school's (bureau admins). Guardians see it at once.</summary>
    private static async Task<Created<PrivacyNoticeDto>> PublishAsync(PublishNoticeRequest request, Caller caller, AccessPolicy access,
        ConsentRepository repo, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        RequireBureauAdmin(caller);
        var errors = new Dictionary<string, string[]>();
        if (request.CorpId is not null && !access.IsSchool(request.CorpId))
        {
            errors["corpId"] = ["must be a school this deployment serves, or null for the city's notice"];
        }

        if (string.IsNullOrWhiteSpace(request.Title) || request.Title.Trim().Length > 200)
        {
            errors["title"] = ["is required, at most 200 characters"];
        }

        if (string.IsNullOrWhiteSpace(request.Body) || request.Body.Length > 100_000)
        {
            errors["body"] = ["is required (what is collected, why, who sees it, how long it is kept), at most 100,000 characters"];
        }

        if (request.Purposes is not { Count: > 0 } purposes || purposes.Any(p => !ConsentPurpose.All.Contains(p)) || purposes.Distinct().Count() != purposes.Count)
        {
            errors["purposes"] = [$"must list the purposes the notice covers, each once, of {string.Join(", ", ConsentPurpose.All)}"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var scope = request.CorpId ?? PrivacyNotice.City;
        var purposesInOrder = ConsentPurpose.All.Where(request.Purposes!.Contains).ToList();
        long id;
        try
        {
            id = await repo.PublishAsync(scope, request.Title!.Trim(), request.Body!, purposesInOrder, request.RequiresNewConsent ?? false,
                time.UtcNowForDatabase(), caller.Account.CorpId, caller.Account.UserId, ct);
        }
        catch (System.Data.Common.DbException ex) when (repo.IsUniqueViolation(ex))
        {
            throw new ConflictException("Another version of this notice was published at the same moment; read the list and publish again.",
                "同一时间已有另一版本发布，请刷新后重试。", reason: "concurrent_publish");
        }

        var notice = (await repo.FindNoticeAsync(id, ct))!;
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, PublishAction, request.CorpId ?? caller.Account.CorpId, [],
            $"processing notice {scope} v{notice.Version} ({string.Join(", ", notice.PurposeList)}{(notice.RequiresNewConsent ? ", new consent asked" : "")})",
            AuditLog.Allowed, ct);
        return TypedResults.Created($"/api/privacy/notices/{id}", PrivacyNoticeDto.From(notice));
    }

    /// <summary>Every version of the city's notice and every school's (or the city's and one school's: <c>corpId</c>), oldest first (bureau staff).</summary>
    private static async Task<Ok<IReadOnlyList<PrivacyNoticeDto>>> ListAsync(string? corpId, Caller caller, ConsentRepository repo, CancellationToken ct)
    {
        if (!AccessPolicy.IsBureau(caller))
        {
            throw new ForbiddenException("Missing scope: bureau staff.");
        }

        return TypedResults.Ok<IReadOnlyList<PrivacyNoticeDto>>((await repo.NoticesAsync(corpId, ct)).Select(PrivacyNoticeDto.From).ToList());
    }

    /// <summary>One child's privacy page for their guardian: the notice in force, where each purpose stands, and the answers given.</summary>
    private static async Task<Ok<ChildPrivacyDto>> ChildAsync(string corpId, string studentUserId, Caller caller, AccessPolicy access,
        ConsentService consents, ConsentRepository repo, CancellationToken ct)
    {
        await access.RequireGuardianAsync(caller, corpId, studentUserId, ReadAction, "privacy page (own child)", ct);
        return TypedResults.Ok(await ChildViewAsync(corpId, studentUserId, consents, repo, ct));
    }

    /// <summary>
    /// A guardian's answers for one child under the notice in force (<c>noticeId</c>: 409 when a newer version was
    /// published since they read it): give, refuse or withdraw consent per purpose; acknowledge a statutory one.
    /// </summary>
    private static async Task<Ok<ChildPrivacyDto>> AnswerAsync(string corpId, string studentUserId, ConsentAnswersRequest request, Caller caller,
        AccessPolicy access, ConsentService consents, ConsentRepository repo, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var guardianUserId = await access.RequireGuardianAsync(caller, corpId, studentUserId, AnswerAction, "consent answers (own child)", ct);
        var errors = new Dictionary<string, string[]>();
        if (request.NoticeId is null)
        {
            errors["noticeId"] = ["is required: the notice the guardian read"];
        }

        if (request.Answers is not { Count: > 0 and <= 20 } answers)
        {
            errors["answers"] = ["must hold 1 to 20 answers"];
            throw new RequestValidationException(errors);
        }

        for (var i = 0; i < answers.Count; i++)
        {
            if (answers[i]?.Purpose is not { } purpose || !ConsentPurpose.All.Contains(purpose))
            {
                errors[$"answers[{i}].purpose"] = [$"must be one of {string.Join(", ", ConsentPurpose.All)}"];
            }
            else if (answers.Take(i).Any(a => a?.Purpose == purpose))
            {
                errors[$"answers[{i}].purpose"] = ["is answered twice"];
            }
            else if (answers[i].Decision is not { } decision || !DecisionsFor(consents.BasisOf(purpose)).Contains(decision))
            {
                errors[$"answers[{i}].decision"] = [$"must be one of {string.Join(", ", DecisionsFor(consents.BasisOf(purpose)))} for {purpose}"];
            }
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var notice = await consents.NoticeInForceAsync(corpId, ct);
        if (notice is null || notice.Id != request.NoticeId)
        {
            throw new ConflictException("The processing notice has changed since it was read: read the one in force and answer again.",
                "个人信息处理规则已更新，请阅读最新版本后再作答。", reason: "notice_changed");
        }

        var uncovered = answers.Select((a, i) => (a, i)).Where(x => !notice.PurposeList.Contains(x.a.Purpose!)).ToList();
        if (uncovered.Count > 0)
        {
            throw new RequestValidationException(uncovered.ToDictionary(x => $"answers[{x.i}].purpose",
                _ => new[] { "is not covered by the notice in force" }));
        }

        var withdrawals = answers.Select((a, i) => (a, i)).Where(x => x.a.Decision == ConsentDecision.Withdraw).ToList();
        var current = withdrawals.Count == 0 ? null : (await consents.ChildAsync(corpId, studentUserId, ct)).ByPurpose;
        foreach (var (answer, index) in withdrawals)
        {
            if (current![answer.Purpose!] != ConsentStanding.Given)
            {
                throw new ConflictException($"answers[{index}]: there is no consent to withdraw for {answer.Purpose}.",
                    "该用途目前没有可撤回的同意。", reason: "nothing_to_withdraw");
            }
        }

        await repo.RecordAsync(corpId, studentUserId, answers.Select(a => (a.Purpose!, a.Decision!)).ToList(), notice,
            ConsentChannel.MiniApp, guardianUserId, (corpId, guardianUserId), time.UtcNowForDatabase(), ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, AnswerAction, corpId, [studentUserId],
            $"under notice {notice.Scope} v{notice.Version}: {string.Join(", ", answers.Select(a => $"{a.Purpose} {a.Decision}"))}", AuditLog.Allowed, ct);
        return TypedResults.Ok(await ChildViewAsync(corpId, studentUserId, consents, repo, ct));
    }

    /// <summary>
    /// A school's children for one purpose with their standing (<c>standing</c> filters, e.g. <c>missing</c>): the
    /// school's admins for the whole school, a teacher for the classes they teach (or one of them: <c>classId</c>). Audited.
    /// </summary>
    private static async Task<Ok<SchoolConsentsDto>> SchoolAsync(string corpId, string? purpose, long? classId, string? standing, int? page,
        int? pageSize, Caller caller, AccessPolicy access, OrgDirectory directory, ConsentService consents, AuditLog audit, CancellationToken ct)
    {
        // Scope before content: who may not see the list learns nothing from its validation either.
        access.School(corpId);
        IReadOnlySet<long>? classes = null;
        if (classId is { } id)
        {
            await access.RequireClassReadAsync(caller, corpId, id, [], ListAction, $"consent standings of class {id} for {purpose}", ct);
            classes = new HashSet<long> { id };
        }
        else if (!caller.Has(Roles.SchoolAdmin, corpId))
        {
            // A teacher sees the classes they teach; the whole school is for its admins.
            classes = (await access.ClassesTaughtInAsync(caller, corpId, ct)).Select(c => c.ClassId).ToHashSet();
            if (classes.Count == 0)
            {
                throw new ForbiddenException("Missing scope: admin of this school, or a teacher of one of its classes.");
            }

            await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, ListAction, corpId, [],
                $"consent standings of the classes taught ({string.Join(", ", classes)}) for {purpose}", AuditLog.Allowed, ct);
        }

        var paging = PageRequest.From(page, pageSize);
        var errors = new Dictionary<string, string[]>();
        if (purpose is null || !ConsentPurpose.All.Contains(purpose))
        {
            errors["purpose"] = [$"is required, one of {string.Join(", ", ConsentPurpose.All)}"];
        }

        if (standing is not null && !ConsentStanding.All.Contains(standing))
        {
            errors["standing"] = [$"must be one of {string.Join(", ", ConsentStanding.All)}"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var students = (await directory.StudentsOfSchoolAsync(corpId, ct)).Where(s => classes is null || classes.Contains(s.ClassId)).ToList();
        var standings = await consents.StandingsAsync(corpId, purpose!, students.Select(s => s.UserId).ToList(), ct);
        var classNames = await directory.ClassNamesAsync(students.Select(s => (corpId, s.ClassId)).Distinct().ToList(), ct);
        var rows = students.Where(s => standing is null || standings[s.UserId] == standing)
            .OrderBy(s => s.ClassId).ThenBy(s => s.UserId, StringComparer.Ordinal).ToList();
        var items = rows.Skip((int)Math.Min(paging.Skip, int.MaxValue)).Take(paging.PageSize)
            .Select(s => new ChildConsentDto(s.UserId, s.Name, s.ClassId, classNames.GetValueOrDefault((corpId, s.ClassId)) ?? "", standings[s.UserId]))
            .ToList();
        var counts = standings.Values.GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());
        var notice = await consents.NoticeInForceAsync(corpId, ct);
        return TypedResults.Ok(new SchoolConsentsDto(purpose!, consents.BasisOf(purpose!), notice is null ? null : PrivacyNoticeDto.From(notice), counts,
            new Paged<ChildConsentDto>(items, paging.Page, paging.PageSize, rows.Count)));
    }

    private static async Task<ChildPrivacyDto> ChildViewAsync(string corpId, string studentUserId, ConsentService consents, ConsentRepository repo,
        CancellationToken ct)
    {
        var (notice, standings) = await consents.ChildAsync(corpId, studentUserId, ct);
        var purposes = standings.Select(s => new PurposeStandingDto(s.Key, consents.BasisOf(s.Key), s.Value != ConsentStanding.NoNotice, s.Value,
            s.Value is ConsentStanding.Missing or ConsentStanding.Unacknowledged)).ToList();

        var history = (await repo.HistoryAsync(corpId, studentUserId, ct))
            .Select(r => new ConsentHistoryDto(r.Purpose, r.Decision, r.NoticeVersion, r.Channel, r.GuardianUserId, r.At)).ToList();
        return new ChildPrivacyDto(corpId, studentUserId, notice is null ? null : PrivacyNoticeDto.From(notice), purposes, history);
    }

    private static IReadOnlyList<string> DecisionsFor(string basis) => basis == LegalBasis.StatutoryDuty
        ? [ConsentDecision.Acknowledge]
        : [ConsentDecision.Give, ConsentDecision.Refuse, ConsentDecision.Withdraw];

    private static void RequireBureauAdmin(Caller caller)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            throw new ForbiddenException("Missing scope: admin of the bureau (the bureau writes the processing notices).",
                "只有教育局管理员可以发布个人信息处理规则。");
        }
    }
}
