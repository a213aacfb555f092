using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using EduDing.DingTalk.Callbacks;
using EduDing.DingTalk.Sandbox.Model;
using EduDing.DingTalk.Sandbox.Runtime;

namespace EduDing.DingTalk.Sandbox.Events;

/// <summary>
/// HTTP push as DingTalk does it (§7): the event encrypted with the app's key and owner key (the AppKey), posted with
/// both signature query names; a push counts only when the reply is the signed, encrypted "success". A failed push is
/// retried after 10 s and 30 s, then kept for get_call_back_failed_result, which hands each event out once.
/// </summary>
public sealed class HttpPushDelivery : IAsyncDisposable
{
    private readonly SandboxOptions _options;
    private readonly TimeProvider _time;
    private readonly SandboxCounters _counters;
    private readonly ILogger _log;
    private readonly HttpClient _http;
    private readonly Channel<(SandboxCorp Corp, SandboxEvent Event, int Attempt)> _queue =
        Channel.CreateUnbounded<(SandboxCorp, SandboxEvent, int)>();
    private readonly Dictionary<string, List<SandboxEvent>> _failed = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private readonly System.Collections.Concurrent.ConcurrentQueue<double> _latencies = new();
    private int _inFlight;

    // A long-running sandbox (the demo) keeps the latest pushes' timings only.
    private const int MaxLatenciesKept = 100_000;

    // handler: where pushes go; null for the network (tests pass an in-memory server's handler).
    public HttpPushDelivery(SandboxOptions options, TimeProvider time, SandboxCounters counters, ILogger log,
        HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = TimeSpan.FromSeconds(5);
        _options = options;
        _time = time;
        _counters = counters;
        _log = log;
        // DingTalk pushes many events at once; a few pushers would make a slow receiver look fast and cap a burst.
        _workers = Enumerable.Range(0, 64).Select(_ => Task.Run(WorkAsync)).ToArray();
    }

    /// <summary>
    /// How long each push took to be answered, in milliseconds, oldest first (what DingTalk holds against its 1.5 s
    /// deadline, §7d); read by benchmarks, cleared by <see cref="TakeLatencies"/>.
    /// </summary>
    public IReadOnlyList<double> TakeLatencies()
    {
        var taken = new List<double>();
        while (_latencies.TryDequeue(out var ms))
        {
            taken.Add(ms);
        }

        return taken;
    }

    /// <summary>Events queued, being pushed or waiting for a retry.</summary>
    public int Pending => Volatile.Read(ref _inFlight);

    public void Enqueue(SandboxCorp corp, SandboxEvent ev)
    {
        Interlocked.Increment(ref _inFlight);
        _queue.Writer.TryWrite((corp, ev, 0));
    }

    /// <summary>As the console does when a URL is saved: sends check_url and requires the encrypted success.</summary>
    public async Task VerifyUrlAsync(SandboxCorp corp, Uri url, CancellationToken ct)
    {
        var check = new JsonObject { ["EventType"] = "check_url" };
        if (!await PostAsync(corp, url, check.ToJsonString(), ct))
        {
            throw new SandboxRequestException(900011, "CheckUrlFailed", "HTTP请求结果校验返回字段值失败");
        }
    }

    /// <summary>Up to 200 failed events of the corp, removed as they are returned.</summary>
    public (IReadOnlyList<SandboxEvent> Events, bool HasMore) TakeFailed(string corpId)
    {
        lock (_failed)
        {
            if (!_failed.TryGetValue(corpId, out var list) || list.Count == 0)
            {
                return ([], false);
            }

            var taken = list.Take(200).ToList();
            list.RemoveRange(0, taken.Count);
            return (taken, list.Count > 0);
        }
    }

    public int FailedCount(string corpId)
    {
        lock (_failed)
        {
            return _failed.TryGetValue(corpId, out var list) ? list.Count : 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_workers);
        }
        catch (OperationCanceledException)
        {
        }

        _http.Dispose();
    }

    private async Task WorkAsync()
    {
        var ct = _stop.Token;
        try
        {
            await foreach (var (corp, ev, attempt) in _queue.Reader.ReadAllAsync(ct))
            {
                await PushOnceAsync(corp, ev, attempt, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task PushOnceAsync(SandboxCorp corp, SandboxEvent ev, int attempt, CancellationToken ct)
    {
        _counters.Increment("push.attempts");
        var url = corp.CallbackUrl;
        var delivered = url is not null
                        && Random.Shared.NextDouble() >= _options.PushFailureRate
                        && await PostAsync(corp, url, ev.HttpPayload().ToJsonString(), ct);
        if (delivered)
        {
            _counters.Increment("push.delivered");
            if (Random.Shared.NextDouble() < _options.PushDuplicateRate)
            {
                _counters.Increment("push.duplicates");
                await PostAsync(corp, url!, ev.HttpPayload().ToJsonString(), ct);
            }

            Interlocked.Decrement(ref _inFlight);
            return;
        }

        _counters.Increment("push.failures");
        var delays = _options.PushRetryDelays;
        if (attempt < delays.Length)
        {
            _ = RetryLaterAsync(corp, ev, attempt + 1, delays[attempt], ct);
            return;
        }

        lock (_failed)
        {
            if (!_failed.TryGetValue(corp.CorpId, out var list))
            {
                _failed[corp.CorpId] = list = [];
            }

            list.Add(ev);
        }

        _counters.Increment("push.failed_listed");
        Interlocked.Decrement(ref _inFlight);
    }

    private async Task RetryLaterAsync(SandboxCorp corp, SandboxEvent ev, int attempt, TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, _time, ct);
            _queue.Writer.TryWrite((corp, ev, attempt));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<bool> PostAsync(SandboxCorp corp, Uri url, string payload, CancellationToken ct)
    {
        var crypto = new DingTalkCallbackCrypto(corp.CallbackToken, corp.CallbackAesKey, corp.AppKey);
        var timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var nonce = DingTalkCallbackCrypto.NewNonce()[..8];
        var encrypt = crypto.Encrypt(payload);
        var signature = crypto.Sign(timestamp, nonce, encrypt);
        var separator = url.Query.Length > 0 ? '&' : '?';
        var target = new Uri($"{url}{separator}signature={signature}&msg_signature={signature}&timestamp={timestamp}&nonce={nonce}");
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            using var response = await _http.PostAsJsonAsync(target, new { encrypt }, ct);
            _latencies.Enqueue(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (_latencies.Count > MaxLatenciesKept)
            {
                _latencies.TryDequeue(out _);
            }

            if (!response.IsSuccessStatusCode)
            {
                return false;
            }

            var reply = await response.Content.ReadFromJsonAsync<EncryptedReply>(ct);
            return reply is not null &&
                   crypto.Decrypt(reply.MsgSignature, reply.TimeStamp, reply.Nonce, reply.Encrypt) == "success";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException
                                       or DingTalkCallbackException or NotSupportedException)
        {
            _log.LogDebug(ex, "Push to {Url} failed", url);
            return false;
        }
    }
}
