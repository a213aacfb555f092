using System.Text.Json;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Notices;

internal sealed record NoticeDto(long Id, string CorpId, string SenderName, string Title, string Body, IReadOnlyList<NoticeLink> Links,
    IReadOnlyList<AudienceSelector> Audience, [property: CodeValues(typeof(NoticeStatus))] string Status, DateTime SendAt, DateTime CreatedAt, DateTime? ReviewedAt,
    string? ReviewComment, DateTime? ResolvedAt, DateTime? CompletedAt, int Targeted, DateTime? RecalledAt, int Reminders,
    DateOnly? LastRemindedOn)
{
    public static NoticeDto From(Notice n) => new(n.Id, n.SenderCorpId, n.SenderName, n.Title, NoticeMarkdown.Sanitize(n.Body),
        LinksOf(n),
        JsonSerializer.Deserialize<List<AudienceSelector>>(n.Audience, JsonSerializerOptions.Web) ?? [], n.Status, n.SendAt, n.CreatedAt,
        n.ReviewedAt, n.ReviewComment, n.ResolvedAt, n.CompletedAt, n.Targeted, n.RecalledAt, n.Reminders, n.LastRemindedOn);

    public static IReadOnlyList<NoticeLink> LinksOf(Notice n) => JsonSerializer.Deserialize<List<NoticeLink>>(n.Links, JsonSerializerOptions.Web) ?? [];
}

/// <summary>Counts of recipients: targeted = pending + sent + delivered + failed + cancelled; read + unread = targeted.</summary>
internal sealed record DeliveryCounts(int Targeted, int Pending, int Sent, int Delivered, int Failed, int Cancelled, int Read, int Unread);

internal sealed record SchoolProgress(string CorpId, string Name, DeliveryCounts Counts);

internal sealed record ClassProgress(string CorpId, long ClassId, string ClassName, DeliveryCounts Counts);

internal sealed record NoticeProgressDto(DeliveryCounts Totals, int QueuedBatches, int FailedBatches, IReadOnlyList<SchoolProgress> BySchool,
    IReadOnlyList<ClassProgress> ByClass);

internal sealed record NoticeDetailDto(NoticeDto Notice, NoticeProgressDto Progress);

[RequestSchema()]
internal sealed record ReviewRequest(string? Comment);

internal sealed record ReminderQueuedDto(int Queued);

internal sealed record NoticeSettingsDto(string CorpId, bool TeacherNoticesNeedApproval);

[RequestSchema("teacherNoticesNeedApproval")]
internal sealed record NoticeSettingsRequest(bool? TeacherNoticesNeedApproval);

internal sealed record MyNoticeDto(long Id, string Category, string SenderName, string Title, string Page, DateTime SendAt, DateTime? ReadAt);

internal sealed record MyNoticesPage(IReadOnlyList<MyNoticeDto> Items, int Page, int PageSize, int Total, int Unread);

internal sealed record MyNoticeDetailDto(long Id, string Category, string SenderName, string Title, string Body, IReadOnlyList<NoticeLink> Links,
    string Page, DateTime SendAt, DateTime ReadAt);

/// <remarks>
/// Senders (bureau admins, school admins, teachers) compose and follow their notices here; recipients read theirs
/// under /api/me/notices. Opening a notice there is what counts as reading it: DingTalk's own read report stops at
/// 100 recipients and 24 hours, ours does not.
/// </remarks>
internal static class NoticeEndpoints
{
    private static readonly string[] NoticeStatuses =
        [NoticeStatus.AwaitingApproval, NoticeStatus.Scheduled, NoticeStatus.Sending, NoticeStatus.Sent, NoticeStatus.Rejected, NoticeStatus.Recalled];

    private static readonly string[] RecipientStatuses =
        [RecipientStatus.Pending, RecipientStatus.Sent, RecipientStatus.Delivered, RecipientStatus.Failed, RecipientStatus.Cancelled];

    public static IEndpointRouteBuilder MapNoticeEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/notices").WithTags("Notices").RequireAuthorization();
        group.MapPost("/", ComposeAsync).RequireAudience(Audience.Person).WithName("Notices_Compose");
        group.MapGet("/", ListAsync).RequireAudience(Audience.Person).WithName("Notices_List");
        group.MapGet("/{id:long}", GetAsync).RequireAudience(Audience.Person).WithName("Notices_Get");
        group.MapGet("/{id:long}/recipients", RecipientsAsync).RequireAudience(Audience.Person).WithName("Notices_Recipients");
        group.MapPost("/{id:long}/approve", ApproveAsync).RequireAudience(Audience.Person).WithName("Notices_Approve");
        group.MapPost("/{id:long}/reject", RejectAsync).RequireAudience(Audience.Person).WithName("Notices_Reject");
        group.MapPost("/{id:long}/remind", RemindAsync).RequireAudience(Audience.Person).WithName("Notices_Remind");
        group.MapPost("/{id:long}/recall", RecallAsync).RequireAudience(Audience.Person).WithName("Notices_Recall");

