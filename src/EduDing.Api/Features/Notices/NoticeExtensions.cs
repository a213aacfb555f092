using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Notices;

internal static class NoticeExtensions
{
    /// <summary>Notices: composing, the outbox fan-out through DingTalk work notices, read tracking. Needs AddOrg and AddIdentity.</summary>
    public static IServiceCollection AddNotices(this IServiceCollection services)
    {
        services.AddValidatedOptions<NoticeOptions>();
        services.AddSingleton<NoticeRepository>();
        services.AddSingleton<AudienceResolver>();
        services.AddSingleton<NoticeService>();
        services.AddSingleton<NoticeDispatcher>();
        services.AddHostedService<NoticeWorker>();
        return services;
    }

    public static IEndpointRouteBuilder MapNotices(this IEndpointRouteBuilder app) => app.MapNoticeEndpoints();
}
