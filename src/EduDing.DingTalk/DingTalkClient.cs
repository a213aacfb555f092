using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace EduDing.DingTalk;

/// <summary>What one HTTP call to DingTalk came to: "ok", or DingTalk's code. Every attempt is reported, retries too.</summary>
public sealed record DingTalkCall(DingTalkApp App, DingTalkApi Api, string Outcome, TimeSpan Elapsed);

/// <summary>Sees every call made (quota accounting per corp, sync run records, tests).</summary>
public interface IDingTalkCallObserver
{
    void OnCall(DingTalkCall call);
}

/// <summary>
/// The typed DingTalk client, written to ../shared/reference/dingtalk-contract.md. Every call is paced by the
/// per-app per-API limiter, authenticated with the cached token (refreshed and retried once when DingTalk rejects
/// it), and retried within bounds on throttling and transient errors. A monthly-quota refusal is never retried; an
/// IP ban pauses every call for the configured window.
/// </summary>
public sealed partial class DingTalkClient : IDisposable
{
    /// <summary>The name of the meter and the activity source of DingTalk calls (docs/operations.md "Metrics and traces").</summary>
    public const string TelemetryName = "EduDing.DingTalk";

    private static readonly ActivitySource Activities = new(TelemetryName);
    private static readonly Meter Meter = new(TelemetryName);
    private static readonly Counter<long> Calls = Meter.CreateCounter<long>("eduding.dingtalk.calls", "{call}",
        "DingTalk calls by API and outcome (ok, or DingTalk's code); every attempt, retries too.");
    private static readonly Histogram<double> CallDuration = Meter.CreateHistogram<double>("eduding.dingtalk.call.duration", "s",
        "How long DingTalk took to answer one attempt.");
    private static readonly Counter<long> Throttled = Meter.CreateCounter<long>("eduding.dingtalk.throttled", "{call}",
        "Attempts DingTalk refused for its rate limits (app-qps, global-qps) or as busy, by API.");
    private static readonly Histogram<double> PacingWait = Meter.CreateHistogram<double>("eduding.dingtalk.pacing.wait", "s",
        "How long a call waited for our own per-app per-API pacing before it was sent.");

    private readonly DingTalkTransport _transport;
    private readonly AccessTokenCache _tokens;
    private readonly DingTalkRateLimits _limits;
    private readonly DingTalkClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly IReadOnlyList<IDingTalkCallObserver> _observers;
    private readonly ResiliencePipeline _retry;
    private readonly IAccessTokenSource _tokenSource;

    public DingTalkClient(IHttpClientFactory httpClients, IOptions<DingTalkClientOptions> options, TimeProvider time,
        ILoggerFactory loggers, IEnumerable<IDingTalkCallObserver> observers, IAccessTokenSource tokenSource)
        : this(() => httpClients.CreateClient(HttpClientName), options, time, loggers, observers, tokenSource)
    {
    }

    private DingTalkClient(Func<HttpClient> http, IOptions<DingTalkClientOptions> options, TimeProvider time,
        ILoggerFactory loggers, IEnumerable<IDingTalkCallObserver> observers, IAccessTokenSource? tokenSource = null)
    {
        _tokenSource = tokenSource ?? new InternalAppTokenSource();
        _options = options.Value;
        _time = time;
        _log = loggers.CreateLogger<DingTalkClient>();
        _observers = observers.ToList();
        _transport = new DingTalkTransport(http, options);
        _tokens = new AccessTokenCache(FetchTokenAsync, options, time, loggers.CreateLogger<AccessTokenCache>());
        _limits = new DingTalkRateLimits(options, time);
        _retry = BuildRetryPipeline();
    }

    public const string HttpClientName = "DingTalk";

    /// <summary>A client over one HttpClient, for tools and tests that do without dependency injection.</summary>
    public static DingTalkClient Create(HttpClient http, DingTalkClientOptions options, TimeProvider? time = null,
        ILoggerFactory? loggers = null, params IDingTalkCallObserver[] observers) =>
        new(() => http, Options.Create(options), time ?? TimeProvider.System, loggers ?? NullLoggerFactory.Instance,
            observers);

    /// <summary>When calls are paused by an IP ban, until when; otherwise null.</summary>
    public DateTimeOffset? IpBannedUntil => _limits.IpBannedUntil;

    internal AccessTokenCache Tokens => _tokens;

    public void Dispose() => _limits.Dispose();

