using System.Text.Json;
using System.Text.Json.Nodes;
using EduDing.DingTalk.Callbacks;

namespace EduDing.Api.Features.DingTalk;

/// <summary>
/// DingTalk's HTTP push (contract §7): verify the signature, decrypt, check the owner key, store the event in the inbox
/// and answer the encrypted "success" at once; the event is applied later by a worker. check_url is answered the same
/// way. This is the one endpoint that answers in DingTalk's envelope rather than problem details on success.
/// </summary>
internal static class CallbackEndpoints
{
    private sealed record PushBody(string? Encrypt);

    public static IEndpointRouteBuilder MapDingTalkCallbackEndpoints(this IEndpointRouteBuilder app)
    {
        // No bearer token: DingTalk proves itself with the signature, checked before anything is stored.
        app.MapPost("/api/dingtalk/callback/{corpId}", ReceiveAsync)
            .AllowAnonymous()
            .ExcludeFromDescription()
            .WithName("DingTalk_Callback");
        return app;
    }

    private static async Task<IResult> ReceiveAsync(string corpId, HttpRequest request, CorpDirectory corps, EventInbox inbox,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var corp = corps.Find(corpId);
        if (corp is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found",
                detail: $"Corp {corpId} is not served by this deployment.");
        }

        if (corp.CallbackAesKey.Length != 43)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "HTTP delivery is not configured",
                detail: $"Corp {corpId} has no callback token and AES key (DingTalk:Corps:*:CallbackAesKey).");
        }

        var query = request.Query;
        var signature = First(query["msg_signature"], query["signature"]);
        var timestamp = First(query["timestamp"], query["timeStamp"]);
        var nonce = query["nonce"].ToString();
        PushBody? body;
        try
        {
            body = await request.ReadFromJsonAsync<PushBody>(JsonSerializerOptions.Web, ct);
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body?.Encrypt is not { Length: > 0 } || signature.Length == 0 || timestamp.Length == 0 || nonce.Length == 0)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]>
            {
                ["encrypt"] = ["A push carries {\"encrypt\": \"…\"} and the query values msg_signature (or signature), timestamp and nonce."],
            });
        }

        var crypto = corp.Crypto();
        string plaintext;
        try
        {
            plaintext = crypto.Decrypt(signature, timestamp, nonce, body.Encrypt);
        }
        catch (DingTalkCallbackException ex)
        {
            loggers.CreateLogger(typeof(CallbackEndpoints)).LogWarning("Rejected a push for {CorpId}: {Code} {Reason}", corpId, ex.Code, ex.Message);
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "The push failed verification",
                detail: $"{ex.Code}: {ex.Message}");
        }

        var payload = TryParse(plaintext);
        var eventType = payload?["EventType"]?.ToString() ?? payload?["eventType"]?.ToString() ?? "";
        if (eventType != "check_url")
        {
            await inbox.TryAddAsync(corp.CorpId, EventInbox.KeyFor(payload?["eventId"]?.ToString(), eventType, plaintext),
                eventType, plaintext, "http", ct);
        }

        return Results.Json(crypto.CreateSuccessReply(timestamp, nonce));
    }

    private static string First(Microsoft.Extensions.Primitives.StringValues a, Microsoft.Extensions.Primitives.StringValues b) =>
        a.Count > 0 && a[0] is { Length: > 0 } s ? s : b.ToString();

    private static JsonObject? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
