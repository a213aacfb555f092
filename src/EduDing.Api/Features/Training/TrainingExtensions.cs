using EduDing.Api.Features.Approvals;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Training;

internal static class TrainingExtensions
{
    /// <summary>Teacher training credits: needs AddOrg, AddIdentity and AddApprovals (claims are decided there).</summary>
    public static IServiceCollection AddTraining(this IServiceCollection services)
    {
        services.AddValidatedOptions<TrainingOptions>();
        services.AddSingleton<TrainingRepository>();
        services.AddSingleton<TrainingService>();
        services.AddSingleton<Trainings>();
        services.AddSingleton<ProvincialImports>();
        services.AddSingleton<TrainingYears>();
        services.AddSingleton<RegistrationRuns>();
        services.AddApprovalKind<TrainingYearReopenKind>();
        services.AddSingleton<PriorApprovals>();
        services.AddSingleton<TeacherProfiles>();
        services.AddSingleton<TrainingStandings>();
        services.AddSingleton<CityStandings>();
        services.AddSingleton<TrainingReports>();
        services.AddSingleton<TrainingReminders>();
        services.AddHostedService<TrainingWorker>();
        services.AddApprovalKind<TrainingPriorApprovalKind>();
        services.AddApprovalKind<TrainingCreditKind>();
        services.AddApprovalKind<TrainingEnrolmentKind>();
        return services;
    }

    public static IEndpointRouteBuilder MapTraining(this IEndpointRouteBuilder app)
    {
        app.MapTrainingEndpoints();
        app.MapGroup("/api/ops").WithTags("Operations").RequireAuthorization(Policies.SystemAdmin)
            .MapGet("/training-imports", ProvincialImportsOps.ListAsync).RequireAudience(Audience.SystemAdmin).WithName("Ops_TrainingImports");
        return app;
    }
}
