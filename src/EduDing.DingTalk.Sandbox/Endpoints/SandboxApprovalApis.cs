using System.Text.Json;
using System.Text.Json.Nodes;
using EduDing.DingTalk.Models;
using EduDing.DingTalk.Sandbox.Runtime;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>OA 审批 (contract §6): creating and reading approval instances.</summary>
internal static class SandboxApprovalApis
{
    public static void Map(SandboxApi api)
    {
        var app = api.App;
        var pipeline = api.Pipeline;
        var sandbox = api.Sandbox;
        var world = api.Sandbox.World;
        app.MapPost("/" + DingTalkApis.CreateProcessInstance.Path, (HttpContext c) => pipeline.ApiAsync(c, DingTalkApis.CreateProcessInstance, (corp, body) =>
        {
            CreateProcessInstanceRequest request;
            try
            {
                request = body.Deserialize<CreateProcessInstanceRequest>(DingTalkJson.Api)
                          ?? throw new SandboxRequestException(0, "invalidParameter", "Empty body.");
            }
            catch (JsonException ex)
            {
                throw new SandboxRequestException(0, "invalidParameter", ex.Message);
            }

            if (string.IsNullOrEmpty(request.ProcessCode) || string.IsNullOrEmpty(request.OriginatorUserId))
            {
                throw new SandboxRequestException(0, "invalidParameter", "processCode and originatorUserId are required.");
            }

            List<Events.SandboxEvent> events;
            string instanceId;
            lock (world.Sync)
            {
                (instanceId, events) = sandbox.Approvals.Create(corp, request);
            }

            sandbox.Publish(events);
            return new JsonObject { ["instanceId"] = instanceId };
        }));

        app.MapGet("/" + DingTalkApis.GetProcessInstance.Path, (HttpContext c) => pipeline.ApiAsync(c, DingTalkApis.GetProcessInstance, (corp, _) =>
        {
            var id = c.Request.Query["processInstanceId"].ToString();
            var instance = sandbox.Approvals.Get(corp, id)
                           ?? throw new SandboxRequestException(0, "invalidParameter", $"实例不存在 ({id}).");
            return new JsonObject
            {
                ["result"] = JsonSerializer.SerializeToNode(instance, DingTalkJson.Api),
                ["success"] = "true",
            };
        }));
    }
}
