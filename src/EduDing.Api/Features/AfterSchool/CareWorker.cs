using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>
/// The day's absence and handover alerts (<see cref="CareDaily.RunAlertsAsync"/>) and freed places' offers
/// (<see cref="CareOffers.RunAsync"/>), on every instance; claims keep them single.
/// </summary>
internal sealed class CareWorker(IServiceScopeFactory scopes, IOptions<AfterSchoolOptions> options, TimeProvider time, ILogger<CareWorker> log)
    : PeriodicWorker(scopes, time, log)
{
    private readonly TimeProvider _time = time;

    protected override bool Enabled => options.Value.RunWorker;

    protected override TimeSpan Interval => options.Value.AlertInterval;

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken ct)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        await services.GetRequiredService<CareDaily>().RunAlertsAsync(now, ct);
        await services.GetRequiredService<CareOffers>().RunAsync(now, ct);
    }
}
