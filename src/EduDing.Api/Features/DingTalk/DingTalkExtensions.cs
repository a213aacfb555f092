using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using EduDing.DingTalk;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.DingTalk;

internal static class DingTalkExtensions
{
    /// <summary>
    /// The DingTalk layer every feature stands on: the corps this deployment serves, the client, the sandbox when no
    /// corps are configured (registered first, so it is up before any worker), the event inbox with its intake (HTTP
    /// push, Stream, failed-push list) and the dispatcher that hands events to the features registering their types
    /// with <see cref="AddDingTalkEventHandler{THandler}"/>.
    /// </summary>
    public static IServiceCollection AddDingTalk(this IServiceCollection services)
    {
        services.AddValidatedOptions<DingTalkOptions>();
        services.AddSingleton<IValidateOptions<DingTalkOptions>, ProductionCorpsValidator>();
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
        services.AddHealthChecks().AddCheck<DingTalkReachability>("dingtalk", tags: [HealthEndpoints.ReadyTag]);

        services.AddSingleton<PushBudget>();
        services.AddSingleton<EventInbox>();
        services.AddSingleton<EventIntake>();
        services.AddSingleton<EventDispatcher>();

        services.AddHostedService<EventWorker>();
        services.AddHostedService<FailedPushWorker>();
        services.AddHostedService<StreamIngestWorker>();
        return services;
    }

    /// <summary>Registers a feature's handler for the event types it names (<see cref="IDingTalkEventHandler.Handles"/>).</summary>
    public static IServiceCollection AddDingTalkEventHandler<THandler>(this IServiceCollection services)
        where THandler : class, IDingTalkEventHandler
    {
        services.AddSingleton<THandler>();
        services.AddSingleton<IDingTalkEventHandler>(sp => sp.GetRequiredService<THandler>());
        return services;
    }

    /// <summary>DingTalk's signed HTTP callback, which feeds the inbox.</summary>
    public static IEndpointRouteBuilder MapDingTalk(this IEndpointRouteBuilder app) => app.MapDingTalkCallbackEndpoints();
}
