using System.Globalization;
using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Notices;

/// <summary>
/// A teacher's notice to families waits for approval when the school wants it (notice settings): approved, it is
/// scheduled; rejected or withdrawn, it is never sent; returned, it keeps waiting for the teacher to resubmit.
/// </summary>
internal sealed class NoticeApprovalKind(NoticeRepository notices, IOptions<NoticeOptions> options, TimeProvider time) : IApprovalKind
{
    public const string Name = "notice";

    public string Kind => Name;

    public string DisplayName => "教师通知";

    public ApprovalChain DefaultChain { get; } = new([new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any)]);

    public static string SubjectOf(long noticeId) => noticeId.ToString(CultureInfo.InvariantCulture);

    public async Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct)
    {
        var to = request.Status switch
        {
            ApprovalStatus.Approved => NoticeStatus.Scheduled,
            ApprovalStatus.Rejected or ApprovalStatus.Withdrawn => NoticeStatus.Rejected,
            _ => null,
        };
        var id = long.Parse(request.SubjectId, CultureInfo.InvariantCulture);
        if (to is null || await notices.FindAsync(id, ct) is not { Status: NoticeStatus.AwaitingApproval } notice)
        {
            return;
        }

        var now = time.UtcNowForDatabase();
        await notices.ReviewAsync(id, NoticeStatus.AwaitingApproval, to, decision?.ActorUserId ?? "system", decision?.Comment,
            notice.SendAt > now ? notice.SendAt : now, now, ct);
    }

    public ApprovalMessage? OutcomeMessage(ApprovalRequest request, ApprovalAction? decision)
    {
        var page = string.Format(CultureInfo.InvariantCulture, options.Value.NoticePage, request.SubjectId);
        return request.Status switch
        {
            ApprovalStatus.Approved => new ApprovalMessage("notice-review", $"通知已批准：{request.Title}", "您的通知已获批准，将按时发送。", page),
            ApprovalStatus.Rejected => new ApprovalMessage("notice-review", $"通知未通过审核：{request.Title}",
                $"您的通知未通过审核。{decision?.Comment}", page),
            _ => null,
        };
    }
}

/// <summary>How approvals reach people: requests waiting, outcomes, and the daily digest, all through <see cref="SystemNotices"/>.</summary>
internal sealed class NoticeApprovalNotifier(SystemNotices notices, OrgDirectory directory, CorpDirectory corps,
    IOptions<ApprovalOptions> options) : IApprovalNotifier
{
    public Task ApproversAsync(ApprovalRequest request, string kindName, IReadOnlyList<Approver> approvers, CancellationToken ct) =>
        notices.SendAsync(new SystemNotice("approval", request.CorpId, CorpName(request.CorpId), $"待您审批：{kindName}", request.Title,
            Page(request.Id), approvers.Select(a => new NoticeRecipient(a.CorpId, a.UserId, a.UnionId, a.Name, "approver", request.ClassId,
                $"approver of {kindName} request {request.Id}")).ToList()), ct);

    public async Task RequesterAsync(ApprovalRequest request, ApprovalMessage message, CancellationToken ct)
    {
        var account = await directory.FindAccountAsync(request.RequesterCorpId, request.RequesterUserId, ct);
        if (account is null)
        {
            return;
        }

        await notices.SendAsync(new SystemNotice(message.Category, request.CorpId, CorpName(request.CorpId), message.Title, message.Body,
            message.Page, [new NoticeRecipient(account.CorpId, account.UserId, account.UnionId, account.Name, "requester", null,
                $"requester of approval request {request.Id}")]), ct);
    }

    public async Task DigestAsync(string corpId, string userId, string name, IReadOnlyList<(long Id, string Title)> waiting, CancellationToken ct)
    {
        var account = await directory.FindAccountAsync(corpId, userId, ct);
        var lines = string.Join("\n", waiting.Take(10).Select(w => $"- {w.Title}"));
        var more = waiting.Count > 10 ? $"\n…以及另外 {waiting.Count - 10} 项" : "";
        await notices.SendAsync(new SystemNotice("approval-reminder", corpId, CorpName(corpId), $"您有 {waiting.Count} 项审批等待处理",
            lines + more, options.Value.InboxPage, [new NoticeRecipient(corpId, userId, account?.UnionId, account?.Name ?? name, "approver", null,
                "approvals waiting for you")]), ct);
    }

    private string CorpName(string corpId) => corps.Find(corpId)?.Name ?? corpId;

    private string Page(long id) => string.Format(CultureInfo.InvariantCulture, options.Value.RequestPage, id);
}
