using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace EduDing.DingTalk.Stream;

public sealed class DingTalkStreamOptions
{
    public TimeSpan InitialReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>WebSocket ping interval; a connection whose pong does not come back is dropped and replaced.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(60);

    public string UserAgent { get; set; } = "eduding-stream/1.0";

    /// <summary>
    /// Told of every failed attempt to connect (e.g. DingTalk's 20001 when the month's pushes ran out, contract §12), so
    /// the service can fall back to reconciling; retrying goes on regardless.
    /// </summary>
    public Func<Exception, Task>? OnConnectFailed { get; set; }
}

/// <summary>
/// Stream mode (§9): registers at the gateway for a fresh single-use ticket every time it connects, receives frames,
/// hands EVENT frames to the handler and ACKs with its SUCCESS or LATER, answers ping with the same opaque data, and on
/// a disconnect notice opens the replacement connection before closing the old one. Failed connections are retried
/// with exponential backoff and jitter, reset once a connection works.
/// </summary>
public sealed class DingTalkStreamClient(DingTalkClient client, DingTalkApp app, DingTalkStreamOptions options,
    ILogger<DingTalkStreamClient> log)
{
    private int _connectionsOpened;

    /// <summary>How many connections (tickets) this client opened; each ticket is used once.</summary>
    public int ConnectionsOpened => _connectionsOpened;

    /// <summary>Runs until <paramref name="ct"/> is cancelled; the handler runs for one event at a time per connection.</summary>
    public async Task RunAsync(Func<StreamEvent, CancellationToken, Task<StreamAck>> handler, CancellationToken ct)
    {
        var failures = 0;
        StreamConnection? current = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (current is null)
                {
                    try
                    {
                        current = await ConnectAsync(handler, ct);
                        failures = 0;
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested)
                    {
                        var delay = Backoff(failures++);
                        log.LogWarning(ex is DingTalkException ? null : ex, "Stream connection for {App} failed ({Reason}); retrying in {Delay}",
                            app, ex.Message, delay);
                        if (options.OnConnectFailed is { } onFailed)
                        {
                            await onFailed(ex);
                        }

                        await Task.Delay(delay, ct);
                        continue;
                    }
                }

                var ended = await Task.WhenAny(current.DisconnectRequested, current.Completion);
                if (ended == current.DisconnectRequested && !current.Completion.IsCompleted)
                {
                    log.LogInformation("DingTalk asked {App} to reconnect; opening the new connection first", app);
                    var old = current;
                    current = null;
                    while (current is null && !ct.IsCancellationRequested)
                    {
                        try
                        {
                            current = await ConnectAsync(handler, ct);
                        }
                        catch (Exception ex) when (!ct.IsCancellationRequested)
                        {
                            var delay = Backoff(failures++);
                            log.LogWarning(ex is DingTalkException ? null : ex, "Replacement stream connection for {App} failed ({Reason}); retrying in {Delay}",
                                app, ex.Message, delay);
                            if (options.OnConnectFailed is { } onFailed)
                            {
                                await onFailed(ex);
                            }

                            await Task.Delay(delay, ct);
                        }
                    }

                    failures = 0;
                    await old.CloseAsync();
                }
                else
                {
                    await current.CloseAsync();
                    current = null;
                    if (!ct.IsCancellationRequested)
                    {
                        var delay = Backoff(failures++);
                        log.LogInformation("Stream connection for {App} closed; reconnecting in {Delay}", app, delay);
                        await Task.Delay(delay, ct);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            if (current is not null)
            {
                await current.CloseAsync();
            }
        }
    }

    private async Task<StreamConnection> ConnectAsync(Func<StreamEvent, CancellationToken, Task<StreamAck>> handler,
        CancellationToken ct)
    {
        var opened = await client.CallWithoutTokenAsync<OpenConnectionResponse>(app, DingTalkApis.OpenStreamConnection,
            new OpenConnectionRequest(app.AppKey, app.AppSecret,
                [new StreamSubscription("EVENT", "*"), new StreamSubscription("SYSTEM", "*")], options.UserAgent), ct);
        Interlocked.Increment(ref _connectionsOpened);

        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = options.KeepAliveInterval;
        socket.Options.KeepAliveTimeout = options.KeepAliveInterval;
        var separator = opened.Endpoint.Contains('?') ? '&' : '?';
        await socket.ConnectAsync(new Uri($"{opened.Endpoint}{separator}ticket={Uri.EscapeDataString(opened.Ticket)}"), ct);
        log.LogInformation("Stream connected for {App}", app);
        return new StreamConnection(socket, handler, app, log, ct);
    }

    private TimeSpan Backoff(int failures)
    {
        var delay = options.InitialReconnectDelay * Math.Pow(2, Math.Min(failures, 16));
        if (delay > options.MaxReconnectDelay)
        {
            delay = options.MaxReconnectDelay;
        }

        return delay * (0.8 + Random.Shared.NextDouble() * 0.4);
    }

    /// <summary>One WebSocket: its receive loop, replies serialized on one send lock.</summary>
    private sealed class StreamConnection
    {
        private readonly ClientWebSocket _socket;
        private readonly Func<StreamEvent, CancellationToken, Task<StreamAck>> _handler;
        private readonly DingTalkApp _app;
        private readonly ILogger _log;
        private readonly SemaphoreSlim _sendLock = new(1, 1);
        private readonly CancellationTokenSource _stop;
        private readonly TaskCompletionSource _disconnect = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public StreamConnection(ClientWebSocket socket, Func<StreamEvent, CancellationToken, Task<StreamAck>> handler,
            DingTalkApp app, ILogger log, CancellationToken ct)
        {
            _socket = socket;
            _handler = handler;
            _app = app;
            _log = log;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            Completion = Task.Run(ReceiveLoopAsync);
        }

        public Task Completion { get; }

        public Task DisconnectRequested => _disconnect.Task;

        public async Task CloseAsync()
        {
            try
            {
                if (_socket.State == WebSocketState.Open)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "replaced", timeout.Token);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
            }

            await _stop.CancelAsync();
            try
            {
                await Completion;
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }

            _socket.Dispose();
        }

        private async Task ReceiveLoopAsync()
        {
            var buffer = new byte[64 * 1024];
            var message = new MemoryStream();
            var ct = _stop.Token;
            try
            {
                while (!ct.IsCancellationRequested && _socket.State is WebSocketState.Open or WebSocketState.CloseSent)
                {
                    var result = await _socket.ReceiveAsync(buffer, ct);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    message.Write(buffer, 0, result.Count);
                    if (!result.EndOfMessage)
                    {
                        continue;
                    }

                    var text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
                    message.SetLength(0);
                    await HandleFrameAsync(text, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            catch (WebSocketException ex)
            {
                _log.LogWarning(ex, "Stream connection for {App} broke", _app);
            }
        }

        private async Task HandleFrameAsync(string text, CancellationToken ct)
        {
            StreamFrame? frame;
            try
            {
                frame = JsonSerializer.Deserialize<StreamFrame>(text, StreamJson.Options);
            }
            catch (JsonException ex)
            {
                _log.LogWarning(ex, "Unreadable stream frame ignored");
                return;
            }

            if (frame is null)
            {
                return;
            }

            var messageId = frame.Header("messageId") ?? "";
            switch (frame.Type)
            {
                case "SYSTEM" when frame.Header("topic") == "ping":
                    await ReplyAsync(messageId, frame.Data, ct);
                    break;
                case "SYSTEM" when frame.Header("topic") == "disconnect":
                    _disconnect.TrySetResult();
                    break;
                case "EVENT":
                    var streamEvent = new StreamEvent(
                        frame.Header("eventId") ?? messageId,
                        frame.Header("eventType") ?? "",
                        frame.Header("eventCorpId") ?? "",
                        long.TryParse(frame.Header("eventBornTime"), out var born) ? born : 0,
                        frame.Data ?? "{}",
                        messageId);
                    StreamAck ack;
                    try
                    {
                        ack = await _handler(streamEvent, ct);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        _log.LogError(ex, "Stream event {EventId} ({EventType}) failed; asking for redelivery",
                            streamEvent.EventId, streamEvent.EventType);
                        ack = StreamAck.Later;
                    }

                    await ReplyAsync(messageId, StreamJson.AckData(ack), ct);
                    break;
                case "CALLBACK":
                    await ReplyAsync(messageId, "{\"response\":null}", ct);
                    break;
            }
        }

        private async Task ReplyAsync(string messageId, string? data, CancellationToken ct)
        {
            var reply = JsonSerializer.SerializeToUtf8Bytes(new StreamAckFrame(200,
                new Dictionary<string, string> { ["messageId"] = messageId, ["contentType"] = "application/json" },
                "OK", data), StreamJson.Options);
            await _sendLock.WaitAsync(ct);
            try
            {
                if (_socket.State == WebSocketState.Open)
                {
                    await _socket.SendAsync(reply, WebSocketMessageType.Text, true, ct);
                }
            }
            finally
            {
                _sendLock.Release();
            }
        }
    }
}