    /// <summary>Sends one authenticated call, with pacing, the token retry and the bounded retries, within the call deadline.</summary>
    internal async Task<T> CallAsync<T>(DingTalkApp app, DingTalkApi api, object? body, CancellationToken ct,
        IReadOnlyDictionary<string, string>? query = null)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_options.CallDeadline);
        try
        {
            return await _retry.ExecuteAsync(async token =>
            {
                var accessToken = await _tokens.GetAsync(app, token);
                try
                {
                    return await SendOnceAsync<T>(app, api, accessToken, body, query, token);
                }
                catch (DingTalkException ex) when (ex.Kind == DingTalkErrorKind.Authentication)
                {
                    _log.LogInformation("DingTalk rejected the access token of {App} ({Code}); fetching a new one", app, ex.Code);
                    _tokens.Invalidate(app, accessToken);
                    accessToken = await _tokens.GetAsync(app, token);
                    return await SendOnceAsync<T>(app, api, accessToken, body, query, token);
                }
            }, deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw DeadlinePassed(api);
        }
    }

    private TimeoutException DeadlinePassed(DingTalkApi api) =>
        new($"DingTalk {api} did not answer within the call deadline of {_options.CallDeadline.TotalSeconds:0} s (retries included).");

    private async Task<AccessTokenCache.AccessTokenResponse> FetchTokenAsync(DingTalkApp app, CancellationToken ct)
    {
        var (api, body) = await _tokenSource.TokenRequestAsync(app, ct);
        return await SendOnceAsync<AccessTokenCache.AccessTokenResponse>(app, api, null, body, null, ct);
    }

    /// <summary>A call made with the app's credentials instead of a token (the Stream gateway).</summary>
    internal async Task<T> CallWithoutTokenAsync<T>(DingTalkApp app, DingTalkApi api, object body, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_options.CallDeadline);
        try
        {
            return await _retry.ExecuteAsync(token => new ValueTask<T>(SendOnceAsync<T>(app, api, null, body, null, token)),
                deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw DeadlinePassed(api);
        }
    }

    private async Task<T> SendOnceAsync<T>(DingTalkApp app, DingTalkApi api, string? accessToken, object? body,
        IReadOnlyDictionary<string, string>? query, CancellationToken ct)
    {
        if (_limits.IpBannedUntil is { } pausedUntil)
        {
            throw new DingTalkIpBannedException(api.Name, pausedUntil, "Not called.");
        }

        var waiting = Stopwatch.GetTimestamp();
        await _limits.WaitForCallSlotAsync(app, api, ct);
        PacingWait.Record(Stopwatch.GetElapsedTime(waiting).TotalSeconds, new KeyValuePair<string, object?>("api", api.Name));
        using var activity = Activities.StartActivity($"DingTalk {api.Name}", ActivityKind.Client);
        activity?.SetTag("dingtalk.api", api.Name);
        activity?.SetTag("dingtalk.corp_id", app.CorpId);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await _transport.SendAsync<T>(app, api, accessToken, body, ct, query);
            Report(app, api, "ok", started);
            return result;
        }
        catch (DingTalkException ex)
        {
            Report(app, api, ex.Code, started, ex.Kind);
            if (ex.Kind == DingTalkErrorKind.MonthlyQuota)
            {
                _log.LogError("DingTalk's monthly call quota is used up for corp {CorpId} ({Api}: {Code}); not retrying",
                    app.CorpId, api, ex.Code);
            }

            throw;
        }
        catch (IpBanReplyException ex)
        {
            Report(app, api, "IpBanned", started);
            var until = _limits.PauseForIpBan();
            _log.LogError("DingTalk banned this egress IP ({Detail}); pausing every call until {Until}", ex.Message, until);
            throw new DingTalkIpBannedException(api.Name, until, ex.Message);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException)
        {
            Report(app, api, ex is TimeoutException ? "Timeout" : "NetworkError", started);
            throw;
        }
    }

    private void Report(DingTalkApp app, DingTalkApi api, string outcome, long started, DingTalkErrorKind kind = DingTalkErrorKind.Other)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        Calls.Add(1, new("api", api.Name), new("outcome", outcome));
        CallDuration.Record(elapsed.TotalSeconds, new("api", api.Name), new("outcome", outcome));
        if (kind is DingTalkErrorKind.AppQps or DingTalkErrorKind.GlobalQps or DingTalkErrorKind.Busy)
        {
            Throttled.Add(1, new("api", api.Name), new("kind", kind.ToString()));
        }

        if (Activity.Current is { Source.Name: TelemetryName } activity)
        {
            activity.SetTag("dingtalk.outcome", outcome);
            if (outcome != "ok")
            {
                activity.SetStatus(ActivityStatusCode.Error, outcome);
            }
        }

        var call = new DingTalkCall(app, api, outcome, elapsed);
        foreach (var observer in _observers)
        {
            observer.OnCall(call);
        }
    }

    private ResiliencePipeline BuildRetryPipeline()
    {
        var o = _options;
        return new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, Math.Max(o.AppQpsRetries, Math.Max(o.GlobalQpsRetries, o.BusyRetries))),
                ShouldHandle = args => ValueTask.FromResult(RetriesAllowed(args.Outcome.Exception) > args.AttemptNumber),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(RetryDelay(args.Outcome.Exception, args.AttemptNumber)),
                OnRetry = args =>
                {
                    _log.LogWarning("DingTalk call failed ({Reason}); retry {Attempt} in {Delay}",
                        args.Outcome.Exception?.Message, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    private int RetriesAllowed(Exception? ex) => ex switch
    {
        DingTalkIpBannedException => 0,
        DingTalkException d => d.Kind switch
        {
            DingTalkErrorKind.AppQps => _options.AppQpsRetries,
            DingTalkErrorKind.GlobalQps => _options.GlobalQpsRetries,
            DingTalkErrorKind.Busy => _options.BusyRetries,
            _ => 0,
        },
        HttpRequestException or TimeoutException => _options.BusyRetries,
        _ => 0,
    };

    /// <summary>§10d: per-app QPS waits out the one-second window; global QPS backs off 1, 2, 4, 8 s; busy waits a little longer each time.</summary>
    private TimeSpan RetryDelay(Exception? ex, int attempt)
    {
        var unit = _options.RetryBaseDelay;
        var jitter = unit * (Random.Shared.NextDouble() * 0.25);
        return ex is DingTalkException d
            ? d.Kind switch
            {
                DingTalkErrorKind.AppQps => _options.AppQpsRetryDelay * (1 + Random.Shared.NextDouble() * 0.25),
                DingTalkErrorKind.GlobalQps => unit * Math.Pow(2, attempt) + jitter,
                _ => unit * (attempt + 1) * 0.5 + jitter,
            }
            : unit * (attempt + 1) * 0.5 + jitter;
    }
}