        var mine = app.MapGroup("/api/me/notices").WithTags("My notices").RequireAuthorization();
        mine.MapGet("/", MyListAsync).RequireAudience(Audience.Person).WithName("MyNotices_List");
        mine.MapGet("/{id:long}", MyGetAsync).RequireAudience(Audience.Person).WithName("MyNotices_Get");

        var settings = app.MapGroup("/api/corps/{corpId}/notice-settings").WithTags("Notices").RequireAuthorization();
        settings.MapGet("/", GetSettingsAsync).RequireAudience(Audience.SchoolAdmin).WithName("NoticeSettings_Get");
        settings.MapPut("/", PutSettingsAsync).RequireAudience(Audience.SchoolAdmin).WithName("NoticeSettings_Put");
        return app;
    }

    private static async Task<Created<NoticeDto>> ComposeAsync(ComposeNotice request, Caller caller,
        NoticeService service, CancellationToken ct)
    {
        var notice = await service.ComposeAsync(caller, request, ct);
        return TypedResults.Created($"/api/notices/{notice.Id}", NoticeDto.From(notice));
    }

    private static async Task<Ok<Paged<NoticeDto>>> ListAsync(string? status, int? page, int? pageSize, Caller caller, NoticeRepository notices, CancellationToken ct)
    {
        var paging = PageRequest.From(page, pageSize);
        if (status is not null && !NoticeStatuses.Contains(status))
        {
            throw new RequestValidationException("status", $"must be one of {string.Join(", ", NoticeStatuses)}");
        }
        var adminCorps = caller.CorpsWith(Roles.SchoolAdmin).Concat(caller.CorpsWith(Roles.BureauAdmin)).ToList();
        var (items, total) = await notices.ListManagedAsync(adminCorps, caller.Identities, status, paging.Skip, paging.PageSize, ct);
        return TypedResults.Ok(new Paged<NoticeDto>(items.Select(NoticeDto.From).ToList(), paging.Page, paging.PageSize, total));
    }

    private static async Task<Ok<NoticeDetailDto>> GetAsync(long id, Caller caller, NoticeService service,
        NoticeRepository notices, OrgDirectory directory, CorpDirectory corps, CancellationToken ct)
    {
        var notice = await service.FindManagedAsync(caller, id, ct);
        var rows = await notices.ProgressAsync(id, ct);
        var (queued, failedBatches) = await notices.BatchCountsAsync(id, ct);
        var classNames = await directory.ClassNamesAsync(rows.Where(r => r.ClassId is not null).Select(r => (r.CorpId, r.ClassId!.Value))
            .Distinct().ToList(), ct);
        var progress = new NoticeProgressDto(Count(rows), queued, failedBatches,
            rows.GroupBy(r => r.CorpId).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new SchoolProgress(g.Key, corps.Find(g.Key)?.Name ?? g.Key, Count(g))).ToList(),
            rows.Where(r => r.ClassId is not null).GroupBy(r => (r.CorpId, ClassId: r.ClassId!.Value)).OrderBy(g => g.Key.CorpId, StringComparer.Ordinal)
                .ThenBy(g => g.Key.ClassId)
                .Select(g => new ClassProgress(g.Key.CorpId, g.Key.ClassId, classNames.GetValueOrDefault(g.Key, $"{g.Key.ClassId}"), Count(g)))
                .ToList());
        return TypedResults.Ok(new NoticeDetailDto(NoticeDto.From(notice), progress));
    }

    private static DeliveryCounts Count(IEnumerable<ProgressRow> rows)
    {
        var list = rows.ToList();
        int Of(string status) => list.Where(r => r.Status == status).Sum(r => r.Recipients);
        var read = list.Where(r => r.IsRead).Sum(r => r.Recipients);
        var targeted = list.Sum(r => r.Recipients);
        return new DeliveryCounts(targeted, Of(RecipientStatus.Pending), Of(RecipientStatus.Sent), Of(RecipientStatus.Delivered),
            Of(RecipientStatus.Failed), Of(RecipientStatus.Cancelled), read, targeted - read);
    }

    private static async Task<Ok<Paged<RecipientView>>> RecipientsAsync(long id, string? status, string? corpId, long? classId, bool? read,
        int? page, int? pageSize, Caller caller, NoticeService service, NoticeRepository notices,
        CancellationToken ct)
    {
        var paging = PageRequest.From(page, pageSize);
        if (status is not null && !RecipientStatuses.Contains(status))
        {
            throw new RequestValidationException("status", $"must be one of {string.Join(", ", RecipientStatuses)}");
        }
        await service.FindManagedAsync(caller, id, ct);
        var (items, total) = await notices.RecipientsAsync(id, status, corpId, classId, read, paging.Skip, paging.PageSize, ct);
        return TypedResults.Ok(new Paged<RecipientView>(items, paging.Page, paging.PageSize, total));
    }

    private static Task<Ok<NoticeDto>> ApproveAsync(long id, ReviewRequest? request, Caller caller, NoticeService service,
        CancellationToken ct) => ReviewAsync(id, true, request, caller, service, ct);

    private static Task<Ok<NoticeDto>> RejectAsync(long id, ReviewRequest? request, Caller caller, NoticeService service,
        CancellationToken ct) => ReviewAsync(id, false, request, caller, service, ct);

    private static async Task<Ok<NoticeDto>> ReviewAsync(long id, bool approve, ReviewRequest? request, Caller caller, NoticeService service, CancellationToken ct)
    {
        return TypedResults.Ok(NoticeDto.From(await service.ReviewAsync(caller, id, approve, request?.Comment, ct)));
    }

    private static async Task<Accepted<ReminderQueuedDto>> RemindAsync(long id, Caller caller,
        NoticeService service, CancellationToken ct)
    {
        return TypedResults.Accepted($"/api/notices/{id}", new ReminderQueuedDto(await service.RemindAsync(caller, id, ct)));
    }

    private static async Task<NoContent> RecallAsync(long id, Caller caller, NoticeService service,
        CancellationToken ct)
    {
        await service.RecallAsync(caller, id, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<MyNoticesPage>> MyListAsync(int? page, int? pageSize, Caller caller,
        NoticeRepository notices, IOptions<NoticeOptions> options, CancellationToken ct)
    {
        var paging = PageRequest.From(page, pageSize);
        var (items, total, unread) = await notices.ForPersonAsync(caller.Identities, paging.Skip, paging.PageSize, ct);
        return TypedResults.Ok(new MyNoticesPage(items.Select(n => new MyNoticeDto(n.Id, n.Category, n.SenderName, n.Title,
            n.LinkPage ?? string.Format(System.Globalization.CultureInfo.InvariantCulture, options.Value.NoticePage, n.Id), n.SendAt,
            n.ReadAt)).ToList(), paging.Page, paging.PageSize, total, unread));
    }

    private static async Task<Ok<MyNoticeDetailDto>> MyGetAsync(long id, Caller caller,
        NoticeRepository notices, IOptions<NoticeOptions> options, TimeProvider time, CancellationToken ct)
    {
        var now = time.UtcNowForDatabase();
        if (await notices.MarkReadAsync(id, caller.Identities, now, ct) is not { } readAt || await notices.FindAsync(id, ct) is not { } notice)
        {
            throw new NotFoundException($"No notice {id} addressed to you.");
        }

        return TypedResults.Ok(new MyNoticeDetailDto(notice.Id, notice.Category, notice.SenderName, notice.Title, NoticeMarkdown.Sanitize(notice.Body),
            NoticeDto.LinksOf(notice),
            NoticeMessages.PageOf(notice, options.Value), notice.SendAt, readAt));
    }

    private static async Task<Ok<NoticeSettingsDto>> GetSettingsAsync(string corpId, Caller caller, AccessPolicy access,
        NoticeRepository notices, IOptions<NoticeOptions> options, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school decides how its teachers' notices are reviewed");
        return TypedResults.Ok(new NoticeSettingsDto(corpId,
            await notices.TeacherNoticesNeedApprovalAsync(corpId, ct) ?? options.Value.TeacherNoticesNeedApproval));
    }

    private static async Task<Ok<NoticeSettingsDto>> PutSettingsAsync(string corpId, NoticeSettingsRequest request, Caller caller, AccessPolicy access, NoticeRepository notices, TimeProvider time, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school decides how its teachers' notices are reviewed");
        if (request.TeacherNoticesNeedApproval is not { } value)
        {
            throw new RequestValidationException("teacherNoticesNeedApproval", "is required (true or false)");
        }

        await notices.SetTeacherNoticesNeedApprovalAsync(corpId, value, caller.UserIdIn(corpId),
            time.UtcNowForDatabase(), ct);
        return TypedResults.Ok(new NoticeSettingsDto(corpId, value));
    }
}
