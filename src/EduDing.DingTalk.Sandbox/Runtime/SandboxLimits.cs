using System.Collections.Concurrent;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.DingTalk.Sandbox.Runtime;

public enum SandboxFaultKind
{
    PermissionDenied,
    IpBanned,
    AppQps,
    GlobalQps,
    MonthlyQuota,
    Transient,
}

/// <summary>
/// DingTalk's limits and injected faults, checked on every call: the IP ban (all calls in a sliding window), the
/// per-app per-API QPS (per calendar second, as DingTalk counts), the monthly quota of metered calls per corp, and
/// random transient errors. Also the call counters tests read.
/// </summary>
public sealed class SandboxLimits(SandboxOptions options, TimeProvider time)
{
    private readonly object _sync = new();
    private readonly Dictionary<(string AppKey, string Api), (long Second, int Count)> _perSecond = new();
    private readonly Queue<long> _recentCalls = new();
    private readonly Dictionary<(string CorpId, int Month), long> _metered = new();
    private long _bannedUntilTicks;
    private int _ipBanReplies;

    public ConcurrentDictionary<string, long> CallsPerApi { get; } = new();

    public ConcurrentDictionary<string, long> FaultsPerKind { get; } = new();

    /// <summary>Calls per corp and API, as the per-app limits see them (benchmarks compute their bounds from it).</summary>
    public ConcurrentDictionary<(string CorpId, string Api), long> CallsPerCorpAndApi { get; } = new();

    /// <summary>Counts the call from "this IP"; a fault when the IP is (or just became) banned.</summary>
    public SandboxFaultKind? CheckIp()
    {
        var now = time.GetUtcNow().UtcTicks;
        lock (_sync)
        {
            if (now < _bannedUntilTicks)
            {
                return Fault(SandboxFaultKind.IpBanned);
            }

            _recentCalls.Enqueue(now);
            var windowStart = now - options.IpBanWindow.Ticks;
            while (_recentCalls.Count > 0 && _recentCalls.Peek() <= windowStart)
            {
                _recentCalls.Dequeue();
            }

            if (_recentCalls.Count > options.IpBanThreshold)
            {
                _bannedUntilTicks = now + options.IpBanDuration.Ticks;
                _recentCalls.Clear();
                return Fault(SandboxFaultKind.IpBanned);
            }

            return null;
        }
    }

    /// <summary>Bans the IP now, as if the threshold had been crossed.</summary>
    public void BanIpNow()
    {
        lock (_sync)
        {
            _bannedUntilTicks = time.GetUtcNow().UtcTicks + options.IpBanDuration.Ticks;
        }
    }

    public void LiftIpBan()
    {
        lock (_sync)
        {
            _bannedUntilTicks = 0;
            _recentCalls.Clear();
        }
    }

    /// <summary>Alternates the two documented ban replies: the HTML page and the status 1111 JSON.</summary>
    public bool NextBanReplyIsHtml() => Interlocked.Increment(ref _ipBanReplies) % 2 == 1;

    /// <summary>The checks after authentication, in DingTalk's order; records the call when it passes.</summary>
    public SandboxFaultKind? CheckCall(SandboxCorp corp, DingTalkApi api)
    {
        CallsPerApi.AddOrUpdate(api.Name, 1, (_, n) => n + 1);
        CallsPerCorpAndApi.AddOrUpdate((corp.CorpId, api.Name), 1, (_, n) => n + 1);
        if (options.DeniedApis.Contains(api.Name))
        {
            return Fault(SandboxFaultKind.PermissionDenied);
        }

        var now = time.GetUtcNow();
        lock (_sync)
        {
            if (options.QpsPerApi > 0)
            {
                var second = now.ToUnixTimeSeconds();
                var key = (corp.AppKey, api.Name);
                var (windowSecond, count) = _perSecond.GetValueOrDefault(key);
                count = windowSecond == second ? count + 1 : 1;
                _perSecond[key] = (second, count);
                if (count > options.QpsPerApi)
                {
                    return Fault(SandboxFaultKind.AppQps);
                }
            }

            if (!api.QuotaExempt && options.MonthlyQuota is { } quota)
            {
                var shanghai = now.ToOffset(TimeSpan.FromHours(8));
                var month = (corp.CorpId, shanghai.Year * 100 + shanghai.Month);
                var used = _metered.GetValueOrDefault(month);
                if (used >= quota)
                {
                    return Fault(SandboxFaultKind.MonthlyQuota);
                }

                _metered[month] = used + 1;
            }
        }

        if (options.GlobalQpsErrorRate > 0 && Random.Shared.NextDouble() < options.GlobalQpsErrorRate)
        {
            return Fault(SandboxFaultKind.GlobalQps);
        }

        if (options.TransientErrorRate > 0 && Random.Shared.NextDouble() < options.TransientErrorRate)
        {
            return Fault(SandboxFaultKind.Transient);
        }

        return null;
    }

    public void ResetCounters()
    {
        CallsPerApi.Clear();
        CallsPerCorpAndApi.Clear();
        FaultsPerKind.Clear();
        lock (_sync)
        {
            _metered.Clear();
            _perSecond.Clear();
        }
    }

    private SandboxFaultKind Fault(SandboxFaultKind kind)
    {
        FaultsPerKind.AddOrUpdate(kind.ToString(), 1, (_, n) => n + 1);
        return kind;
    }
}
