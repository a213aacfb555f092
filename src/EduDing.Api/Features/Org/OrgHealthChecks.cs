using Dapper;
using EduDing.Api.Data;
using EduDing.DingTalk;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EduDing.Api.Features.Org;

/// <summary>
/// Ready only once the org mirror holds an organization (some corp has completed a full sync): before that every sign-in
/// would be refused, so a load balancer should not send people here yet.
/// </summary>
internal sealed class OrgMirrorReadinessCheck(Database db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            var synced = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "SELECT COUNT(*) FROM corps WHERE last_full_sync_at IS NOT NULL", cancellationToken: ct));
            return synced > 0
                ? HealthCheckResult.Healthy($"{synced} corp(s) mirrored.", new Dictionary<string, object> { ["corpsSynced"] = synced })
                : HealthCheckResult.Unhealthy("No organization has completed its first sync yet; sign-ins would be refused.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"The org mirror could not be read: {ex.Message}");
        }
    }
}

/// <summary>
/// Whether DingTalk answers this instance, from the calls it made: Degraded (still ready: the mirror and most of the API
/// serve without DingTalk, and an outage would otherwise take every instance out of rotation at once) while the latest
/// calls failed at the transport, with how long ago the last one succeeded.
/// </summary>
internal sealed class DingTalkReachability(TimeProvider time) : IDingTalkCallObserver, IHealthCheck
{
    private long _lastOkTicks;
    private long _lastFailureTicks;
    private volatile string? _lastFailure;

    public void OnCall(DingTalkCall call)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (call.Outcome is "Timeout" or "NetworkError" or "IpBanned")
        {
            _lastFailure = $"{call.Api.Name}: {call.Outcome}";
            Interlocked.Exchange(ref _lastFailureTicks, now);
        }
        else
        {
            Interlocked.Exchange(ref _lastOkTicks, now);
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var ok = Interlocked.Read(ref _lastOkTicks);
        var failed = Interlocked.Read(ref _lastFailureTicks);
        var data = new Dictionary<string, object>();
        if (ok > 0)
        {
            data["lastAnsweredAt"] = new DateTime(ok, DateTimeKind.Utc);
        }

        return Task.FromResult(failed > ok
            ? HealthCheckResult.Degraded($"DingTalk is not answering ({_lastFailure}).", data: data)
            : HealthCheckResult.Healthy(ok > 0 ? "DingTalk answers." : "No DingTalk call made yet.", data));
    }
}
