using System.Diagnostics.Metrics;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Notices;
using EduDing.Api.Features.Org;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Hosting;

/// <summary>What the backlog gauges report, as last read from the database.</summary>
internal sealed record OperationsSample(long InboxPending, double InboxLagSeconds, long InboxParked, long OutboxBatches,
    long OutboxRecipients, long OutboxUncertain, IReadOnlyDictionary<string, long> MeteredCallsByCorp, long MonthlyCallBudget);

/// <summary>
/// The gauges of the shared queues, which live in the database rather than in any one instance: the event inbox's
/// backlog and lag, the notice outbox's backlog, and each corp's metered DingTalk calls this month against the budget.
/// Observable gauges must answer at once, so they read the last sample; <see cref="SampleAsync"/> takes a new one
/// (every instance samples and reports the same queues: a dashboard takes the maximum, not the sum).
/// </summary>
internal sealed class OperationsGauges
{
    private volatile OperationsSample? _sample;

    public OperationsGauges(IMeterFactory meters)
    {
        // Per service provider (not the static meter): each host of a test run has gauges of its own.
        var meter = meters.Create(EduDingTelemetry.Name);
        meter.CreateObservableGauge("eduding.inbox.pending", () => Read(s => s.InboxPending), "{event}",
            "DingTalk events received and not yet applied to the mirror (parked ones apart).");
        meter.CreateObservableGauge("eduding.inbox.lag", () => Read(s => s.InboxLagSeconds), "s",
            "Age of the oldest event waiting in the inbox; 0 when none waits.");
        meter.CreateObservableGauge("eduding.inbox.parked", () => Read(s => s.InboxParked), "{event}",
            "Events parked after repeated failures or as unhandled, waiting for an operator's replay.");
        meter.CreateObservableGauge("eduding.outbox.batches", () => Read(s => s.OutboxBatches), "{batch}",
            "Work-notice batches not yet handed to DingTalk (pending or being sent).");
        meter.CreateObservableGauge("eduding.outbox.recipients", () => Read(s => s.OutboxRecipients), "{recipient}",
            "Recipients in those batches.");
        meter.CreateObservableGauge("eduding.outbox.uncertain", () => Read(s => s.OutboxUncertain), "{batch}",
            "Batches sent without a reply, to be resent as the identical message.");
        meter.CreateObservableGauge("eduding.dingtalk.quota.used", ReadQuota, "{call}",
            "Metered DingTalk calls this month (Asia/Shanghai) per corp.");
        meter.CreateObservableGauge("eduding.dingtalk.quota.budget", () => Read(s => s.MonthlyCallBudget), "{call}",
            "The monthly call budget each corp is held to (OrgSync:MonthlyCallBudget).");
    }

    public OperationsSample? Last => _sample;

    public async Task<OperationsSample> SampleAsync(EventInbox inbox, NoticeOutbox outbox, CallUsageTracker usage,
        OrgSyncOptions sync, TimeProvider time, CancellationToken ct)
    {
        var (pending, oldest, parked) = await inbox.BacklogAsync(ct);
        var (batches, recipients, uncertain) = await outbox.BacklogAsync(ct);
        var now = time.GetUtcNow().UtcDateTime;
        var lag = oldest is { } received ? Math.Max(0, (now - DateTime.SpecifyKind(received, DateTimeKind.Utc)).TotalSeconds) : 0;
        var sample = new OperationsSample(pending, lag, parked, batches, recipients, uncertain,
            await usage.MeteredThisMonthByCorpAsync(ct), sync.MonthlyCallBudget);
        _sample = sample;
        return sample;
    }

    private IEnumerable<Measurement<T>> Read<T>(Func<OperationsSample, T> value) where T : struct =>
        _sample is { } s ? [new Measurement<T>(value(s))] : [];

    private IEnumerable<Measurement<long>> ReadQuota() =>
        _sample?.MeteredCallsByCorp.Select(c => new Measurement<long>(c.Value, new KeyValuePair<string, object?>("corp", c.Key))) ?? [];
}

/// <summary>Samples the backlog gauges while metrics leave the process (OTLP or Prometheus configured).</summary>
internal sealed class OperationsGaugeWorker(IServiceScopeFactory scopes, IOptions<TelemetryOptions> options, TimeProvider time,
    ILogger<OperationsGaugeWorker> log) : PeriodicWorker(scopes, time, log)
{
    protected override bool Enabled => options.Value.Exported;

    protected override TimeSpan Interval => options.Value.SampleInterval;

    protected override Task RunOnceAsync(IServiceProvider services, CancellationToken ct) =>
        services.GetRequiredService<OperationsGauges>().SampleAsync(services.GetRequiredService<EventInbox>(),
            services.GetRequiredService<NoticeOutbox>(), services.GetRequiredService<CallUsageTracker>(),
            services.GetRequiredService<IOptions<OrgSyncOptions>>().Value, services.GetRequiredService<TimeProvider>(), ct);
}
