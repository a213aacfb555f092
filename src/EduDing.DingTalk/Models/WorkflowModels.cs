namespace EduDing.DingTalk.Models;

/// <summary>POST v1.0/workflow/processInstances body (§6a), camelCase as DingTalk expects.</summary>
public sealed record CreateProcessInstanceRequest(
    string OriginatorUserId,
    string ProcessCode,
    IReadOnlyList<FormComponentValue> FormComponentValues,
    long? DeptId = null,
    long? MicroappAgentId = null,
    IReadOnlyList<ProcessApprover>? Approvers = null,
    IReadOnlyList<string>? CcList = null,
    string? CcPosition = null);

public sealed record FormComponentValue(string Name, string Value, string? Id = null, string? ComponentType = null,
    string? BizAlias = null, string? ExtValue = null);

/// <summary>ActionType: AND 会签, OR 或签, NONE 单人.</summary>
public sealed record ProcessApprover(string ActionType, IReadOnlyList<string> UserIds);

internal sealed record CreateProcessInstanceResponse(string InstanceId);

/// <summary>
/// An approval instance (§6c). Status RUNNING | TERMINATED | COMPLETED; Result agree | refuse; approved exactly when
/// COMPLETED and agree.
/// </summary>
public sealed record ProcessInstance(
    string? Title,
    string? CreateTime,
    string? FinishTime,
    string OriginatorUserId,
    string? OriginatorDeptId,
    string Status,
    string? Result,
    string? BusinessId,
    IReadOnlyList<string>? ApproverUserIds,
    IReadOnlyList<string>? CcUserIds,
    IReadOnlyList<FormComponentValue>? FormComponentValues,
    IReadOnlyList<OperationRecord>? OperationRecords,
    IReadOnlyList<ProcessTask>? Tasks)
{
    public bool IsApproved => Status == "COMPLETED" && Result == "agree";
}

public sealed record OperationRecord(string? UserId, string? Date, string? Type, string? Result, string? Remark);

public sealed record ProcessTask(long TaskId, string UserId, string Status, string? Result, string? CreateTime,
    string? FinishTime, string? ProcessInstanceId);

internal sealed record GetProcessInstanceResponse(ProcessInstance Result, bool Success);
