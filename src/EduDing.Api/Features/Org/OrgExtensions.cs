using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EduDing.Api.Features.Org;

internal static class OrgExtensions
{
    /// <summary>
    /// The org mirror over the DingTalk layer (<see cref="DingTalkExtensions.AddDingTalk"/>): full reconciles on a
    /// schedule, org events applied from the inbox, the read-only directory other features use, and the workers.
    /// </summary>
    public static IServiceCollection AddOrg(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<OrgMirrorReadinessCheck>("orgMirror", tags: [HealthEndpoints.ReadyTag]);
        services.AddSingleton<OrgRepository>();
        services.AddSingleton<OrgDirectory>();
        services.AddSingleton<SyncRunRepository>();
        services.AddSingleton<DingTalkOrgReader>();
        services.AddSingleton<OrgSyncService>();
        services.AddDingTalkEventHandler<OrgEventHandler>();
        services.AddSingleton<OrgScheduler>();
        // The operator roster view audits its reads; TryAdd, as the identity feature registers the same log.
        services.TryAddSingleton<AuditLog>();

        services.AddHostedService<OrgSyncWorker>();
        return services;
    }

    public static IEndpointRouteBuilder MapOrg(this IEndpointRouteBuilder app)
    {
        app.MapOrgEndpoints();
        return app;
    }
}
