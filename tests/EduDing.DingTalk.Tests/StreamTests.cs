using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox;
using EduDing.DingTalk.Sandbox.Events;
using EduDing.DingTalk.Stream;
using EduDing.DingTalk.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace EduDing.DingTalk.Tests;

public sealed class StreamFixture : SandboxFixture
{
    protected override SandboxOptions Options()
    {
        var options = base.Options();
        options.StreamPingInterval = TimeSpan.FromMilliseconds(200);
        return options;
    }
}

public sealed class StreamTests(StreamFixture fx) : IClassFixture<StreamFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static async Task<bool> WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    private DingTalkStreamClient NewStreamClient(DingTalkClient client, Sandbox.Model.SandboxCorp corp) =>
        new(client, corp.App, new DingTalkStreamOptions
        {
            InitialReconnectDelay = TimeSpan.FromMilliseconds(50),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
        }, NullLogger<DingTalkStreamClient>.Instance);

    [Fact]
    public async Task ThousandEvents_AcrossTwoForcedDisconnects_NoneLostAndDuplicatesDetectableById()
    {
        var corp = fx.School;
        fx.Sandbox.Options.StreamDuplicateRate = 0.02;
        using var client = fx.NewClient();
        var stream = NewStreamClient(client, corp);
        var received = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var running = stream.RunAsync((ev, _) =>
        {
            received.AddOrUpdate(ev.EventId, 1, (_, n) => n + 1);
            return Task.FromResult(StreamAck.Success);
        }, stop.Token);
        Assert.True(await WaitUntilAsync(() => fx.Sandbox.Stream.OpenConnections(corp.AppKey) == 1));

        var published = new List<string>();
        var userIds = corp.Users.Keys.ToList();
        for (var i = 0; i < 1000; i++)
        {
            var ev = SandboxEvents.User("user_modify_org", corp, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), userIds[i % userIds.Count]);
            published.Add(ev.EventId);
            fx.Sandbox.Publish([ev]);
            if (i is 333 or 666)
            {
                // Each disconnect must hit a live connection: wait for the replacement of the previous one.
                var opened = stream.ConnectionsOpened;
                fx.Sandbox.Stream.ForceDisconnect(corp.AppKey);
                Assert.True(await WaitUntilAsync(() => stream.ConnectionsOpened > opened), "a replacement connection opened");
            }

            if (i % 50 == 0)
            {
                await Task.Delay(10);
            }
        }

        var allArrived = await WaitUntilAsync(() => published.All(received.ContainsKey) && fx.Sandbox.EventsDrained);
        await stop.CancelAsync();
        await running;
        fx.Sandbox.Options.StreamDuplicateRate = 0;

        Assert.True(allArrived, $"{published.Count(received.ContainsKey)} of 1000 arrived");
        Assert.Equal(1000, received.Count);
        Assert.True(received.Values.Sum() > 1000, "injected duplicates arrived and are recognisable by event id");
        Assert.True(stream.ConnectionsOpened >= 3, $"{stream.ConnectionsOpened} connections: the first and one per disconnect");
        Assert.True(fx.Sandbox.Counters.Get("stream.disconnect_notices") >= 2);
        Assert.True(fx.Sandbox.Stream.MaxConcurrentConnections(corp.AppKey) >= 2,
            "the replacement connection opened before the old one closed");
    }

    [Fact]
    public async Task EventAckedLater_IsDeliveredAgain()
    {
        var corp = fx.Sandbox.World.Schools.Skip(1).First();
        using var client = fx.NewClient();
        var stream = NewStreamClient(client, corp);
        var seen = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var running = stream.RunAsync((ev, _) =>
            Task.FromResult(seen.AddOrUpdate(ev.EventId, 1, (_, n) => n + 1) == 1 ? StreamAck.Later : StreamAck.Success), stop.Token);
        Assert.True(await WaitUntilAsync(() => fx.Sandbox.Stream.OpenConnections(corp.AppKey) == 1));

        var ev = SandboxEvents.Dept("org_dept_modify", corp, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1);
        fx.Sandbox.Publish([ev]);
        var redelivered = await WaitUntilAsync(() => seen.GetValueOrDefault(ev.EventId) >= 2 && fx.Sandbox.Stream.Pending(corp.AppKey) == 0);
        await stop.CancelAsync();
        await running;

        Assert.True(redelivered);
        Assert.True(fx.Sandbox.Counters.Get("stream.later") >= 1);
    }

    [Fact]
    public async Task HandlerThatThrows_AcksLaterAndTheEventComesBack()
    {
        var corp = fx.Sandbox.World.Schools.Skip(2).First();
        using var client = fx.NewClient();
        var stream = NewStreamClient(client, corp);
        var attempts = 0;
        using var stop = new CancellationTokenSource();
        var running = stream.RunAsync((_, _) => Interlocked.Increment(ref attempts) == 1
            ? throw new InvalidOperationException("database down")
            : Task.FromResult(StreamAck.Success), stop.Token);
        Assert.True(await WaitUntilAsync(() => fx.Sandbox.Stream.OpenConnections(corp.AppKey) == 1));

        fx.Sandbox.Publish([SandboxEvents.Dept("org_dept_create", corp, 1, 1)]);
        var done = await WaitUntilAsync(() => Volatile.Read(ref attempts) >= 2 && fx.Sandbox.Stream.Pending(corp.AppKey) == 0);
        await stop.CancelAsync();
        await running;

        Assert.True(done);
    }

    [Fact]
    public async Task Ping_IsAnsweredWithItsOpaqueData()
    {
        var corp = fx.Sandbox.World.Schools.Skip(3).First();
        using var client = fx.NewClient();
        var stream = NewStreamClient(client, corp);
        using var stop = new CancellationTokenSource();
        var pongsBefore = fx.Sandbox.Counters.Get("stream.pongs");
        var running = stream.RunAsync((_, _) => Task.FromResult(StreamAck.Success), stop.Token);

        var ponged = await WaitUntilAsync(() => fx.Sandbox.Counters.Get("stream.pongs") >= pongsBefore + 2);
        await stop.CancelAsync();
        await running;

        Assert.True(ponged);
        Assert.Equal(0, fx.Sandbox.Counters.Get("stream.bad_pongs"));
    }

    [Fact]
    public async Task Ticket_IsSingleUseAndExpires()
    {
        var corp = fx.Bureau;
        using var http = new HttpClient { BaseAddress = fx.Server.BaseUrl };
        async Task<(string Endpoint, string Ticket)> OpenAsync()
        {
            var reply = await http.PostAsJsonAsync("v1.0/gateway/connections/open", new
            {
                clientId = corp.AppKey, clientSecret = corp.AppSecret, subscriptions = new[] { new { type = "EVENT", topic = "*" } },
            });
            var body = await reply.Content.ReadFromJsonAsync<JsonObject>();
            return (body!["endpoint"]!.ToString(), body["ticket"]!.ToString());
        }

        var (endpoint, ticket) = await OpenAsync();
        using var first = new ClientWebSocket();
        await first.ConnectAsync(new Uri($"{endpoint}?ticket={ticket}"), default);
        using var reuse = new ClientWebSocket();
        var reused = await Assert.ThrowsAsync<WebSocketException>(() => reuse.ConnectAsync(new Uri($"{endpoint}?ticket={ticket}"), default));

        fx.Sandbox.Options.StreamTicketLifetime = TimeSpan.FromMilliseconds(100);
        var (_, stale) = await OpenAsync();
        fx.Sandbox.Options.StreamTicketLifetime = TimeSpan.FromSeconds(90);
        await Task.Delay(300);
        using var late = new ClientWebSocket();
        await Assert.ThrowsAsync<WebSocketException>(() => late.ConnectAsync(new Uri($"{endpoint}?ticket={stale}"), default));

        Assert.Equal(WebSocketState.Open, first.State);
        Assert.NotNull(reused);
    }

    [Fact]
    public async Task OpenConnection_WrongSecret_IsAuthFailed()
    {
        using var client = fx.NewClient();
        var stream = new DingTalkStreamClient(client, fx.Bureau.App with { AppSecret = "wrong" },
            new DingTalkStreamOptions { InitialReconnectDelay = TimeSpan.FromMilliseconds(10) }, NullLogger<DingTalkStreamClient>.Instance);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await stream.RunAsync((_, _) => Task.FromResult(StreamAck.Success), stop.Token);

        Assert.Equal(0, stream.ConnectionsOpened);
    }
}
