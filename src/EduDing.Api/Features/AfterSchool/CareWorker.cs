using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>The day's absence and handover alerts (<see cref="CareDaily.RunAlertsAsync"/>), on every instance; claims keep them single.</summary>
internal sealed class CareWorker(IServiceScopeFactory scopes, IOptions<AfterSchoolOptions> options, TimeProvider time, ILogger<CareWorker> log)
    : PeriodicWorker(scopes, time, log)
{
    private readonly TimeProvider _time = time;

    protected override bool Enabled => options.Value.RunWorker;

    protected override TimeSpan Interval => options.Value.AlertInterval;

    protected override Task RunOnceAsync(IServiceProvider services, CancellationToken ct) =>
        services.GetRequiredService<CareDaily>().RunAlertsAsync(_time.GetUtcNow().UtcDateTime, ct);
}
