using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox.Runtime;
using static EduDing.DingTalk.Sandbox.Endpoints.SandboxPipeline;
using static EduDing.DingTalk.Sandbox.Endpoints.SandboxApiHelpers;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>工作通知 (contract §5): asynchronous send, progress, result and recall.</summary>
internal static class SandboxWorkNoticeApis
{
    public static void Map(SandboxApi api)
    {
        var sandbox = api.Sandbox;
        var world = api.Sandbox.World;
        api.Oapi(DingTalkApis.SendWorkNotice, (corp, body) =>
        {
            RequireAgent(corp, body);
            var userIds = (body["userid_list"]?.ToString() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (userIds.Length == 0)
            {
                throw new SandboxRequestException(1430000, "invalidParameter", "接收者为空");
            }

            if (userIds.Length > 100)
            {
                throw new SandboxRequestException(40035, "invalidParameter", "不合法的参数: userid_list 最多100个");
            }

            var message = body["msg"] as JsonObject ?? (body["msg"] is JsonValue v ? JsonNode.Parse(v.ToString()) as JsonObject : null)
                          ?? throw new SandboxRequestException(40035, "invalidParameter", "不合法的参数: msg");
            if (message["msgtype"] is null || System.Text.Encoding.UTF8.GetByteCount(message.ToJsonString()) > 2048)
            {
                throw new SandboxRequestException(40035, "invalidParameter", "不合法的参数: msg (msgtype, ≤2048 bytes)");
            }

            // One pass over the corp's rosters per call (not per recipient): a 100,000-guardian school stays cheap.
            HashSet<string> known;
            lock (world.Sync)
            {
                var wanted = userIds.ToHashSet(StringComparer.Ordinal);
                known = wanted.Where(corp.Users.ContainsKey).ToHashSet(StringComparer.Ordinal);
                foreach (var member in corp.Classes.Values.SelectMany(r => r.Guardians.Concat(r.Students)))
                {
                    if (wanted.Contains(member.UserId))
                    {
                        known.Add(member.UserId);
                    }
                }
            }

            bool Exists(string userId) => known.Contains(userId);

            var taskId = sandbox.Notices.Send(corp, userIds, message, Exists);
            return new JsonObject { ["task_id"] = taskId };
        });

        api.Oapi(DingTalkApis.GetSendProgress, (corp, body) =>
        {
            RequireAgent(corp, body);
            _ = RequireTask(sandbox, corp, body, "task_id");
            return new JsonObject { ["progress"] = new JsonObject { ["progress_in_percent"] = 100, ["status"] = 2 } };
        });

        api.Oapi(DingTalkApis.GetSendResult, (corp, body) =>
        {
            RequireAgent(corp, body);
            var task = RequireTask(sandbox, corp, body, "task_id");
            if (task.RecipientCount > 100)
            {
                throw new SandboxRequestException(-1, "systemError", "系统繁忙 (tasks with more than 100 recipients are not supported)");
            }

            var (invalid, forbidden, read, unread) = sandbox.Notices.Outcome(task);
            return new JsonObject
            {
                ["send_result"] = new JsonObject
                {
                    ["invalid_user_id_list"] = Strings(invalid),
                    ["forbidden_user_id_list"] = Strings(forbidden.Select(f => f.UserId)),
                    ["failed_user_id_list"] = new JsonArray(),
                    ["read_user_id_list"] = Strings(read),
                    ["unread_user_id_list"] = Strings(unread),
                    ["invalid_dept_id_list"] = new JsonArray(),
                    ["forbidden_list"] = new JsonArray(forbidden.Select(f => (JsonNode)new JsonObject
                    {
                        ["code"] = f.Code, ["count"] = 1, ["userid"] = f.UserId,
                    }).ToArray()),
                },
            };
        });

        api.Oapi(DingTalkApis.RecallWorkNotice, (corp, body) =>
        {
            RequireAgent(corp, body);
            var taskId = RequireLong(body, "msg_task_id");
            return sandbox.Notices.Recall(corp, taskId)
                ? new JsonObject()
                : throw new SandboxRequestException(400002, "invalidParameter", "agentId或taskId不合法");
        });
    }
}
