using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox.Model;
using EduDing.DingTalk.Sandbox.Runtime;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>
/// What every emulated call goes through, in DingTalk's order: latency, the IP ban, authentication, the per-app QPS,
/// the monthly quota and injected faults. Replies and errors take the family's own shape (§0): errcode on HTTP 200 for
/// oapi, HTTP status with code/message/requestid for v1.0.
/// </summary>
internal sealed class SandboxPipeline(DingTalkSandbox sandbox)
{
    public async Task OapiAsync(HttpContext context, DingTalkApi api, Func<SandboxCorp, JsonObject, JsonObject> handle)
    {
        if (await PrecheckAsync(context))
        {
            return;
        }

        JsonObject reply;
        try
        {
            var body = await ReadBodyAsync(context.Request);
            var token = context.Request.Query["access_token"].FirstOrDefault() ?? body["access_token"]?.ToString();
            if (string.IsNullOrEmpty(token))
            {
                throw new SandboxRequestException(41001, "Unauthorized", "缺少access_token参数");
            }

            var (corp, expired) = sandbox.World.ResolveToken(token);
            if (corp is null)
            {
                throw expired
                    ? new SandboxRequestException(42001, "InvalidAuthentication", "access_token超时")
                    : new SandboxRequestException(40014, "InvalidAuthentication", "不合法的access_token");
            }

            await HangIfUnresponsiveAsync(corp, context);
            ThrowOnFault(sandbox.Limits.CheckCall(corp, api));
            reply = handle(corp, body);
            reply["errcode"] = 0;
            reply["errmsg"] = "ok";
        }
        catch (SandboxRequestException ex)
        {
            reply = new JsonObject { ["errcode"] = ex.ErrCode, ["errmsg"] = ex.Message };
        }

        reply["request_id"] = NewRequestId();
        await WriteJsonAsync(context, StatusCodes.Status200OK, reply);
    }

    public async Task ApiAsync(HttpContext context, DingTalkApi api, Func<SandboxCorp, JsonObject, JsonObject> handle)
    {
        if (await PrecheckAsync(context))
        {
            return;
        }

        var requestId = NewRequestId();
        context.Response.Headers["x-acs-request-id"] = requestId;
        try
        {
            var body = await ReadBodyAsync(context.Request);
            var token = context.Request.Headers["x-acs-dingtalk-access-token"].FirstOrDefault();
            if (string.IsNullOrEmpty(token))
            {
                throw new SandboxRequestException(0, "Unauthorized", "缺少access_token", StatusCodes.Status401Unauthorized);
            }

            var (corp, _) = sandbox.World.ResolveToken(token);
            if (corp is null)
            {
                throw new SandboxRequestException(0, "InvalidAuthentication", "不合法的access_token");
            }

            await HangIfUnresponsiveAsync(corp, context);
            ThrowOnFault(sandbox.Limits.CheckCall(corp, api));
            await WriteJsonAsync(context, StatusCodes.Status200OK, handle(corp, body));
        }
        catch (SandboxRequestException ex)
        {
            await WriteApiErrorAsync(context, ex, requestId);
        }
    }

    /// <summary>Calls authenticated by app credentials rather than a token (the token endpoints, the stream gateway).</summary>
    public async Task PublicApiAsync(HttpContext context, Func<JsonObject, JsonObject> handle)
    {
        if (await PrecheckAsync(context))
        {
            return;
        }

        var requestId = NewRequestId();
        context.Response.Headers["x-acs-request-id"] = requestId;
        try
        {
            var body = await ReadBodyAsync(context.Request);
            if (sandbox.World.FindByAppKey((body["appKey"] ?? body["clientId"])?.ToString() ?? context.Request.Query["appkey"].ToString())
                is { } corp)
            {
                await HangIfUnresponsiveAsync(corp, context);
            }

            await WriteJsonAsync(context, StatusCodes.Status200OK, handle(body));
        }
        catch (SandboxRequestException ex)
        {
            await WriteApiErrorAsync(context, ex, requestId);
        }
    }

