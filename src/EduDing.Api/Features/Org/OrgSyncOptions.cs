using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Org;

internal sealed class OrgSyncOptions : IValidatedOptions
{
    public static string Section => "OrgSync";

    /// <summary>Run the background workers (scheduler, event processing, Stream, failed-push drain).</summary>
    public bool RunWorkers { get; set; } = true;

    /// <summary>The nightly full reconcile, Asia/Shanghai time (off-peak and not on the hour, as DingTalk advises).</summary>
    public TimeOnly NightlyAt { get; set; } = new(2, 10);

    /// <summary>How often the scheduler looks for due or requested reconciles.</summary>
    public TimeSpan SchedulerInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the inbox is checked for events to apply.</summary>
    public TimeSpan EventPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often DingTalk's list of failed pushes is drained (also at start).</summary>
    public TimeSpan FailedPushDrainInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A reconcile's lease; renewed while it runs, taken over by another instance if its holder dies.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Classes reconciled at once in a full pass; enough to keep every API's rate limiter busy.</summary>
    public int ClassConcurrency { get; set; } = 48;

    /// <summary>Metered DingTalk calls per corp per month we allow ourselves (standard edition quota: 5,000).</summary>
    public long MonthlyCallBudget { get; set; } = 5000;

    /// <summary>Share of the budget kept for event-driven re-reads between full passes.</summary>
    public double EventReserveShare { get; set; } = 0.2;

    /// <summary>
    /// An event that keeps failing is parked after this many attempts (its error kept, replayable by an operator). With
    /// the default delays, 30 attempts span about a day: a DingTalk outage of hours parks nothing.
    /// </summary>
    public int MaxEventAttempts { get; set; } = 30;

    /// <summary>The wait before an event that failed is tried again; doubled after each further failure.</summary>
    public TimeSpan EventRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between two tries of a failing event.</summary>
    public TimeSpan EventRetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>After a failed reconcile of a corp, the next one waits this long; doubled after each further failure.</summary>
    public TimeSpan FailedSyncRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait between failed reconciles of a corp (a "sync now" request does not wait).</summary>
    public TimeSpan FailedSyncRetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A reconcile that has not finished after this long is stopped and recorded as failed.</summary>
    public TimeSpan MaxRunDuration { get; set; } = TimeSpan.FromHours(4);

    /// <summary>How often a reconcile-only corp (its month's event pushes ran out) is reconciled until the month turns.</summary>
    public TimeSpan ReconcileOnlyInterval { get; set; } = TimeSpan.FromHours(6);

    /// <summary>The longest wait between attempts to reopen a Stream connection.</summary>
    public TimeSpan StreamMaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Corps reconciled, or whose events are applied, at the same time by one instance.</summary>
    public int CorpConcurrency { get; set; } = 4;

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (SchedulerInterval <= TimeSpan.Zero || EventPollInterval <= TimeSpan.Zero || FailedPushDrainInterval <= TimeSpan.Zero)
        {
            yield return ("Intervals", "must be positive");
        }

        if (LeaseDuration < TimeSpan.FromSeconds(10))
        {
            yield return (nameof(LeaseDuration), "must be at least 00:00:10");
        }

        if (ClassConcurrency is < 1 or > 512)
        {
            yield return (nameof(ClassConcurrency), "must be 1 to 512");
        }

        if (MonthlyCallBudget < 0)
        {
            yield return (nameof(MonthlyCallBudget), "must not be negative");
        }

        if (EventReserveShare is < 0 or >= 1)
        {
            yield return (nameof(EventReserveShare), "must be at least 0 and below 1");
        }

        if (EventRetryDelay <= TimeSpan.Zero || EventRetryMaxDelay < EventRetryDelay)
        {
            yield return (nameof(EventRetryDelay), "must be positive and at most EventRetryMaxDelay");
        }

        if (FailedSyncRetryDelay <= TimeSpan.Zero || FailedSyncRetryMaxDelay < FailedSyncRetryDelay)
        {
            yield return (nameof(FailedSyncRetryDelay), "must be positive and at most FailedSyncRetryMaxDelay");
        }

        if (MaxRunDuration < TimeSpan.FromMinutes(1))
        {
            yield return (nameof(MaxRunDuration), "must be at least 00:01:00");
        }

        if (ReconcileOnlyInterval < TimeSpan.FromSeconds(1) || StreamMaxReconnectDelay < TimeSpan.FromMilliseconds(100))
        {
            yield return (nameof(ReconcileOnlyInterval), "ReconcileOnlyInterval at least 1 s, StreamMaxReconnectDelay at least 100 ms");
        }

        if (CorpConcurrency is < 1 or > 64)
        {
            yield return (nameof(CorpConcurrency), "must be 1 to 64");
        }

        if (MaxEventAttempts < 1)
        {
            yield return (nameof(MaxEventAttempts), "must be at least 1");
        }
    }
}
