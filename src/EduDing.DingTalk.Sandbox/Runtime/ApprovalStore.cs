using System.Globalization;
using System.Text.Json.Nodes;
using EduDing.DingTalk.Models;
using EduDing.DingTalk.Sandbox.Events;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.DingTalk.Sandbox.Runtime;

/// <summary>
/// OA approvals (§6): templates per corp, instances created through v1.0, approver nodes taken in order (AND needs
/// every approver, OR and NONE one), and the approve / refuse / terminate actions a person would take in DingTalk,
/// each emitting bpms_task_change and bpms_instance_change.
/// </summary>
public sealed class ApprovalStore(TimeProvider time)
{
    private readonly object _sync = new();
    private readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<(string CorpId, string ProcessCode), Template> _templates = new();
    private long _nextTaskId = 60_000_000_000;

    public void AddTemplate(SandboxCorp corp, string processCode, string name, IReadOnlyList<ProcessApprover> approvers)
    {
        lock (_sync)
        {
            _templates[(corp.CorpId, processCode)] = new Template(processCode, name, approvers);
        }
    }

    public IReadOnlyList<(string ProcessCode, string Name)> Templates(SandboxCorp corp)
    {
        lock (_sync)
        {
            return _templates.Where(t => t.Key.CorpId == corp.CorpId).Select(t => (t.Value.ProcessCode, t.Value.Name)).ToList();
        }
    }

    public (string InstanceId, List<SandboxEvent> Events) Create(SandboxCorp corp, CreateProcessInstanceRequest request)
    {
        lock (_sync)
        {
            if (!_templates.TryGetValue((corp.CorpId, request.ProcessCode), out var template))
            {
                throw new SandboxRequestException(0, "processCodeError", $"模板不存在 ({request.ProcessCode}).");
            }

            if (!corp.Users.ContainsKey(request.OriginatorUserId))
            {
                throw new SandboxRequestException(0, "invalidParameter", $"发起人不存在 ({request.OriginatorUserId}).");
            }

            if (request.FormComponentValues is not { Count: > 0 })
            {
                throw new SandboxRequestException(0, "invalidParameter", "formComponentValues is required.");
            }

            var nodes = (request.Approvers is { Count: > 0 } ? request.Approvers : template.Approvers).ToList();
            if (nodes.SelectMany(n => n.UserIds).FirstOrDefault(u => !corp.Users.ContainsKey(u)) is { } unknown)
            {
                throw new SandboxRequestException(0, "invalidParameter", $"审批人不存在 ({unknown}).");
            }

            var now = time.GetUtcNow();
            var instance = new Instance(Guid.NewGuid().ToString(), corp, template, request, nodes, now);
            _instances[instance.Id] = instance;
            var events = new List<SandboxEvent> { InstanceEvent(instance, "start", null) };
            events.AddRange(StartNode(instance));
            return (instance.Id, events);
        }
    }

    public ProcessInstance? Get(SandboxCorp corp, string instanceId)
    {
        lock (_sync)
        {
            return _instances.TryGetValue(instanceId, out var i) && i.Corp == corp ? i.ToModel() : null;
        }
    }

    /// <summary>The approver acts on their running task: agree moves on (or finishes), refuse finishes with refuse.</summary>
    public List<SandboxEvent> Decide(string instanceId, string approverUserId, bool agree, string? remark)
    {
        lock (_sync)
        {
            var instance = Running(instanceId);
            var task = instance.Tasks.FirstOrDefault(t => t.UserId == approverUserId && t.Status == "RUNNING")
                       ?? throw new SandboxRequestException(0, "invalidParameter", $"{approverUserId} has no running task.");
            var now = time.GetUtcNow();
            task.Status = "COMPLETED";
            task.Result = agree ? "AGREE" : "REFUSE";
            task.FinishedAt = now;
            instance.Records.Add(new OperationRecord(approverUserId, Iso(now), "EXECUTE_TASK_NORMAL", task.Result, remark));
            var events = new List<SandboxEvent> { TaskEvent(instance, task, "finish", agree ? "agree" : "refuse", remark) };

            var node = instance.Nodes[instance.CurrentNode];
            var nodeTasks = instance.Tasks.Where(t => t.Node == instance.CurrentNode).ToList();
            var nodeDone = !agree || node.ActionType != "AND" || nodeTasks.All(t => t.Status == "COMPLETED");
            if (!nodeDone)
            {
                return events;
            }

            foreach (var other in nodeTasks.Where(t => t.Status == "RUNNING"))
            {
                other.Status = "CANCELED";
                other.FinishedAt = now;
                events.Add(TaskEvent(instance, other, "cancel", null, null));
            }

            if (agree && instance.CurrentNode + 1 < instance.Nodes.Count)
            {
                instance.CurrentNode++;
                events.AddRange(StartNode(instance));
                return events;
            }

            instance.Status = "COMPLETED";
            instance.Result = agree ? "agree" : "refuse";
            instance.FinishedAt = now;
            events.Add(InstanceEvent(instance, "finish", instance.Result));
            return events;
        }
    }

