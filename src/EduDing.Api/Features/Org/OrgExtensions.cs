using EduDing.Api.Features.DingTalk;
using EduDing.Api.Hosting;
using EduDing.DingTalk;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EduDing.Api.Features.Org;

internal static class OrgExtensions
{
    /// <summary>
    /// DingTalk (corps, client, the sandbox when no corps are configured, the event inbox and intake) and the org mirror
    /// (full reconcile, event processing, workers). The sandbox host is registered first so it is up before the workers.
    /// </summary>
    public static IServiceCollection AddOrg(this IServiceCollection services)
    {
        services.AddValidatedOptions<DingTalkOptions>();
        services.AddValidatedOptions<OrgSyncOptions>();
        services.AddSingleton<ServiceInstance>();
        services.AddSingleton<SandboxHost>();
        services.AddHostedService(sp => sp.GetRequiredService<SandboxHost>());
        services.AddSingleton<CorpDirectory>();

        services.AddDingTalkClient();
        services.AddOptions<DingTalkClientOptions>().PostConfigure<SandboxHost>((client, sandbox) =>
        {
            if (sandbox.Enabled)
            {
                client.OapiBaseUrl = client.ApiBaseUrl = sandbox.BaseUrl;
            }
        });
        services.AddSingleton<CallUsageTracker>();
        services.AddSingleton<IDingTalkCallObserver>(sp => sp.GetRequiredService<CallUsageTracker>());
        services.AddSingleton<DingTalkReachability>();
        services.AddSingleton<IDingTalkCallObserver>(sp => sp.GetRequiredService<DingTalkReachability>());
        services.AddHealthChecks()
            .AddCheck<OrgMirrorReadinessCheck>("orgMirror", tags: [HealthEndpoints.ReadyTag])
            .AddCheck<DingTalkReachability>("dingtalk", tags: [HealthEndpoints.ReadyTag]);

        services.AddSingleton<PushBudget>();
        services.AddSingleton<EventInbox>();
        services.AddSingleton<EventIntake>();
        services.AddSingleton<OrgRepository>();
        services.AddSingleton<SyncRunRepository>();
        services.AddSingleton<DingTalkOrgReader>();
        services.AddSingleton<OrgSyncService>();
        services.AddSingleton<OrgEventProcessor>();
        services.AddSingleton<OrgScheduler>();
        // The operator roster view audits its reads; TryAdd, as the identity feature registers the same log.
        services.TryAddSingleton<Identity.AuditLog>();

        services.AddHostedService<OrgSyncWorker>();
        services.AddHostedService<OrgEventWorker>();
        services.AddHostedService<FailedPushWorker>();
        services.AddHostedService<StreamIngestWorker>();
        return services;
    }

    public static IEndpointRouteBuilder MapOrg(this IEndpointRouteBuilder app)
    {
        app.MapDingTalkCallbackEndpoints();
        app.MapOrgEndpoints();
        return app;
    }
}
