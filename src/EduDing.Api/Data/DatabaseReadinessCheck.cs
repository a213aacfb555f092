using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EduDing.Api.Data;

/// <summary>Ready when the database answers and every migration this build knows is applied.</summary>
internal sealed class DatabaseReadinessCheck(Migrator migrator) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var status = await migrator.GetStatusAsync(ct);
            var data = new Dictionary<string, object>
            {
                ["schemaVersion"] = status.Current ?? 0,
                ["latestKnownVersion"] = status.LatestKnown,
            };
            return status.IsCurrent
                ? HealthCheckResult.Healthy("Database reachable; schema current.", data)
                : HealthCheckResult.Unhealthy(
                    $"{status.Pending.Count} migration(s) pending: {string.Join(", ", status.Pending)}.", data: data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"Database unreachable: {ex.Message}");
        }
    }
}
