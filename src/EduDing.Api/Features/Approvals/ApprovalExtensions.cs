using EduDing.Api.Features.DingTalk;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Approvals;

internal static class ApprovalExtensions
{
    /// <summary>
    /// The approvals platform (docs/approvals.md): needs AddDingTalk, AddOrg and AddIdentity, and an
    /// <see cref="IApprovalNotifier"/> (the notices feature registers it). Features add their kinds with
    /// <see cref="AddApprovalKind{TKind}"/>.
    /// </summary>
    public static IServiceCollection AddApprovals(this IServiceCollection services)
    {
        services.AddValidatedOptions<ApprovalOptions>();
        services.AddSingleton<ApprovalRepository>();
        services.AddSingleton<ApprovalKinds>();
        services.AddSingleton<ChainResolver>();
        services.AddSingleton<ApprovalService>();
        services.AddDingTalkEventHandler<ApprovalEventHandler>();
        services.AddApprovalKind<AccessGrantApprovalKind>();
        services.AddApprovalKind<AccessGrantConfirmationKind>();
        services.AddHostedService<ApprovalWorker>();
        return services;
    }

    public static IServiceCollection AddApprovalKind<TKind>(this IServiceCollection services) where TKind : class, IApprovalKind
    {
        services.AddSingleton<TKind>();
        services.AddSingleton<IApprovalKind>(sp => sp.GetRequiredService<TKind>());
        return services;
    }

    public static IEndpointRouteBuilder MapApprovals(this IEndpointRouteBuilder app)
    {
        app.MapApprovalEndpoints();
        app.MapAccessRequestEndpoints();
        return app;
    }
}
