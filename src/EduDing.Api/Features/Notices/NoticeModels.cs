using System.ComponentModel;
using EduDing.Api.Hosting;
namespace EduDing.Api.Features.Notices;

/// <summary>Notice lifecycle: awaiting-approval → scheduled → sending → sent; or rejected; recalled at any point.</summary>
internal static class NoticeStatus
{
    [Description("待审批")]
    public const string AwaitingApproval = "awaiting-approval";
    [Description("待发送")]
    public const string Scheduled = "scheduled";
    [Description("发送中")]
    public const string Sending = "sending";
    [Description("已发送")]
    public const string Sent = "sent";
    [Description("未通过审批")]
    public const string Rejected = "rejected";
    [Description("已撤回")]
    public const string Recalled = "recalled";
}

internal static class RecipientStatus
{
    [Description("待发送")]
    public const string Pending = "pending";
    [Description("已发送")]
    public const string Sent = "sent";
    [Description("已送达")]
    public const string Delivered = "delivered";
    [Description("发送失败")]
    public const string Failed = "failed";
    [Description("已取消")]
    public const string Cancelled = "cancelled";
}

internal static class BatchStatus
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Sent = "sent";
    public const string Checking = "checking";
    public const string Done = "done";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

internal static class BatchPurpose
{
    public const string Notice = "notice";
    public const string Reminder = "reminder";
}

/// <summary>Who an announcement may be addressed to, in the words of the API.</summary>
internal static class AudienceRole
{
    [Description("教职工")]
    public const string Staff = "staff";
    [Description("任课教师")]
    public const string Teachers = "teachers";
    [Description("班主任")]
    public const string Advisers = "advisers";
    [Description("家长")]
    public const string Guardians = "guardians";

    public static readonly string[] All = [Staff, Teachers, Advisers, Guardians];
}

/// <summary>
/// One part of an audience: the roles in one school (or, with no corpId, in every school), narrowed to classes by
/// any of class ids, grade ids, period ids or grade levels (a class matching any of them). No narrowing: every class.
/// </summary>
[RequestSchema("roles")]
internal sealed record AudienceSelector(string? CorpId, [property: CodeValues(typeof(AudienceRole))] IReadOnlyList<string>? Roles, IReadOnlyList<long>? PeriodIds,
    IReadOnlyList<long>? GradeIds, IReadOnlyList<long>? ClassIds, IReadOnlyList<int>? GradeLevels)
{
    public bool NarrowsClasses => PeriodIds is { Count: > 0 } || GradeIds is { Count: > 0 } || ClassIds is { Count: > 0 } ||
                                  GradeLevels is { Count: > 0 };
}

[RequestSchema("title", "url")]
internal sealed record NoticeLink(string Title, string Url);

/// <summary>A person a notice goes to, and why (kept with the notice: who was targeted and for what reason).</summary>
internal sealed record NoticeRecipient(string CorpId, string UserId, string? UnionId, string Name, string Role, long? ClassId,
    string Reason);

internal sealed record Notice(long Id, string Kind, string Category, string SenderCorpId, string? SenderUserId, string SenderName,
    string Title, string Body, string Links, string Audience, string? LinkPage, string Status, DateTime SendAt, DateTime CreatedAt,
    DateTime UpdatedAt, string? ReviewedByUserId, DateTime? ReviewedAt, string? ReviewComment, DateTime? ResolvedAt,
    DateTime? CompletedAt, int Targeted, DateTime? RecalledAt, string? RecalledByUserId, DateOnly? LastRemindedOn, int Reminders);

internal sealed record NoticeBatch(long Id, long NoticeId, string CorpId, string Purpose, string UserIds, int RecipientCount,
    string Message, string Status, int Attempts, bool Uncertain, DateOnly? FirstAttemptOn, long? TaskId, DateTime? SentAt)
{
    public IReadOnlyList<string> UserIdList => UserIds.Split(',', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>What a system notification carries: another feature's message to named people through the same outbox.</summary>
internal sealed record SystemNotice(string Category, string SenderCorpId, string SenderName, string Title, string Body,
    string? LinkPage, IReadOnlyList<NoticeRecipient> Recipients);
