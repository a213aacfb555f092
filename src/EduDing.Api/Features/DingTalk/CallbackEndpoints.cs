using System.Text.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Hosting;
using EduDing.DingTalk.Callbacks;

namespace EduDing.Api.Features.DingTalk;

/// <summary>
/// DingTalk's HTTP push (contract §7): verify the signature, decrypt, check the owner key, store the event in the inbox
/// and answer the encrypted "success" at once; the event is applied later by a worker. check_url is answered the same
/// way. This is the one endpoint that answers in DingTalk's envelope rather than problem details on success.
/// </summary>
internal static class CallbackEndpoints
{
    public static IEndpointRouteBuilder MapDingTalkCallbackEndpoints(this IEndpointRouteBuilder app)
    {
        // No bearer token: DingTalk proves itself with the signature, checked before anything is stored.
        app.MapPost("/api/dingtalk/callback/{corpId}", ReceiveAsync)
            .RequireAudience(Audience.Anonymous)
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
        var encrypted = await ReadEncryptAsync(request, ct);
        if (encrypted is null || signature.Length == 0 || timestamp.Length == 0 || nonce.Length == 0)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]>
            {
                ["encrypt"] = ["A push is a JSON body {\"encrypt\": \"…\"} (at most 1 MiB) with the query values msg_signature (or signature), timestamp and nonce."],
            });
        }

        var crypto = corp.Crypto();
        string plaintext;
        try
        {
            plaintext = crypto.Decrypt(signature, timestamp, nonce, encrypted);
        }
        catch (DingTalkCallbackException ex)
        {
            loggers.CreateLogger(typeof(CallbackEndpoints)).LogWarning("Rejected a push for {CorpId}: {Code} {Reason}", corpId, ex.Code, ex.Message);
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "The push failed verification",
                detail: $"{ex.Code}: {ex.Message}");
        }

        var payload = TryParse(plaintext);
        var eventType = (payload?["EventType"] ?? payload?["eventType"]) is JsonValue type && type.TryGetValue<string>(out var t)
            ? t.Trim()
            : "";
        if (eventType.Length == 0)
        {
            loggers.CreateLogger(typeof(CallbackEndpoints)).LogWarning(
                "Rejected a verified push for {CorpId}: its content is not a JSON object with an EventType", corpId);
            return Results.ValidationProblem(new Dictionary<string, string[]>
            {
                ["encrypt"] = ["The decrypted content must be a JSON object with an EventType; nothing was stored."],
            });
        }

        if (eventType != "check_url")
        {
            await inbox.TryAddAsync(corp.CorpId, EventInbox.KeyFor(payload!["eventId"]?.ToString(), eventType, plaintext),
                eventType, plaintext, EventSource.Http, ct);
        }

        return Results.Json(crypto.CreateSuccessReply(timestamp, nonce));
    }

    private const int MaxBodyBytes = 1 << 20;

    /// <summary>
    /// The push's "encrypt" value, whatever content type was declared (DingTalk sends JSON; anything else that does not
    /// hold that JSON is refused as a 400, never a 500). Null when the body is missing, too large or not that shape.
    /// </summary>
    private static async Task<string?> ReadEncryptAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            return JsonNode.Parse(buffer.ToArray()) is JsonObject body && body["encrypt"] is JsonValue value &&
                   value.TryGetValue<string>(out var encrypt) && encrypt.Length > 0
                ? encrypt
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
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
