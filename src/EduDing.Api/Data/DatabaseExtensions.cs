using System.Data.Common;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Data;

internal static class DatabaseExtensions
{
    /// <summary>The only place that reads Database:Provider.</summary>
    public static IServiceCollection AddDatabase(this IServiceCollection services)
    {
        services.AddValidatedOptions<DatabaseOptions>();
        services.AddSingleton(sp => SqlDialect.For(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ProviderKind));
        services.AddSingleton<DbDataSource>(sp => sp.GetRequiredService<SqlDialect>().CreateDataSource(
            sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString,
            sp.GetRequiredService<IHostEnvironment>().ContentRootPath));
        services.AddValidatedOptions<EncryptionOptions>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<EncryptionOptions>>().Value.Resolve(
            sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ProviderKind, sp.GetRequiredService<IHostEnvironment>().ContentRootPath,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<EncryptionOptions>()));
        services.AddSingleton<Database>();
        services.AddSingleton<Migrator>();
        services.AddSingleton<LeaseRepository>();
        services.AddHostedService<MigrationHostedService>();
        services.AddHealthChecks().AddCheck<DatabaseReadinessCheck>("database", tags: [HealthEndpoints.ReadyTag]);
        return services;
    }
}
