using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace EduDing.DingTalk;

/// <summary>
/// Client-side pacing so that DingTalk's limits are met before it has to refuse (§10c): a send slot per call, spaced
/// per app per API and across the whole instance; a per-app budget of work-notice recipients per minute; and a pause
/// for everything after an IP ban.
/// </summary>
internal sealed class DingTalkRateLimits(IOptions<DingTalkClientOptions> options, TimeProvider time) : IDisposable
{
    private readonly object _slots = new();
    private readonly Dictionary<(string AppKey, string Api), long> _nextPerApi = new();
    private readonly Dictionary<long, int> _instanceSlotsTaken = new();
    private readonly ConcurrentDictionary<string, RateLimiter> _recipients = new();
    private long _firstOpenInterval;
    private long _ipBannedUntilTicks;

    /// <summary>
    /// Waits for the call's send slot: at least 1/<c>MaxCallsPerSecondPerApi</c> after the previous call of the same app
    /// and API, in the first interval of the instance's calendar (<see cref="InstanceInterval"/>) with room left under
    /// <c>MaxCallsPerSecond</c>. Nothing waits after the slot, so both limits hold for what leaves. (A per-API limiter
    /// followed by an instance limiter did not: calls it had spaced bunched up while the second drained its queue, and
    /// DingTalk answered 90018 to 2,091 calls of the city-scale bench.) A cancelled wait leaves its slot unused.
    /// </summary>
    public async ValueTask WaitForCallSlotAsync(DingTalkApp app, DingTalkApi api, CancellationToken ct)
    {
        var o = options.Value;
        var apiSpacing = o.MaxCallsPerSecondPerApi > 0 ? (long)(TimeSpan.TicksPerSecond / o.MaxCallsPerSecondPerApi) : 0;
        // Pacing is about real seconds as DingTalk counts them, never a test's or a scenario's clock.
        var now = TimeProvider.System.GetUtcNow().UtcTicks;
        long slot;
        lock (_slots)
        {
            var key = (app.AppKey, api.Name);
            slot = Math.Max(now, _nextPerApi.GetValueOrDefault(key));
            if (o.MaxCallsPerSecond > 0)
            {
                var (length, capacity) = InstanceInterval(o.MaxCallsPerSecond);
                // From now to the first open interval every one is full (intervals only fill): the search starts there.
                _firstOpenInterval = Math.Max(_firstOpenInterval, now / length);
                var interval = Math.Max(slot / length, _firstOpenInterval);
                while (_instanceSlotsTaken.GetValueOrDefault(interval) >= capacity)
                {
                    interval++;
                }

                _instanceSlotsTaken[interval] = _instanceSlotsTaken.GetValueOrDefault(interval) + 1;
                while (_instanceSlotsTaken.GetValueOrDefault(_firstOpenInterval) >= capacity)
                {
                    _firstOpenInterval++;
                }

                slot = Math.Max(slot, interval * length);
                if (_instanceSlotsTaken.Count > 1024)
                {
                    foreach (var past in _instanceSlotsTaken.Keys.Where(k => k < now / length).ToList())
                    {
                        _instanceSlotsTaken.Remove(past);
                    }
                }
            }

            _nextPerApi[key] = slot + apiSpacing;
        }

        if (slot > now)
        {
            await Task.Delay(TimeSpan.FromTicks(slot - now), ct);
        }
    }

    /// <summary>
    /// The instance's calendar: intervals of 50 ms (longer below 20 calls a second) holding whole calls, never more than
    /// the rate allows; any span t then holds at most <c>rate × t</c> and one interval's calls, so DingTalk's 20 s never
    /// see more than 20 s' worth and an interval.
    /// </summary>
    internal static (long LengthTicks, int Capacity) InstanceInterval(double callsPerSecond)
    {
        var length = Math.Max(TimeSpan.TicksPerSecond / 20, (long)Math.Ceiling(TimeSpan.TicksPerSecond / callsPerSecond));
        return (length, Math.Max(1, (int)Math.Floor(callsPerSecond * length / TimeSpan.TicksPerSecond)));
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
        foreach (var limiter in _recipients.Values)
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
