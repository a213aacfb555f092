using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox.Runtime;
using static EduDing.DingTalk.Sandbox.Endpoints.SandboxPipeline;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>Access tokens (contract §1): the new and the legacy endpoint.</summary>
internal static class SandboxTokenApis
{
    public static void Map(SandboxApi api)
    {
        var app = api.App;
        var pipeline = api.Pipeline;
        var world = api.Sandbox.World;
        app.MapPost("/v1.0/oauth2/accessToken", (HttpContext c) => pipeline.PublicApiAsync(c, body =>
        {
            var corp = world.FindByAppKey(body["appKey"]?.ToString() ?? "");
            if (corp is null || corp.AppSecret != body["appSecret"]?.ToString())
            {
                throw new SandboxRequestException(40089, "invalidClientIdOrSecret", "无效的clientId或者clientSecret");
            }

            var (token, expiresIn) = world.IssueToken(corp);
            return new JsonObject { ["accessToken"] = token, ["expireIn"] = expiresIn };
        }));

        app.MapGet("/gettoken", async (HttpContext c) =>
        {
            if (await pipeline.PrecheckAsync(c))
            {
                return;
            }

            var corp = world.FindByAppKey(c.Request.Query["appkey"].ToString());
            var reply = corp is null || corp.AppSecret != c.Request.Query["appsecret"].ToString()
                ? new JsonObject { ["errcode"] = 40089, ["errmsg"] = "不合法的corpId或corpSecret" }
                : world.IssueToken(corp) is var (token, expiresIn)
                    ? new JsonObject { ["errcode"] = 0, ["errmsg"] = "ok", ["access_token"] = token, ["expires_in"] = expiresIn }
                    : null!;
            await WriteJsonAsync(c, 200, reply);
        });
    }
}
