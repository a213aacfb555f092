using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using EduDing.DingTalk.Sandbox.Model;
using EduDing.DingTalk.Sandbox.Runtime;

namespace EduDing.DingTalk.Sandbox.Events;

/// <summary>
/// Stream mode's server side (§9): single-use tickets valid 90 s, EVENT frames to one random connection of the app,
/// redelivery when the ACK is LATER or does not come, injected duplicates, pings, and disconnect rotation (a notice,
/// then the socket closed some seconds later).
/// </summary>
public sealed class StreamGateway : IAsyncDisposable
{
    private readonly SandboxOptions _options;
    private readonly TimeProvider _time;
    private readonly SandboxCounters _counters;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, (string AppKey, DateTimeOffset ExpiresAt)> _tickets = new();
    private readonly ConcurrentDictionary<string, AppStream> _apps = new();
    private readonly CancellationTokenSource _stop = new();

    public StreamGateway(SandboxOptions options, TimeProvider time, SandboxCounters counters, ILogger log)
    {
        _options = options;
        _time = time;
        _counters = counters;
        _log = log;
    }

    public string IssueTicket(SandboxCorp corp)
    {
        var ticket = Guid.NewGuid().ToString();
        _tickets[ticket] = (corp.AppKey, _time.GetUtcNow() + _options.StreamTicketLifetime);
        _counters.Increment("stream.tickets");
        return ticket;
    }

    public int OpenConnections(string appKey) => _apps.TryGetValue(appKey, out var app) ? app.Sessions.Count : 0;

    /// <summary>Events not yet ACKed with SUCCESS (queued, in flight, or waiting to be redelivered).</summary>
    public int Pending(string appKey) => _apps.TryGetValue(appKey, out var app) ? app.Pending : 0;

    public void Enqueue(SandboxCorp corp, SandboxEvent ev) => App(corp.AppKey).Enqueue(ev);

    /// <summary>Tells every connection of the app to reconnect, then closes each after the grace period.</summary>
    public void ForceDisconnect(string appKey)
    {
        if (_apps.TryGetValue(appKey, out var app))
        {
            foreach (var session in app.Sessions.Values)
            {
                _ = session.RotateAsync(_options.StreamDisconnectGrace);
            }
        }
    }

