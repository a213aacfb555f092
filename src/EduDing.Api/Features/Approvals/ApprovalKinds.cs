using System.ComponentModel;

namespace EduDing.Api.Features.Approvals;

/// <summary>
/// The names of the kinds features register, with their display names, for the contract's enum. A test holds this list
/// to the registered kinds (each kind's <see cref="IApprovalKind.DisplayName"/> is its label here).
/// </summary>
internal static class ApprovalKindNames
{
    [Description("数据访问授权")]
    public const string AccessGrant = "access-grant";
    [Description("数据访问授权（儿童个人信息保护负责人审批）")]
    public const string AccessGrantConfirmation = "access-grant-confirmation";
    [Description("教师通知")]
    public const string Notice = "notice";
    [Description("课后服务报名")]
    public const string AfterSchool = "after-school";
    [Description("课后服务考勤更正")]
    public const string CareRollCorrection = "care-roll-correction";
    [Description("培训学分年度更正")]
    public const string TrainingYearReopen = "training-year-reopen";
    [Description("培训学分认定")]
    public const string TrainingCredit = "training-credit";
    [Description("参训报名")]
    public const string TrainingEnrolment = "training-enrolment";
    [Description("非审核机构培训事前审批")]
    public const string TrainingPriorApproval = "training-prior-approval";
    [Description("个人信息更正/删除申请")]
    public const string DataRequest = "data-request";
}

/// <summary>What the requester is told when their request is decided (through the notice pipeline).</summary>
internal sealed record ApprovalMessage(string Category, string Title, string Body, string Page);

/// <summary>
/// A kind of request a feature registers (<see cref="ApprovalExtensions.AddApprovalKind{TKind}"/>): its name, the chain
/// it follows when neither the school nor the bureau configured one, and what happens to the feature's subject when
/// the request is decided. Applying an outcome must be idempotent: it is retried until it succeeds.
/// </summary>
internal interface IApprovalKind
{
    string Kind { get; }

    /// <summary>Shown to approvers and in DingTalk OA forms (Chinese).</summary>
    string DisplayName { get; }

    ApprovalChain DefaultChain { get; }

    /// <summary>
    /// Called once the request is approved, rejected, withdrawn or returned, with the action that decided it (who,
    /// when, the comment or reason; null only for an outcome without one).
    /// </summary>
    Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct);

    /// <summary>
    /// Whether each request's approvers get a message when its step opens. A kind that arrives in waves (every family of
    /// a school applying for after-school care in the same minute) says no: its approvers work from the inbox and get
    /// the daily digest instead of dozens of messages (docs/approvals.md).
    /// </summary>
    bool MessagesApproversPerRequest => true;

    /// <summary>
    /// A step every chain of this kind ends with, whatever the school or the bureau configured (the child-data
    /// officer's approval of access to children's data); null for none.
    /// </summary>
    ApprovalStep? RequiredLastStep => null;

    /// <summary>The requester's message for an outcome; null for the generic one.</summary>
    ApprovalMessage? OutcomeMessage(ApprovalRequest request, ApprovalAction? decision) => null;
}

/// <summary>The registered kinds, by name.</summary>
internal sealed class ApprovalKinds(IEnumerable<IApprovalKind> kinds)
{
    private readonly IReadOnlyDictionary<string, IApprovalKind> _kinds = kinds.ToDictionary(k => k.Kind, StringComparer.Ordinal);

    public IReadOnlyCollection<IApprovalKind> All => _kinds.Values.OrderBy(k => k.Kind, StringComparer.Ordinal).ToList();

    public IApprovalKind? Find(string kind) => _kinds.GetValueOrDefault(kind);

    public IApprovalKind Get(string kind) => Find(kind) ?? throw new InvalidOperationException($"No approval kind '{kind}' is registered.");
}
