using System.Text.Json.Nodes;
using EduDing.DingTalk.Models;
using EduDing.DingTalk.Sandbox.Model;
using EduDing.DingTalk.Sandbox.Runtime;
using static EduDing.DingTalk.Sandbox.Endpoints.SandboxPipeline;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>Reply shapes and request checks shared by the sections' endpoints.</summary>
internal static class SandboxApiHelpers
{
    public static JsonObject Result(JsonNode result) => new() { ["result"] = result };

    /// <summary>Edu replies also carry success (§4).</summary>
    public static JsonObject EduResult(JsonNode result) => new() { ["success"] = true, ["result"] = result };

    public static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)v).ToArray());

    public static SandboxDept RequireEnterpriseDept(SandboxCorp corp, long deptId) =>
        corp.Departments.GetValueOrDefault(deptId) ?? throw new SandboxRequestException(60003, "NotFound", "部门不存在");

    public static string RequireRole(JsonObject body)
    {
        var role = RequireString(body, "role");
        return role is EduRoles.Teacher or EduRoles.Guardian or EduRoles.Student
            ? role
            : throw new SandboxRequestException(40035, "invalidParameter", $"不合法的参数: role ({role}); teacher, guardian or student");
    }

    public static void RequireAgent(SandboxCorp corp, JsonObject body)
    {
        if (RequireLong(body, "agent_id") != corp.AgentId)
        {
            throw new SandboxRequestException(400002, "invalidParameter", "agentId不合法");
        }
    }

    public static WorkNoticeStore.NoticeTask RequireTask(DingTalkSandbox sandbox, SandboxCorp corp, JsonObject body, string name)
    {
        var task = sandbox.Notices.Find(corp, RequireLong(body, name));
        return task is not null && sandbox.Time.GetUtcNow() - task.CreatedAt <= TimeSpan.FromHours(24)
            ? task
            : throw new SandboxRequestException(40035, "invalidParameter", "不合法的参数: task_id");
    }

    public static JsonObject UserJson(SandboxUser user, long? inDept) => new()
    {
        ["userid"] = user.UserId, ["unionid"] = user.UnionId, ["name"] = user.Name, ["avatar"] = "", ["state_code"] = "86",
        ["mobile"] = user.Mobile, ["hide_mobile"] = false, ["telephone"] = "", ["job_number"] = user.JobNumber,
        ["title"] = user.Title, ["email"] = "", ["org_email"] = "", ["work_place"] = "", ["remark"] = "",
        ["dept_id_list"] = new JsonArray(user.DeptIds.Select(d => (JsonNode)d).ToArray()),
        ["dept_order"] = inDept is { } d2 ? user.DeptIds.IndexOf(d2) : 0, ["extension"] = "{}", ["hired_date"] = user.HiredDate,
        ["active"] = true, ["admin"] = user.Admin, ["boss"] = user.Boss,
        ["leader"] = inDept is { } d3 && user.LeaderOf.Contains(d3), ["exclusive_account"] = false,
    };

    public static JsonObject EduUserJson(long classId, string role, SandboxEduMember member)
    {
        var item = new JsonObject
        {
            ["userid"] = member.UserId, ["name"] = member.Name, ["unionid"] = member.UnionId, ["class_id"] = classId,
            ["role"] = role,
            ["feature"] = member.StudentNo is null ? "{}" : new JsonObject { ["student_no"] = member.StudentNo }.ToJsonString(),
        };
        if (role == EduRoles.Teacher)
        {
            item["is_adviser"] = member.IsAdviser ? "1" : "0";
        }

        if (role == EduRoles.Student && member.StudentNo is not null)
        {
            item["student_no"] = member.StudentNo;
        }

        return item;
    }
}