    public async Task AcceptAsync(HttpContext context)
    {
        var ticket = context.Request.Query["ticket"].ToString();
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        if (!_tickets.TryRemove(ticket, out var entry) || entry.ExpiresAt <= _time.GetUtcNow())
        {
            _counters.Increment("stream.rejected_tickets");
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var app = App(entry.AppKey);
        var session = new StreamSession(socket, this);
        app.Sessions[session.Id] = session;
        _counters.Increment("stream.connections");
        RecordConcurrency(entry.AppKey, app.Sessions.Count);
        try
        {
            await session.RunAsync(_stop.Token);
        }
        finally
        {
            app.Sessions.TryRemove(session.Id, out _);
            session.FailPending();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var app in _apps.Values)
        {
            await app.DisposeAsync();
        }
    }

    private readonly ConcurrentDictionary<string, int> _maxConcurrent = new();

    /// <summary>The most connections the app had open at once (2 during a rotation done new-before-old).</summary>
    public int MaxConcurrentConnections(string appKey) => _maxConcurrent.GetValueOrDefault(appKey);

    private void RecordConcurrency(string appKey, int open) =>
        _maxConcurrent.AddOrUpdate(appKey, open, (_, max) => Math.Max(max, open));

    private AppStream App(string appKey) => _apps.GetOrAdd(appKey, key => new AppStream(key, this));

    /// <summary>The delivery loop of one app: events in, one ACK-tracked send at a time per event, up to 32 in flight.</summary>
    private sealed class AppStream : IAsyncDisposable
    {
        private readonly StreamGateway _gateway;
        private readonly Channel<SandboxEvent> _queue = Channel.CreateUnbounded<SandboxEvent>();
        private readonly SemaphoreSlim _inFlight = new(32, 32);
        private readonly Task _loop;
        private int _pending;

        public AppStream(string appKey, StreamGateway gateway)
        {
            AppKey = appKey;
            _gateway = gateway;
            _loop = Task.Run(LoopAsync);
        }

        public string AppKey { get; }

        public ConcurrentDictionary<Guid, StreamSession> Sessions { get; } = new();

        public int Pending => Volatile.Read(ref _pending);

        public void Enqueue(SandboxEvent ev)
        {
            Interlocked.Increment(ref _pending);
            _queue.Writer.TryWrite(ev);
        }

        public async ValueTask DisposeAsync()
        {
            _queue.Writer.TryComplete();
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task LoopAsync()
        {
            var ct = _gateway._stop.Token;
            try
            {
                await foreach (var ev in _queue.Reader.ReadAllAsync(ct))
                {
                    await _inFlight.WaitAsync(ct);
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await DeliverAsync(ev, ct);
                        }
                        finally
                        {
                            _inFlight.Release();
                        }
                    }, ct);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task DeliverAsync(SandboxEvent ev, CancellationToken ct)
        {
            var options = _gateway._options;
            var counters = _gateway._counters;
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    var session = PickSession();
                    if (session is null)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(20), ct);
                        continue;
                    }

                    var status = await session.SendEventAsync(ev, options.StreamAckTimeout, ct);
                    if (status == "SUCCESS")
                    {
                        counters.Increment("stream.acked");
                        if (Random.Shared.NextDouble() < options.StreamDuplicateRate && PickSession() is { } again)
                        {
                            counters.Increment("stream.duplicates");
                            await again.SendEventAsync(ev, options.StreamAckTimeout, ct);
                        }

                        Interlocked.Decrement(ref _pending);
                        return;
                    }

                    counters.Increment(status == "LATER" ? "stream.later" : "stream.no_ack");
                    counters.Increment("stream.redeliveries");
                    await Task.Delay(options.StreamRedeliveryDelay, _gateway._time, ct);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private StreamSession? PickSession()
        {
            var open = Sessions.Values.Where(s => s.CanReceive).ToList();
            return open.Count == 0 ? null : open[Random.Shared.Next(open.Count)];
        }
    }

    private sealed class StreamSession(WebSocket socket, StreamGateway gateway)
    {
        private readonly SemaphoreSlim _sendLock = new(1, 1);
        private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _awaitingAck = new();
        private readonly ConcurrentDictionary<string, string> _awaitingPong = new();
        private volatile bool _rotating;

        public Guid Id { get; } = Guid.NewGuid();

        public bool CanReceive => !_rotating && socket.State == WebSocketState.Open;

        public async Task RunAsync(CancellationToken ct)
        {
            using var sessionStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var background = Task.WhenAll(PingLoopAsync(sessionStop.Token), RotationLoopAsync(sessionStop.Token));
            var buffer = new byte[64 * 1024];
            using var message = new MemoryStream();
            try
            {
                while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
                {
                    var result = await socket.ReceiveAsync(buffer, sessionStop.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        if (socket.State == WebSocketState.CloseReceived)
                        {
                            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                        }

                        break;
                    }

                    message.Write(buffer, 0, result.Count);
                    if (result.EndOfMessage)
                    {
                        OnReply(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length));
                        message.SetLength(0);
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
            finally
            {
                await sessionStop.CancelAsync();
                try
                {
                    await background;
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        /// <summary>Sends the EVENT frame and waits for its ACK: "SUCCESS", "LATER", or "NONE" when none came.</summary>
        public async Task<string> SendEventAsync(SandboxEvent ev, TimeSpan ackTimeout, CancellationToken ct)
        {
            var messageId = Guid.NewGuid().ToString("N");
            var ack = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _awaitingAck[messageId] = ack;
            var frame = new JsonObject
            {
                ["specVersion"] = "1.0",
                ["type"] = "EVENT",
                ["headers"] = new JsonObject
                {
                    ["topic"] = "*",
                    ["messageId"] = messageId,
                    ["contentType"] = "application/json",
                    ["time"] = Now(),
                    ["eventType"] = ev.EventType,
                    ["eventId"] = ev.EventId,
                    ["eventCorpId"] = ev.CorpId,
                    ["eventBornTime"] = ev.BornTime.ToString(CultureInfo.InvariantCulture),
                    ["eventUnifiedAppId"] = "sandbox",
                },
                ["data"] = ev.StreamData.ToJsonString(),
            };
            try
            {
                if (!await SendAsync(frame, ct))
                {
                    return "NONE";
                }

                gateway._counters.Increment("stream.sent");
                var done = await Task.WhenAny(ack.Task, Task.Delay(ackTimeout, gateway._time, ct));
                return done == ack.Task ? ack.Task.Result : "NONE";
            }
            finally
            {
                _awaitingAck.TryRemove(messageId, out _);
            }
        }

        public async Task RotateAsync(TimeSpan grace)
        {
            if (_rotating)
            {
                return;
            }

            _rotating = true;
            gateway._counters.Increment("stream.disconnect_notices");
            await SendAsync(new JsonObject
            {
                ["specVersion"] = "1.0",
                ["type"] = "SYSTEM",
                ["headers"] = new JsonObject { ["topic"] = "disconnect", ["contentType"] = "application/json", ["time"] = Now() },
                ["data"] = "{\"reason\":\"connection is expired\"}",
            }, CancellationToken.None);
            try
            {
                await Task.Delay(grace, gateway._time, gateway._stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            try
            {
                if (socket.State == WebSocketState.Open)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "rotated", CancellationToken.None);
                }
            }
            catch (WebSocketException)
            {
            }
        }

        public void FailPending()
        {
            foreach (var waiting in _awaitingAck.Values)
            {
                waiting.TrySetResult("NONE");
            }
        }

        private void OnReply(string text)
        {
            try
            {
                var reply = JsonNode.Parse(text) as JsonObject;
                var messageId = reply?["headers"]?["messageId"]?.ToString();
                if (messageId is null)
                {
                    return;
                }

                var data = reply?["data"]?.ToString();
                if (_awaitingPong.TryRemove(messageId, out var opaque))
                {
                    gateway._counters.Increment(data == opaque ? "stream.pongs" : "stream.bad_pongs");
                    return;
                }

                if (_awaitingAck.TryGetValue(messageId, out var ack))
                {
                    var status = data is null ? null : (JsonNode.Parse(data) as JsonObject)?["status"]?.ToString();
                    ack.TrySetResult(status == "SUCCESS" ? "SUCCESS" : "LATER");
                }
            }
            catch (JsonException)
            {
                gateway._counters.Increment("stream.bad_replies");
            }
        }

        private async Task PingLoopAsync(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(gateway._options.StreamPingInterval, gateway._time, ct);
                var messageId = Guid.NewGuid().ToString("N");
                var opaque = JsonSerializer.Serialize(new { opaque = Convert.ToHexString(RandomNumberGenerator.GetBytes(6)) });
                _awaitingPong[messageId] = opaque;
                await SendAsync(new JsonObject
                {
                    ["specVersion"] = "1.0",
                    ["type"] = "SYSTEM",
                    ["headers"] = new JsonObject
                    {
                        ["topic"] = "ping", ["messageId"] = messageId, ["contentType"] = "application/json", ["time"] = Now(),
                    },
                    ["data"] = opaque,
                }, ct);
                gateway._counters.Increment("stream.pings");
            }
        }

        private async Task RotationLoopAsync(CancellationToken ct)
        {
            if (gateway._options.StreamRotationInterval is not { } interval)
            {
                return;
            }

            await Task.Delay(interval, gateway._time, ct);
            await RotateAsync(gateway._options.StreamDisconnectGrace);
        }

        private async Task<bool> SendAsync(JsonObject frame, CancellationToken ct)
        {
            var bytes = Encoding.UTF8.GetBytes(frame.ToJsonString());
            await _sendLock.WaitAsync(ct);
            try
            {
                if (socket.State != WebSocketState.Open)
                {
                    return false;
                }

                await socket.SendAsync(bytes, WebSocketMessageType.Text, true, ct);
                return true;
            }
            catch (WebSocketException)
            {
                return false;
            }
            finally
            {
                _sendLock.Release();
            }
        }

        private string Now() => gateway._time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
    }
}
