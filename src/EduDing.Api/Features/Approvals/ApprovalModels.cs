using System.ComponentModel;
namespace EduDing.Api.Features.Approvals;

/// <summary>Where a request stands: pending → approved | rejected; returned (to the requester, for changes) → pending again; withdrawn.</summary>
internal static class ApprovalStatus
{
    [Description("待审批")]
    public const string Pending = "pending";
    [Description("已同意")]
    public const string Approved = "approved";
    [Description("已拒绝")]
    public const string Rejected = "rejected";
    [Description("已退回")]
    public const string Returned = "returned";
    [Description("已撤回")]
    public const string Withdrawn = "withdrawn";

    public static readonly IReadOnlyList<string> All = [Pending, Approved, Rejected, Returned, Withdrawn];

    public static bool IsFinal(string status) => status is Approved or Rejected or Withdrawn;
}

/// <summary>How a request is decided: in the mini-app, or as a DingTalk OA approval instance (contract §6).</summary>
internal static class ApprovalRoute
{
    public const string InApp = "in-app";
    public const string DingTalk = "dingtalk";
}

/// <summary>Who a step is for, resolved against the org mirror when the step opens (docs/approvals.md).</summary>
internal static class ApproverSource
{
    /// <summary>The advisers (班主任) of the request's class.</summary>
    public const string ClassAdviser = "class-adviser";

    /// <summary>The admins of the request's school.</summary>
    public const string SchoolAdmins = "school-admins";

    /// <summary>Named people of one corp (a school's staff, or named bureau staff).</summary>
    public const string Named = "named";

    /// <summary>The bureau's admins.</summary>
    public const string BureauAdmins = "bureau-admins";

    /// <summary>
    /// The configured child-data officer (Identity:ChildDataOfficers): never escalated to anyone else, because nobody
    /// else may stand in for them; an empty pool waits.
    /// </summary>
    public const string ChildDataOfficer = "child-data-officer";

    public static readonly IReadOnlyList<string> All = [ClassAdviser, SchoolAdmins, Named, BureauAdmins, ChildDataOfficer];
}

/// <summary>"any" (或签, OR): the first decision settles the step; "all" (会签, AND): every approver must approve.</summary>
internal static class StepMode
{
    [Description("或签（一人同意即可）")]
    public const string Any = "any";
    [Description("会签（全部同意）")]
    public const string All = "all";
}

/// <summary>One step of a chain. <see cref="CorpId"/> and <see cref="UserIds"/> are for <see cref="ApproverSource.Named"/>.</summary>
internal sealed record ApprovalStep(string Approvers, string Mode, string? CorpId = null, IReadOnlyList<string>? UserIds = null);

/// <summary>A kind's chain: its steps in order, whether it is approved on submission, and the OA process code when DingTalk decides.</summary>
internal sealed record ApprovalChain(IReadOnlyList<ApprovalStep> Steps, bool AutoApprove = false, string? ProcessCode = null);

/// <summary>Where a chain in force came from.</summary>
internal static class ChainSource
{
    [Description("本校配置")]
    public const string School = "school";
    [Description("全市默认（教育局配置）")]
    public const string City = "city";
    [Description("系统默认")]
    public const string Default = "default";
}

/// <summary>Where a chain came from: the school's own, the bureau's city default, or the kind's built-in default.</summary>
internal sealed record EffectiveChain(string Kind, string Source, ApprovalChain Chain);

internal sealed record ApprovalRequest(long Id, string Kind, string CorpId, string SubjectId, long? ClassId, string Title, string? Summary,
    string RequesterCorpId, string RequesterUserId, string Status, string Route, string Steps, int CurrentStep, string? ProcessInstanceId,
    int Version, DateTime CreatedAt, DateTime UpdatedAt, DateTime StepOpenedAt, DateTime? DecidedAt, DateTime? OutcomeAppliedAt,
    DateTime? CheckedAt);

internal sealed record ApprovalAssignee(long RequestId, int Step, string CorpId, string UserId, string Name, string How, bool IsOpen,
    string? Decision, DateTime OpenedAt, DateTime? ClosedAt);

internal sealed record ApprovalAction(long Id, long RequestId, int Step, string ActorCorpId, string ActorUserId, string Action,
    string? Comment, DateTime At);

/// <summary>A person a step was resolved to, and how (resolved from the chain, or escalated because the pool was empty).</summary>
internal sealed record Approver(string CorpId, string UserId, string Name, string? UnionId, string How);

/// <summary>A submission's chain and first-step approvers, read before the feature's transaction that writes it.</summary>
internal sealed record PreparedSubmission(string Kind, string CorpId, long? ClassId, ApprovalChain Chain, IReadOnlyList<Approver> FirstStep, bool Escalated);

/// <summary>A request written in a feature's transaction, with the approvers its first step opened for.</summary>
internal sealed record SubmittedRequest(ApprovalRequest Request, IReadOnlyList<Approver> Opened);

/// <summary>What a feature submits for approval: its kind, the school deciding, the subject's id in the feature, and what approvers read.</summary>
internal sealed record ApprovalSubmission(string Kind, string CorpId, string SubjectId, string Title, string? Summary, long? ClassId = null);

/// <summary>The decisions a person can take on a pending request.</summary>
internal static class ApprovalDecision
{
    [Description("同意")]
    public const string Approve = "approve";
    [Description("拒绝")]
    public const string Reject = "reject";
    [Description("退回")]
    public const string Return = "return";
}
