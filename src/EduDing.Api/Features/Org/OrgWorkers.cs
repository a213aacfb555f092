using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Org;

/// <summary>An org worker: on while OrgSync:RunWorkers is.</summary>
internal abstract class OrgWorker(IServiceScopeFactory scopes, IOptions<OrgSyncOptions> options, TimeProvider time, ILogger log)
    : PeriodicWorker(scopes, time, log)
{
    protected OrgSyncOptions Settings => options.Value;

    protected override bool Enabled => Settings.RunWorkers;
}

/// <summary>Initial, nightly and requested full reconciles.</summary>
internal sealed class OrgSyncWorker(IServiceScopeFactory scopes, IOptions<OrgSyncOptions> options, TimeProvider time,
    ILogger<OrgSyncWorker> log) : OrgWorker(scopes, options, time, log)
{
    protected override TimeSpan Interval => Settings.SchedulerInterval;

    protected override Task RunOnceAsync(IServiceProvider services, CancellationToken ct) =>
        services.GetRequiredService<OrgScheduler>().RunDueAsync(ct);
}
