using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace EduDing.DingTalk;

/// <summary>
/// Client-side pacing so that DingTalk's limits are met before it has to refuse (§10c): a limiter per app per API,
/// a per-app budget of work-notice recipients per minute, and a pause for everything after an IP ban.
/// </summary>
internal sealed class DingTalkRateLimits(IOptions<DingTalkClientOptions> options, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<(string AppKey, string Api), RateLimiter> _perApi = new();
    private readonly ConcurrentDictionary<string, RateLimiter> _recipients = new();
    private long _ipBannedUntilTicks;

    public async ValueTask<RateLimitLease> AcquireCallAsync(DingTalkApp app, DingTalkApi api, CancellationToken ct)
    {
        var limiter = _perApi.GetOrAdd((app.AppKey, api.Name), _ => CreateCallLimiter(options.Value.MaxCallsPerSecondPerApi));
        return await AcquireAsync(limiter, 1, ct);
    }

    /// <summary>Waits until <paramref name="recipients"/> more fit in this app's per-minute budget.</summary>
    public async ValueTask<RateLimitLease> AcquireRecipientsAsync(DingTalkApp app, int recipients, CancellationToken ct)
    {
        var limiter = _recipients.GetOrAdd(app.AppKey, _ => CreateRecipientLimiter(options.Value.WorkNoticeRecipientsPerMinute));
        return await AcquireAsync(limiter, recipients, ct);
    }

    public DateTimeOffset? IpBannedUntil
    {
        get
        {
            var ticks = Interlocked.Read(ref _ipBannedUntilTicks);
            return ticks > time.GetUtcNow().UtcTicks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
        }
    }

    public DateTimeOffset PauseForIpBan()
    {
        var until = time.GetUtcNow() + options.Value.IpBanPause;
        Interlocked.Exchange(ref _ipBannedUntilTicks, until.UtcTicks);
        return until;
    }

    public void Dispose()
    {
        foreach (var limiter in _perApi.Values.Concat(_recipients.Values))
        {
            limiter.Dispose();
        }
    }

    private static async ValueTask<RateLimitLease> AcquireAsync(RateLimiter limiter, int permits, CancellationToken ct)
    {
        var lease = await limiter.AcquireAsync(permits, ct);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new InvalidOperationException("The DingTalk rate limiter refused a request it should have queued.");
        }

        return lease;
    }

    /// <summary>
    /// Evenly spaced permits, no bursts: at 20 QPS one call every 50 ms, so no one-second window DingTalk counts can
    /// hold more than the limit. Above 100 QPS permits come in 10 ms batches.
    /// </summary>
    internal static RateLimiter CreateCallLimiter(double callsPerSecond)
    {
        var (period, tokens) = callsPerSecond <= 100
            ? (TimeSpan.FromSeconds(1 / callsPerSecond), 1)
            : (TimeSpan.FromMilliseconds(10), (int)Math.Round(callsPerSecond / 100));
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    /// <summary>
    /// A sliding window one segment longer than DingTalk's minute, so a recipient's permit returns only after a full
    /// 60 s have passed since it was used, wherever in its segment that was.
    /// </summary>
    internal static RateLimiter CreateRecipientLimiter(int recipientsPerMinute) =>
        new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
        {
            PermitLimit = recipientsPerMinute,
            Window = TimeSpan.FromSeconds(61),
            SegmentsPerWindow = 61,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
}
