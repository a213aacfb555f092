using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EduDing.Api.Hosting;

internal static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public const string AlivePath = "/healthz";

    public const string ReadyPath = "/readyz";

    /// <summary>
    /// /healthz: the process is alive (no dependency is checked, so a slow database never gets it restarted).
    /// /readyz: the database answers, migrations are current and the instance is not shutting down.
    /// </summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks(AlivePath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .RequireAudience(Audience.Anonymous)
            .WithName("Health_Alive");
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(ReadyTag),
            ResponseWriter = WriteAsync,
        })
            .RequireAudience(Audience.Anonymous)
            .WithName("Health_Ready");
        return app;
    }

    public static IHealthChecksBuilder AddHostHealthChecks(this IHealthChecksBuilder checks) =>
        checks.AddCheck<NotStoppingCheck>("lifetime", tags: [ReadyTag]);

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                data = e.Value.Data.Count == 0 ? null : e.Value.Data,
            }),
        }, cancellationToken: context.RequestAborted);
    }

    /// <summary>Turns /readyz unhealthy as soon as shutdown begins, so a load balancer stops sending requests.</summary>
    private sealed class NotStoppingCheck(IHostApplicationLifetime lifetime) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
            Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
                ? HealthCheckResult.Unhealthy("Shutting down.")
                : HealthCheckResult.Healthy());
    }
}
