using EduDing.Api.Features.Approvals;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.AfterSchool;

internal static class AfterSchoolExtensions
{
    /// <summary>After-school care: needs AddOrg, AddIdentity and AddApprovals (applications are reviewed there).</summary>
    public static IServiceCollection AddAfterSchool(this IServiceCollection services)
    {
        services.AddValidatedOptions<AfterSchoolOptions>();
        services.AddSingleton<CareRepository>();
        services.AddSingleton<CareProviders>();
        services.AddSingleton<CareService>();
        services.AddSingleton<CareOffers>();
        services.AddSingleton<CareDailyRepository>();
        services.AddSingleton<CareDaily>();
        services.AddSingleton<CareRollCorrections>();
        services.AddSingleton<CareStatistics>();
        services.AddSingleton<CareDuty>();
        services.AddSingleton<CareBilling>();
        services.AddSingleton<CareSurvey>();
        services.AddHostedService<CareWorker>();
        services.AddApprovalKind<CareApprovalKind>();
        services.AddApprovalKind<RollCorrectionKind>();
        return services;
    }

    public static IEndpointRouteBuilder MapAfterSchool(this IEndpointRouteBuilder app)
    {
        app.MapCareEndpoints();
        app.MapCareDailyEndpoints();
        app.MapCareDutyEndpoints();
        app.MapCareFeeEndpoints();
        return app;
    }
}
