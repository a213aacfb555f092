using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using EduDing.DingTalk.Callbacks;
using EduDing.DingTalk.Sandbox.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EduDing.DingTalk.Tests.Infrastructure;

/// <summary>A callback URL on loopback that verifies, decrypts and answers pushes as a DingTalk app must.</summary>
public sealed class CallbackReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresLeft;

    private CallbackReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<JsonObject> Received { get; } = new();

    public ConcurrentQueue<IQueryCollection> Queries { get; } = new();

    public Uri Url { get; private set; } = null!;

    /// <summary>The next <paramref name="count"/> pushes get HTTP 503.</summary>
    public void FailNext(int count) => Volatile.Write(ref _failuresLeft, count);

    public bool Down { get; set; }

    public static async Task<CallbackReceiver> StartAsync(SandboxCorp corp)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new CallbackReceiver(app);
        var crypto = new DingTalkCallbackCrypto(corp.CallbackToken, corp.CallbackAesKey, corp.AppKey);
        app.MapPost("/callback", async (HttpContext context) =>
        {
            if (receiver.Down || Interlocked.Decrement(ref receiver._failuresLeft) >= 0)
            {
                return Results.StatusCode(503);
            }

            var body = await context.Request.ReadFromJsonAsync<JsonObject>();
            var query = context.Request.Query;
            var plaintext = crypto.Decrypt(query["msg_signature"].FirstOrDefault() ?? query["signature"].ToString(),
                query["timestamp"].ToString(), query["nonce"].ToString(), body!["encrypt"]!.ToString());
            receiver.Queries.Enqueue(query);
            receiver.Received.Enqueue(JsonNode.Parse(plaintext)!.AsObject());
            return Results.Json(crypto.CreateSuccessReply(query["timestamp"].ToString(), query["nonce"].ToString()));
        });
        await app.StartAsync();
        receiver.Url = new Uri(app.Urls.First() + "/callback");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
