using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EduDing.DingTalk;

public static class DingTalkServiceCollectionExtensions
{
    /// <summary>
    /// The client as a singleton (its token cache and rate limiters must be shared by every caller in the process),
    /// options bound from DingTalk:Client, and a named HttpClient from the factory.
    /// </summary>
    public static IServiceCollection AddDingTalkClient(this IServiceCollection services)
    {
        services.AddOptions<DingTalkClientOptions>().BindConfiguration(DingTalkClientOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(DingTalkClient.HttpClientName);
        // Internal apps today; a deployment with provider-built apps registers its own source (docs/deployment-models.md).
        services.TryAddSingleton<IAccessTokenSource, InternalAppTokenSource>();
        services.TryAddSingleton<DingTalkClient>();
        return services;
    }
}
