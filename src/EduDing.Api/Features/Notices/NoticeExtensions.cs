using EduDing.Api.Features.Approvals;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Notices;

internal static class NoticeExtensions
{
    /// <summary>Notices: composing, the outbox fan-out through DingTalk work notices, read tracking. Needs AddOrg, AddIdentity and AddApprovals (teachers' notices are approved there, and approvals notify through notices).</summary>
    public static IServiceCollection AddNotices(this IServiceCollection services)
    {
        services.AddValidatedOptions<NoticeOptions>();
        services.AddSingleton<NoticeRepository>();
        services.AddSingleton<NoticeFanOuts>();
        services.AddSingleton<NoticeOutbox>();
        services.AddSingleton<AudienceResolver>();
        services.AddSingleton<SystemNotices>();
        services.AddSingleton<NoticeService>();
        services.AddSingleton<IApprovalNotifier, NoticeApprovalNotifier>();
        services.AddApprovalKind<NoticeApprovalKind>();
        services.AddSingleton<NoticeDispatcher>();
        services.AddHostedService<NoticeWorker>();
        return services;
    }

    public static IEndpointRouteBuilder MapNotices(this IEndpointRouteBuilder app)
    {
        app.MapNoticeEndpoints();
        app.MapGroup("/api/ops").WithTags("Operations").RequireAuthorization(Policies.SystemAdmin)
            .MapGet("/notice-fan-outs", NoticeFanOuts.ListAsync).RequireAudience(Audience.SystemAdmin).WithName("Ops_NoticeFanOuts");
        return app;
    }
}
