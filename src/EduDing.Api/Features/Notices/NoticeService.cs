using System.ComponentModel;
using System.Text.Json;
using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Notices;

[RequestSchema("corpId", "title", "body", "audience")]
internal sealed record ComposeNotice(string? CorpId, string? Title, string? Body, IReadOnlyList<NoticeLink>? Links,
    IReadOnlyList<AudienceSelector>? Audience, DateTime? SendAt);

/// <summary>
/// What people do with notices (compose, review, remind, recall) and the one entry point other features use to
/// notify people (<see cref="SystemNotices"/>). Who may do what is decided here, from the caller's roles.
/// </summary>
internal sealed class NoticeService(NoticeRepository notices, NoticeOutbox outbox, AudienceResolver resolver, OrgDirectory directory, CorpDirectory corps,
    ApprovalService approvals, ApprovalRepository approvalRequests, IOptions<NoticeOptions> options,
    TimeProvider time)
{
    [Description("通知公告")]
    public const string AnnouncementKind = "announcement";
    [Description("系统消息")]
    public const string SystemKind = "system";

    private static readonly TimeSpan RecallWindow = TimeSpan.FromHours(24);

    /// <summary>Ids (or levels, or roles) in one audience selector; a school has at most a few hundred classes.</summary>
    public const int MaxIdsPerSelector = 500;

    private NoticeOptions Settings => options.Value;


    public async Task<Notice> ComposeAsync(Caller caller, ComposeNotice request, CancellationToken ct)
    {
        var now = time.UtcNowForDatabase();
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string reason) => errors[field] = [reason];

        if (string.IsNullOrWhiteSpace(request.CorpId))
        {
            Error("corpId", "is required: the school or bureau you send as");
        }

        if (string.IsNullOrWhiteSpace(request.Title) || request.Title.Length > 100)
        {
            Error("title", "is required, at most 100 characters");
        }

        if (string.IsNullOrWhiteSpace(request.Body) || request.Body.Length > 5000)
        {
            Error("body", "is required (markdown), at most 5000 characters");
        }

        var links = request.Links ?? [];
        if (links.Count > 5)
        {
            Error("links", "at most 5 links");
        }

        for (var i = 0; i < links.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(links[i]?.Title) || links[i].Title.Length > 50)
            {
                Error($"links[{i}].title", "is required, at most 50 characters");
            }

            if (!Uri.TryCreate(links[i]?.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "dingtalk"))
            {
                Error($"links[{i}].url", "must be an absolute https:// or dingtalk:// URL");
            }
        }

        if (request.SendAt is { } sendAt && (sendAt < now.AddMinutes(-1) || sendAt > now + Settings.MaxScheduleAhead))
        {
            Error("sendAt", $"must be from now to {Settings.MaxScheduleAhead.TotalDays:0} days ahead (omit it to send now)");
        }

        var audience = request.Audience ?? [];
        if (audience.Count is 0 or > 20)
        {
            Error("audience", "must have 1 to 20 selectors");
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var corpId = request.CorpId!;
        var kind = corps.Find(corpId)?.Kind ?? throw new RequestValidationException("corpId", "is not a corp this deployment serves");
        var asBureauAdmin = kind == CorpKind.Bureau && caller.Has(Roles.BureauAdmin, corpId);
        var asSchoolAdmin = kind == CorpKind.School && caller.Has(Roles.SchoolAdmin, corpId);
        var asTeacher = kind == CorpKind.School && !asSchoolAdmin && caller.Has(Roles.Teacher, corpId);
        if (!asBureauAdmin && !asSchoolAdmin && !asTeacher)
        {
            throw new ForbiddenException("Missing scope: bureau admin, school admin, or a teacher of this school sends notices as it.");
        }

        var taught = asTeacher
            ? (await directory.ClassesTaughtAsync(caller.Identities, ct)).Where(c => c.CorpId == corpId).Select(c => c.ClassId).ToHashSet()
            : [];
        var normalized = new List<AudienceSelector>();
        for (var i = 0; i < audience.Count; i++)
        {
            normalized.Add(await ValidateSelectorAsync(audience[i], $"audience[{i}]", corpId, asBureauAdmin, asTeacher, taught, errors, ct));
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        if (!await resolver.ReachesAnyoneAsync(normalized, ct))
        {
            throw new RuleViolationException("The audience reaches nobody in the synced organizations.", "所选范围内没有可接收通知的人，请调整发送对象。", reason: "audience_empty");
        }

        var needsApproval = asTeacher && (await notices.TeacherNoticesNeedApprovalAsync(corpId, ct) ?? Settings.TeacherNoticesNeedApproval);
        var senderName = $"{corps.Get(corpId).Name} · {caller.Account.Name}";
        var body = NoticeMarkdown.Sanitize(request.Body!);
        var id = await notices.CreateAsync(AnnouncementKind, "notice", corpId, caller.UserIdIn(corpId), senderName, request.Title!.Trim(),
            body, JsonSerializer.Serialize(links, JsonSerializerOptions.Web), JsonSerializer.Serialize(normalized, JsonSerializerOptions.Web), null,
            needsApproval ? NoticeStatus.AwaitingApproval : NoticeStatus.Scheduled, request.SendAt is { } at && at > now ? Trim(at) : now, now,
            ct);
        if (needsApproval)
        {
            // The school's chain for teachers' notices decides (docs/approvals.md); the class lets a chain ask its adviser.
            await approvals.SubmitAsync(new ApprovalSubmission(NoticeApprovalKind.Name, corpId, NoticeApprovalKind.SubjectOf(id),
                    request.Title!.Trim(), body.Length > 500 ? body[..500] : body, normalized.SelectMany(s => s.ClassIds ?? []).FirstOrDefault() is var c and > 0 ? c : null),
                (corpId, caller.UserIdIn(corpId)), ct);
        }

        return (await notices.FindAsync(id, ct))!;
    }

    private async Task<AudienceSelector> ValidateSelectorAsync(AudienceSelector? selector, string field, string senderCorpId,
        bool asBureauAdmin, bool asTeacher, IReadOnlySet<long> taught, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        if (selector is null)
        {
            errors[field] = ["must be an object"];
            return new AudienceSelector(null, [], null, null, null, null);
        }

        var corpId = selector.CorpId;
        if (!asBureauAdmin)
        {
            // Schools and teachers address their own school only.
            if (corpId is not null && corpId != senderCorpId)
            {
                errors[$"{field}.corpId"] = ["must be your own school"];
            }

            corpId = senderCorpId;
        }
        else if (corpId is not null && corps.Find(corpId) is null)
        {
            errors[$"{field}.corpId"] = ["is not a corp this deployment serves"];
        }

        // Bounded before anything reaches the database: an id list is a handful of a school's classes, never thousands.
        var tooMany = false;
        foreach (var (name, count) in new[]
                 {
                     ("classIds", selector.ClassIds?.Count ?? 0), ("gradeIds", selector.GradeIds?.Count ?? 0),
                     ("periodIds", selector.PeriodIds?.Count ?? 0), ("gradeLevels", selector.GradeLevels?.Count ?? 0),
                     ("roles", selector.Roles?.Count ?? 0),
                 })
        {
            if (count > MaxIdsPerSelector)
            {
                errors[$"{field}.{name}"] = [$"at most {MaxIdsPerSelector} values"];
                tooMany = true;
            }
        }

        if (tooMany)
        {
            return selector;
        }

        selector = selector with
        {
            ClassIds = selector.ClassIds?.Distinct().ToList(), GradeIds = selector.GradeIds?.Distinct().ToList(),
            PeriodIds = selector.PeriodIds?.Distinct().ToList(), GradeLevels = selector.GradeLevels?.Distinct().ToList(),
        };
        var roles = selector.Roles ?? [];
        if (roles.Count == 0 || roles.Any(r => !AudienceRole.All.Contains(r)))
        {
            errors[$"{field}.roles"] = [$"must list one or more of {string.Join(", ", AudienceRole.All)}"];
        }

        if (asTeacher)
        {
            if (roles.Any(r => r != AudienceRole.Guardians))
            {
                errors[$"{field}.roles"] = ["a teacher addresses the guardians of the classes they teach"];
            }

            if (selector.ClassIds is not { Count: > 0 } || selector.ClassIds.Any(c => !taught.Contains(c)) ||
                selector.GradeIds is { Count: > 0 } || selector.PeriodIds is { Count: > 0 } || selector.GradeLevels is { Count: > 0 })
            {
                errors[$"{field}.classIds"] = ["a teacher names classes they teach (and nothing wider)"];
            }
        }

        var byNodeId = new (string Name, IReadOnlyList<long>? Ids, string NodeType)[]
        {
            ("classIds", selector.ClassIds, "class"), ("gradeIds", selector.GradeIds, "grade"), ("periodIds", selector.PeriodIds, "period"),
        };
        foreach (var (name, ids, nodeType) in byNodeId.Where(n => n.Ids is { Count: > 0 }))
        {
            if (corpId is null)
            {
                errors[$"{field}.{name}"] = ["node ids belong to one school: give corpId too (or use gradeLevels)"];
                continue;
            }

            var existing = await resolver.ExistingNodesAsync(corpId, nodeType, ids!, ct);
            var missing = ids!.Select((id, index) => (id, index)).FirstOrDefault(x => !existing.Contains(x.id));
            if (ids!.Any(id => !existing.Contains(id)))
            {
                errors[$"{field}.{name}[{missing.index}]"] = [$"{missing.id} is not a current {nodeType} of {corpId}"];
            }
        }

        if (selector.GradeLevels is { } levels && levels.Any(l => l is < 1 or > 12))
        {
            errors[$"{field}.gradeLevels"] = ["grade levels are 1 to 12"];
        }

        return selector with { CorpId = corpId, Roles = roles.Distinct().ToList() };
    }

    /// <summary>
    /// A decision on a teacher's notice by an approver of its request (by default the school's admins), taken through
    /// the approvals platform; the teacher hears of it through the same pipeline.
    /// </summary>
    public async Task<Notice> ReviewAsync(Caller caller, long id, bool approve, string? comment, CancellationToken ct)
    {
        var notice = await FindManagedAsync(caller, id, ct);
        if (!approve && string.IsNullOrWhiteSpace(comment))
        {
            throw new RequestValidationException("comment", "is required to reject a notice (the teacher reads why)");
        }

        var request = await approvalRequests.FindBySubjectAsync(NoticeApprovalKind.Name, NoticeApprovalKind.SubjectOf(id), ct)
                      ?? throw new ConflictException($"Notice {id} is {notice.Status}, not awaiting approval.", "该通知不在待审批状态。", reason: "not_awaiting_approval");
        await approvals.DecideAsync(caller, request.Id, approve ? ApprovalDecision.Approve : ApprovalDecision.Reject, comment, ct);
        return (await notices.FindAsync(id, ct))!;
    }

    public async Task<int> RemindAsync(Caller caller, long id, CancellationToken ct)
    {
        var notice = await FindManagedAsync(caller, id, ct);
        if (notice.Status is not (NoticeStatus.Sending or NoticeStatus.Sent))
        {
            throw new RuleViolationException($"Notice {id} is {notice.Status}; only a sent notice has unread recipients to remind.", "通知发送后才能提醒未读的人。", reason: "not_sent");
        }

        var now = time.UtcNowForDatabase();
        var today = ShanghaiTime.DayOf(now);
        return await outbox.QueueReminderAsync(id, today, (corpId, _) => NoticeMessages.ReminderFor(notice, Settings, NoticeMessages.MiniAppOf(corpId, corps, Settings), today), Settings.BatchSize,
                   now, ct)
               ?? throw new RuleViolationException(
                   "The unread were already reminded today; DingTalk delivers one identical message per person per day, so try tomorrow.", "今天已经提醒过未读的人，钉钉每天只能发送一次相同消息，请明天再试。", reason: "reminded_today");
    }

    public async Task RecallAsync(Caller caller, long id, CancellationToken ct)
    {
        var notice = await FindManagedAsync(caller, id, ct);
        var now = time.UtcNowForDatabase();
        if (notice.ResolvedAt is { } resolved && now - resolved > RecallWindow)
        {
            throw new RuleViolationException("A notice can be recalled within 24 hours of sending (DingTalk's recall window).", "通知发出超过 24 小时，已不能撤回。", reason: "recall_window_passed");
        }

        var userId = caller.UserIdIn(notice.SenderCorpId);
        if (!await outbox.RecallAsync(id, userId, now, now - RecallWindow, ct))
        {
            throw new ConflictException($"Notice {id} is {notice.Status}; there is nothing to recall.", "该通知无需撤回。", reason: "nothing_to_recall");
        }
    }

    /// <summary>
    /// The notice if the caller manages it: its author, or an admin of the corp it is sent from. Otherwise 404, so
    /// that ids do not reveal notices of other schools.
    /// </summary>
    public async Task<Notice> FindManagedAsync(Caller caller, long id, CancellationToken ct)
    {
        var notice = await notices.FindAsync(id, ct);
        if (notice is null || notice.Kind != AnnouncementKind || !Manages(caller, notice))
        {
            throw new NotFoundException($"No notice {id} that you manage.");
        }

        return notice;
    }

    public static bool Manages(Caller caller, Notice notice) =>
        caller.Has(Roles.SchoolAdmin, notice.SenderCorpId) || caller.Has(Roles.BureauAdmin, notice.SenderCorpId) ||
        caller.Identities.Contains((notice.SenderCorpId, notice.SenderUserId ?? ""));

    private static DateTime Trim(DateTime value) => new(value.Ticks - value.Ticks % 10, DateTimeKind.Utc);
}