    /// <summary>The originator revokes (撤销): TERMINATED, no result.</summary>
    public List<SandboxEvent> Terminate(string instanceId)
    {
        lock (_sync)
        {
            var instance = Running(instanceId);
            var now = time.GetUtcNow();
            var events = new List<SandboxEvent>();
            foreach (var task in instance.Tasks.Where(t => t.Status == "RUNNING"))
            {
                task.Status = "CANCELED";
                task.FinishedAt = now;
                events.Add(TaskEvent(instance, task, "cancel", null, null));
            }

            instance.Status = "TERMINATED";
            instance.FinishedAt = now;
            instance.Records.Add(new OperationRecord(instance.Request.OriginatorUserId, Iso(now), "TERMINATE_PROCESS_INSTANCE", "NONE", null));
            events.Add(InstanceEvent(instance, "terminate", null));
            return events;
        }
    }

    private Instance Running(string instanceId) =>
        _instances.TryGetValue(instanceId, out var instance)
            ? instance.Status == "RUNNING"
                ? instance
                : throw new SandboxRequestException(0, "invalidParameter", $"Instance {instanceId} is {instance.Status}.")
            : throw new SandboxRequestException(0, "invalidParameter", $"No instance {instanceId}.");

    private IEnumerable<SandboxEvent> StartNode(Instance instance)
    {
        var node = instance.Nodes[instance.CurrentNode];
        foreach (var userId in node.UserIds)
        {
            var task = new TaskState(Interlocked.Increment(ref _nextTaskId), userId, instance.CurrentNode, time.GetUtcNow());
            instance.Tasks.Add(task);
            yield return TaskEvent(instance, task, "start", null, null);
        }
    }

    private SandboxEvent InstanceEvent(Instance instance, string type, string? result)
    {
        var fields = BaseFields(instance);
        fields["type"] = type;
        fields["staffId"] = instance.Request.OriginatorUserId;
        if (result is not null)
        {
            fields["result"] = result;
        }

        if (instance.FinishedAt is { } finished)
        {
            fields["finishTime"] = finished.ToUnixTimeMilliseconds();
        }

        return SandboxEvents.Bpms("bpms_instance_change", instance.Corp, time.GetUtcNow().ToUnixTimeMilliseconds(), fields);
    }

    private SandboxEvent TaskEvent(Instance instance, TaskState task, string type, string? result, string? remark)
    {
        var fields = BaseFields(instance);
        fields["type"] = type;
        fields["taskId"] = task.TaskId;
        fields["staffId"] = task.UserId;
        if (result is not null)
        {
            fields["result"] = result;
        }

        if (remark is not null)
        {
            fields["remark"] = remark;
        }

        return SandboxEvents.Bpms("bpms_task_change", instance.Corp, time.GetUtcNow().ToUnixTimeMilliseconds(), fields);
    }

    private static JsonObject BaseFields(Instance instance) => new()
    {
        ["processInstanceId"] = instance.Id,
        ["processCode"] = instance.Template.ProcessCode,
        ["bizCategoryId"] = "",
        ["businessId"] = instance.BusinessId,
        ["title"] = instance.Title,
        ["createTime"] = instance.CreatedAt.ToUnixTimeMilliseconds(),
        ["url"] = $"https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm?procInstId={instance.Id}",
    };

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture);

    private sealed record Template(string ProcessCode, string Name, IReadOnlyList<ProcessApprover> Approvers);

    private sealed class TaskState(long taskId, string userId, int node, DateTimeOffset createdAt)
    {
        public long TaskId { get; } = taskId;

        public string UserId { get; } = userId;

        public int Node { get; } = node;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public string Status { get; set; } = "RUNNING";

        public string? Result { get; set; }

        public DateTimeOffset? FinishedAt { get; set; }
    }

    private sealed class Instance(string id, SandboxCorp corp, Template template, CreateProcessInstanceRequest request,
        List<ProcessApprover> nodes, DateTimeOffset createdAt)
    {
        private static long _business = 202611290000;

        public string Id { get; } = id;

        public SandboxCorp Corp { get; } = corp;

        public Template Template { get; } = template;

        public CreateProcessInstanceRequest Request { get; } = request;

        public List<ProcessApprover> Nodes { get; } = nodes;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public string BusinessId { get; } = Interlocked.Increment(ref _business).ToString(CultureInfo.InvariantCulture);

        public string Title => $"{Corp.Users[Request.OriginatorUserId].Name}提交的{Template.Name}";

        public int CurrentNode { get; set; }

        public string Status { get; set; } = "RUNNING";

        public string? Result { get; set; }

        public DateTimeOffset? FinishedAt { get; set; }

        public List<TaskState> Tasks { get; } = [];

        public List<OperationRecord> Records { get; } =
            [new(request.OriginatorUserId, Iso(createdAt), "START_PROCESS_INSTANCE", "NONE", null)];

        public ProcessInstance ToModel() => new(
            Title, Iso(CreatedAt), FinishedAt is { } f ? Iso(f) : null, Request.OriginatorUserId,
            Request.DeptId?.ToString(CultureInfo.InvariantCulture) ?? "-1", Status, Result, BusinessId,
            Tasks.Select(t => t.UserId).Distinct().ToList(), Request.CcList, Request.FormComponentValues, Records.ToList(),
            Tasks.Select(t => new ProcessTask(t.TaskId, t.UserId, t.Status, t.Result, Iso(t.CreatedAt),
                t.FinishedAt is { } tf ? Iso(tf) : null, Id)).ToList());
    }
}
