using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Notices;

internal sealed class NoticeOptions : IValidatedOptions
{
    public static string Section => "Notices";

    /// <summary>Whether this instance runs the fan-out worker (every instance may; claims keep them apart).</summary>
    public bool RunWorkers { get; set; } = true;

    /// <summary>How often the worker looks for due notices, batches, results and recalls.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The mini-app's id in DingTalk (deployment configuration, §5e); messages open the notice page in it.</summary>
    public string MiniAppId { get; set; } = "5000000000000000";

    /// <summary>The mini-app page of one notice; {0} is the notice id.</summary>
    public string NoticePage { get; set; } = "pages/notice/detail?id={0}";

    /// <summary>Userids per asyncsend_v2 call: DingTalk's documented maximum is 100 (§5a).</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// About how many recipients one transaction of a notice's outbox queues (docs/notices.md "Queued in parts"): a
    /// city-wide notice's 200,000 took 3 s in one transaction, all before its first message; in parts every school sends
    /// its first batch while the rest is queued.
    /// </summary>
    public int QueuePartSize { get; set; } = 10_000;

    /// <summary>
    /// A claimed batch not confirmed within this time is taken over by another instance. Keep it well above one
    /// DingTalk call (the client retries inside it).
    /// </summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long after sending the worker asks getsendresult for the batch's outcome.</summary>
    public TimeSpan ResultCheckDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether each batch's outcome is read back (getsendresult); each read is a metered call (§10c).</summary>
    public bool VerifyDelivery { get; set; } = true;

    /// <summary>Attempts per batch before its recipients are recorded as failed.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The first retry delay of a failed batch; doubling, at most one hour.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>DingTalk's per app per person daily limit (§5a, 500 for internal apps); over it a person waits for tomorrow.</summary>
    public int MessagesPerUserPerDay { get; set; } = 500;

    /// <summary>Default for schools that have not chosen: a teacher's notice to parents needs a school admin's approval.</summary>
    public bool TeacherNoticesNeedApproval { get; set; } = true;

    /// <summary>How far ahead a notice may be scheduled.</summary>
    public TimeSpan MaxScheduleAhead { get; set; } = TimeSpan.FromDays(90);

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(5))
        {
            yield return (nameof(PollInterval), "must be between 00:00:00.010 and 00:05:00");
        }

        if (string.IsNullOrWhiteSpace(MiniAppId))
        {
            yield return (nameof(MiniAppId), "is required (the mini-app messages link to)");
        }

        if (!NoticePage.Contains("{0}", StringComparison.Ordinal))
        {
            yield return (nameof(NoticePage), "must contain {0} where the notice id goes");
        }

        if (BatchSize is < 1 or > 100)
        {
            yield return (nameof(BatchSize), "must be 1 to 100 (DingTalk's limit per call)");
        }

        if (QueuePartSize is < 1 or > 100_000)
        {
            yield return (nameof(QueuePartSize), "must be 1 to 100000");
        }

        if (ClaimTimeout < TimeSpan.FromSeconds(5))
        {
            yield return (nameof(ClaimTimeout), "must be at least 00:00:05");
        }

        if (ResultCheckDelay < TimeSpan.Zero)
        {
            yield return (nameof(ResultCheckDelay), "must not be negative");
        }

        if (MaxAttempts is < 1 or > 100)
        {
            yield return (nameof(MaxAttempts), "must be 1 to 100");
        }

        if (RetryBaseDelay <= TimeSpan.Zero)
        {
            yield return (nameof(RetryBaseDelay), "must be positive");
        }

        if (MessagesPerUserPerDay < 1)
        {
            yield return (nameof(MessagesPerUserPerDay), "must be at least 1");
        }

        if (MaxScheduleAhead <= TimeSpan.Zero)
        {
            yield return (nameof(MaxScheduleAhead), "must be positive");
        }
    }
}