    /// <summary>For a corp in <see cref="SandboxOptions.UnresponsiveCorps"/>: waits until the caller gives up.</summary>
    private async Task HangIfUnresponsiveAsync(SandboxCorp corp, HttpContext context)
    {
        if (sandbox.Options.UnresponsiveCorps.Contains(corp.CorpId))
        {
            sandbox.Counters.Increment("faults.unresponsive");
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
    }

    /// <summary>Latency, then the IP ban; true when the ban page was already written.</summary>
    public async Task<bool> PrecheckAsync(HttpContext context)
    {
        if (sandbox.Options.Latency > TimeSpan.Zero)
        {
            await Task.Delay(sandbox.Options.Latency, sandbox.Time, context.RequestAborted);
        }

        if (sandbox.Limits.CheckIp() is null)
        {
            return false;
        }

        if (sandbox.Limits.NextBanReplyIsHtml())
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync("<!DOCTYPE html><html><head><title>访问被拒绝</title></head><body>" +
                                              "您的访问过于频繁，请稍后再试。</body></html>");
        }
        else
        {
            await WriteJsonAsync(context, StatusCodes.Status200OK, new JsonObject
            {
                ["status"] = 1111, ["wait"] = 5, ["source"] = "x5", ["punish"] = "deny", ["uuid"] = NewRequestId(),
            });
        }

        return true;
    }

    public static async Task<JsonObject> ReadBodyAsync(HttpRequest request)
    {
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync();
            var fromForm = new JsonObject();
            foreach (var (key, value) in form)
            {
                fromForm[key] = value.ToString();
            }

            return fromForm;
        }

        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync();
        if (string.IsNullOrWhiteSpace(text))
        {
            return new JsonObject();
        }

        try
        {
            return JsonNode.Parse(text) as JsonObject
                   ?? throw new SandboxRequestException(400002, "invalidParameter", "参数错误: body is not a JSON object");
        }
        catch (JsonException)
        {
            throw new SandboxRequestException(400002, "invalidParameter", "参数错误: body is not JSON");
        }
    }

    public static Task WriteJsonAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(body.ToJsonString(Utf8Json));
    }

    /// <summary>DingTalk writes Chinese as UTF-8, not as \u escapes.</summary>
    private static readonly JsonSerializerOptions Utf8Json = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static Task WriteApiErrorAsync(HttpContext context, SandboxRequestException ex, string requestId) =>
        WriteJsonAsync(context, ex.HttpStatus, new JsonObject
        {
            ["code"] = ex.ApiCode, ["message"] = ex.Message, ["requestid"] = requestId,
        });

    private static void ThrowOnFault(SandboxFaultKind? fault)
    {
        switch (fault)
        {
            case SandboxFaultKind.PermissionDenied:
                throw new SandboxRequestException(60011, "Forbidden.AccessDenied.AccessTokenPermissionDenied",
                    "没有调用该接口的权限", StatusCodes.Status403Forbidden);
            case SandboxFaultKind.AppQps:
                throw new SandboxRequestException(90018, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                    "触发了qps流控，请求总次数超过 20 次", StatusCodes.Status403Forbidden);
            case SandboxFaultKind.GlobalQps:
                throw new SandboxRequestException(90002, "Forbidden.AccessDenied.QpsLimitForApi",
                    "服务器已经停止了对所有请求的服务，请稍后再试", StatusCodes.Status403Forbidden);
            case SandboxFaultKind.MonthlyQuota:
                throw new SandboxRequestException(90020, "Forbidden.AccessDenied.ApiCountLimitForOrg",
                    "当月调用量已超过上限", StatusCodes.Status403Forbidden);
            case SandboxFaultKind.Transient:
                throw new SandboxRequestException(-1, "systemError", "系统繁忙", StatusCodes.Status500InternalServerError);
        }
    }

    private static string NewRequestId() => Guid.NewGuid().ToString("N")[..16];

    // ---- parameter readers: DingTalk accepts numbers and numeric strings alike ----

    public static long RequireLong(JsonObject body, string name) =>
        OptionalLong(body, name) ?? throw new SandboxRequestException(40035, "invalidParameter", $"不合法的参数: 缺少 {name}");

    public static long? OptionalLong(JsonObject body, string name)
    {
        var node = body[name];
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue value && value.TryGetValue<long>(out var number))
        {
            return number;
        }

        return long.TryParse(node.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw new SandboxRequestException(40035, "invalidParameter", $"不合法的参数: {name}");
    }

    public static string RequireString(JsonObject body, string name) =>
        body[name]?.ToString() is { Length: > 0 } s
            ? s
            : throw new SandboxRequestException(40035, "invalidParameter", $"不合法的参数: 缺少 {name}");

    /// <summary>page_size within 1..max and page_no from 1, as the edu APIs demand.</summary>
    public static (int PageNo, int PageSize) EduPaging(JsonObject body)
    {
        var pageSize = RequireLong(body, "page_size");
        var pageNo = RequireLong(body, "page_no");
        if (pageSize is < 1 or > 30 || pageNo < 1)
        {
            throw new SandboxRequestException(40035, "invalidParameter", "不合法的参数: page_size 1~30, page_no 从1开始");
        }

        return ((int)pageNo, (int)pageSize);
    }
}
