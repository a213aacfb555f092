using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Approvals;

/// <summary>Outcomes not yet applied, leavers, DingTalk re-reads and reminders (<see cref="ApprovalService.RunDueAsync"/>).</summary>
internal sealed class ApprovalWorker(IServiceScopeFactory scopes, IOptions<ApprovalOptions> options, TimeProvider time, ILogger<ApprovalWorker> log)
    : PeriodicWorker(scopes, time, log)
{
    protected override bool Enabled => options.Value.RunWorker;

    protected override TimeSpan Interval => options.Value.WorkerInterval;

    protected override Task RunOnceAsync(IServiceProvider services, CancellationToken ct) =>
        services.GetRequiredService<ApprovalService>().RunDueAsync(ct);
}
