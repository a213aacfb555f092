using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Vision;

internal static class VisionExtensions
{
    /// <summary>明眸 eye health. Needs AddOrg, AddIdentity and AddNotices (results reach parents through notices).</summary>
    public static IServiceCollection AddVision(this IServiceCollection services)
    {
        services.AddValidatedOptions<VisionOptions>();
        services.AddSingleton<VisionRepository>();
        services.AddSingleton<VisionStatistics>();
        services.AddSingleton<VisionAccess>();
        services.AddSingleton<VisionService>();
        services.AddSingleton<VisionFollowUp>();
        return services;
    }

    public static IEndpointRouteBuilder MapVision(this IEndpointRouteBuilder app)
    {
        app.MapVisionEndpoints();
        app.MapGroup("/api/ops").WithTags("Operations").RequireAuthorization(Policies.SystemAdmin)
            .MapGet("/vision-imports", VisionImportsOps.ListAsync).RequireAudience(Audience.SystemAdmin).WithName("Ops_VisionImports");
        return app;
    }
}
