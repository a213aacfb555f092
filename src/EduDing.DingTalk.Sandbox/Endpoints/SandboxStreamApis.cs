using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox.Runtime;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>Stream mode (contract §9): opening a connection, and the WebSocket itself.</summary>
internal static class SandboxStreamApis
{
    public static void Map(SandboxApi api)
    {
        var app = api.App;
        var pipeline = api.Pipeline;
        var sandbox = api.Sandbox;
        var world = api.Sandbox.World;
        app.MapPost("/" + DingTalkApis.OpenStreamConnection.Path, (HttpContext c) => pipeline.PublicApiAsync(c, body =>
        {
            var corp = world.FindByAppKey(body["clientId"]?.ToString() ?? "");
            if (corp is null || corp.AppSecret != body["clientSecret"]?.ToString())
            {
                throw new SandboxRequestException(0, "authFailed", "鉴权失败", StatusCodes.Status401Unauthorized);
            }

            if (sandbox.PushQuotaExhausted(corp.CorpId))
            {
                // Contract §12: the month's pushes are used up; the message service is paused until the month turns.
                throw new SandboxRequestException(20001, "20001", "受调用量超量影响，当前我的消息服务已经暂停", StatusCodes.Status403Forbidden);
            }

            sandbox.SubscribeStream(corp);
            var scheme = c.Request.IsHttps ? "wss" : "ws";
            return new JsonObject
            {
                ["endpoint"] = $"{scheme}://{c.Request.Host}/connect",
                ["ticket"] = sandbox.Stream.IssueTicket(corp),
            };
        }));

        app.Map("/connect", sandbox.Stream.AcceptAsync);
    }
}
