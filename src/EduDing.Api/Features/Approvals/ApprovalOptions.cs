using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Approvals;

/// <summary>Approvals (docs/approvals.md).</summary>
internal sealed class ApprovalOptions : IValidatedOptions
{
    public static string Section => "Approvals";

    /// <summary>Run the approvals worker (outcomes, leavers, DingTalk re-reads, reminders).</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>How often the worker looks for work.</summary>
    public TimeSpan WorkerInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An approver with a request waiting longer than this gets the day's digest.</summary>
    public TimeSpan RemindAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Reminder digests go out from this Beijing time of day on (not at night).</summary>
    public TimeOnly RemindFrom { get; set; } = new(8, 30);

    /// <summary>Open DingTalk OA instances are re-read this often, so that a missed bpms event leaves nothing stuck.</summary>
    public TimeSpan InstanceRecheckInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>At most this many requests are decided by one bulk approval.</summary>
    public int MaxBulk { get; set; } = 100;

    /// <summary>The mini-app page of one request, with the request id for {0}.</summary>
    public string RequestPage { get; set; } = "pages/approvals/detail?id={0}";

    /// <summary>The mini-app page of the "待我审批" inbox (the reminder digest links there).</summary>
    public string InboxPage { get; set; } = "pages/approvals/inbox";

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (WorkerInterval <= TimeSpan.Zero)
        {
            yield return (nameof(WorkerInterval), "must be positive");
        }

        if (RemindAfter < TimeSpan.FromMinutes(1))
        {
            yield return (nameof(RemindAfter), "must be at least a minute");
        }

        if (InstanceRecheckInterval < TimeSpan.FromSeconds(1))
        {
            yield return (nameof(InstanceRecheckInterval), "must be at least a second");
        }

        if (MaxBulk is < 1 or > 1000)
        {
            yield return (nameof(MaxBulk), "must be 1 to 1000");
        }
    }
}
