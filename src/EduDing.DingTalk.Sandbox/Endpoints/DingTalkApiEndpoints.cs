using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>What every section's endpoints share: the app, the pipeline (auth, rate limits, faults) and the sandbox.</summary>
internal sealed class SandboxApi(IEndpointRouteBuilder app, SandboxPipeline pipeline, DingTalkSandbox sandbox)
{
    public IEndpointRouteBuilder App => app;

    public SandboxPipeline Pipeline => pipeline;

    public DingTalkSandbox Sandbox => sandbox;

    /// <summary>Reads the world under its lock.</summary>
    public JsonObject Locked(Func<JsonObject> read)
    {
        lock (sandbox.World.Sync)
        {
            return read();
        }
    }

    /// <summary>An oapi endpoint: access_token in the query, errcode in the body.</summary>
    public void Oapi(DingTalkApi api, Func<SandboxCorp, JsonObject, JsonObject> handle) =>
        app.MapMethods("/" + api.Path, [api.Method], (HttpContext c) => pipeline.OapiAsync(c, api, handle));
}

/// <summary>
/// The DingTalk endpoints EduDing calls, under both hosts' paths, with DingTalk's field names and paging: one file per
/// section of the contract, like the client's.
/// </summary>
public static class DingTalkApiEndpoints
{
    public static IEndpointRouteBuilder MapDingTalkApis(this IEndpointRouteBuilder app, DingTalkSandbox sandbox)
    {
        var api = new SandboxApi(app, new SandboxPipeline(sandbox), sandbox);
        SandboxTokenApis.Map(api);
        SandboxSignInApis.Map(api);
        SandboxContactApis.Map(api);
        SandboxEduApis.Map(api);
        SandboxWorkNoticeApis.Map(api);
        SandboxFailedPushApis.Map(api);
        SandboxApprovalApis.Map(api);
        SandboxStreamApis.Map(api);
        return app;
    }
}
