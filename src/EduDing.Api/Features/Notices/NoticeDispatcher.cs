using System.Text.Json;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Hosting;
using EduDing.DingTalk;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Notices;

/// <summary>
/// The fan-out, in steps any instance may run at any time: resolve due notices into the outbox, send due batches
/// within each app's recipient budget, read back each batch's outcome, and carry out recalls. Every step claims its
/// rows in the database first, so N instances (or a restarted one) neither send a batch twice nor lose one.
/// </summary>
internal sealed class NoticeDispatcher(NoticeRepository notices, NoticeOutbox outbox, AudienceResolver resolver, DingTalkClient client, CorpDirectory corps,
    ServiceInstance instance, LeaseRepository leases, IOptions<NoticeOptions> options, IOptions<DingTalkClientOptions> clientOptions,
    TimeProvider time, ILogger<NoticeDispatcher> log)
{
    /// <summary>
    /// How long one instance resolves a notice before another may: only to spare the work twice (a city-wide audience is
    /// 200,000 people, seconds of both instances' CPU while the notice waits), never for correctness, which the
    /// notice's status guards when the outbox is queued. A resolver that dies delays the notice by at most this.
    /// </summary>
    private static readonly TimeSpan ResolveLease = TimeSpan.FromSeconds(30);

    /// <summary>One second longer than DingTalk's minute, so that a budget spent at any instant is back only after it.</summary>
    public static readonly TimeSpan BudgetWindow = TimeSpan.FromSeconds(61);

    private NoticeOptions Settings => options.Value;

    /// <summary>
    /// Runs every step once; the worker's whole loop body. A corp's batches are sent from the moment they are queued,
    /// also while the same pass is still queueing the rest of a notice.
    /// </summary>
    public async Task RunOnceAsync(TimeSpan sendSlice, CancellationToken ct)
    {
        // One sender per corp at a time; a corp whose sender already returned (nothing was due then) gets a new one
        // when a later part of a notice brings it more batches.
        var senders = new Dictionary<string, Task>(StringComparer.Ordinal);
        var started = new List<Task>();
        void Send(string corpId)
        {
            lock (senders)
            {
                if (!senders.TryGetValue(corpId, out var sender) || sender.IsCompleted)
                {
                    senders[corpId] = SendDueAsync(corpId, sendSlice, ct);
                    started.Add(senders[corpId]);
                }
            }
        }

        foreach (var corpId in await outbox.CorpsWithDueBatchesAsync(time.UtcNowForDatabase(), ct))
        {
            Send(corpId);
        }

        try
        {
            await Task.WhenAll(ResolveDueAsync(ct, Send), CheckResultsAsync(sendSlice, ct));
        }
        finally
        {
            Task[] all;
            lock (senders)
            {
                all = [.. started];
            }

            await Task.WhenAll(all);
        }

        await RecallAsync(ct);
    }

    /// <summary>
    /// Resolves the audience of each due notice and queues its batches in parts, every school's first batch first,
    /// telling <paramref name="queued"/> of each corp as soon as a part with its batches is in; then queues who is
    /// missing of any notice whose queueing instance died part-way. The number of notices started.
    /// </summary>
    public async Task<int> ResolveDueAsync(CancellationToken ct, Action<string>? queued = null)
    {
        var started = 0;
        var due = await notices.DueNoticeIdsAsync(time.UtcNowForDatabase(), 20, ct);
        var partlyQueued = await notices.PartlyQueuedNoticeIdsAsync(20, ct);
        foreach (var (id, resuming) in due.Select(id => (id, false)).Concat(partlyQueued.Select(id => (id, true))))
        {
            var notice = await notices.FindAsync(id, ct);
            if (notice is null || notice.Status != (resuming ? NoticeStatus.Sending : NoticeStatus.Scheduled))
            {
                continue;
            }

            var lease = $"notice-resolve:{notice.Id}";
            if (!await leases.TryAcquireAsync(lease, instance.Id, ResolveLease, ct))
            {
                continue;
            }

            try
            {
                if (await QueueAsync(notice, resuming, queued, ct))
                {
                    started += resuming ? 0 : 1;
                }
            }
            finally
            {
                await leases.ReleaseAsync(lease, instance.Id, CancellationToken.None);
            }
        }

        return started;
    }

    private async Task<bool> QueueAsync(Notice notice, bool resuming, Action<string>? queued, CancellationToken ct)
    {
        var audience = JsonSerializer.Deserialize<List<AudienceSelector>>(notice.Audience, JsonSerializerOptions.Web) ?? [];
        var recipients = (await resolver.ResolveAsync(audience, ct)).Where(r => corps.Find(r.CorpId) is not null).ToList();
        if (resuming)
        {
            recipients = [.. await outbox.NotYetQueuedAsync(notice.Id, recipients, ct)];
        }

        string MessageFor(string corpId, IReadOnlyList<string> _) =>
            NoticeMessages.For(notice, Settings, NoticeMessages.MiniAppOf(corpId, corps, Settings));

        var parts = NoticeOutbox.QueueInParts(recipients, Settings.BatchSize, Settings.QueuePartSize);
        for (var i = 0; i < parts.Count; i++)
        {
            var last = i == parts.Count - 1;
            var now = time.UtcNowForDatabase();
            var done = i == 0 && !resuming
                ? await outbox.BeginSendingAsync(notice.Id, recipients.Count, parts[i], last, MessageFor, Settings.BatchSize, now, ct)
                : await outbox.QueueMoreAsync(notice.Id, parts[i], last, MessageFor, Settings.BatchSize, now, ct);
            if (!done)
            {
                return false;
            }

            if (i == 0)
            {
                log.LogInformation("Notice {NoticeId} resolved to {Recipients} recipients{Resumed}", notice.Id, recipients.Count,
                    resuming ? ", the rest of its outbox queued after an instance stopped part-way" : "");
            }

            foreach (var corpId in parts[i].Select(r => r.CorpId).Distinct(StringComparer.Ordinal))
            {
                queued?.Invoke(corpId);
            }
        }

        return true;
    }

    /// <summary>
    /// Sends the corp's due batches one after another for up to <paramref name="slice"/>, waiting within it for the
    /// budget when that is sooner than the slice's end. The number of batches sent.
    /// </summary>
    public async Task<int> SendDueAsync(string corpId, TimeSpan slice, CancellationToken ct)
    {
        if (corps.Find(corpId) is not { } corp)
        {
            log.LogWarning("Batches for corp {CorpId} wait: the corp is not configured here", corpId);
            return 0;
        }

        var sent = 0;
        var end = time.GetUtcNow() + slice;
        while (!ct.IsCancellationRequested)
        {
            var now = time.UtcNowForDatabase();
            var today = ShanghaiTime.DayOf(now);
            var claim = await outbox.ClaimNextBatchAsync(corpId, instance.Id, clientOptions.Value.WorkNoticeRecipientsPerMinute,
                BudgetWindow, Settings.ClaimTimeout, Settings.MessagesPerUserPerDay, now, today, ShanghaiTime.NextDayStartUtc(today), ct);
            if (claim.Batch is { } batch)
            {
                await SendBatchAsync(corp.App, batch, ct);
                sent++;
                continue;
            }

            if (claim.WaitUntil is not { } wait || wait >= end.UtcDateTime)
            {
                return sent;
            }

            if (wait > now)
            {
                await Task.Delay(wait - now, time, ct);
            }
        }

        return sent;
    }

    private async Task SendBatchAsync(DingTalkApp app, NoticeBatch batch, CancellationToken ct)
    {
        try
        {
            var taskId = await client.SendWorkNoticeAsync(app, batch.UserIdList.ToList(), NoticeMessages.Parse(batch.Message), ct);
            EduDingTelemetry.NoticeRecipientsSent.Add(batch.RecipientCount, new KeyValuePair<string, object?>("purpose", batch.Purpose));
            if (!await outbox.MarkSentAsync(batch, instance.Id, taskId, time.UtcNowForDatabase(), CancellationToken.None))
            {
                log.LogWarning("Batch {BatchId} was sent (task {TaskId}) after its claim expired; another instance owns it now",
                    batch.Id, taskId);
            }
        }
        catch (DingTalkException ex)
        {
            // DingTalk answered with a refusal: nothing was sent.
            await ReleaseAsync(batch, $"{ex.Code} {ex.DingTalkMessage}", uncertain: false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !ct.IsCancellationRequested)
        {
            // No answer: DingTalk may have accepted it. A same-day resend of the identical message cannot arrive twice.
            await ReleaseAsync(batch, ex.Message, uncertain: true);
        }
    }

    private async Task ReleaseAsync(NoticeBatch batch, string error, bool uncertain)
    {
        var now = time.UtcNowForDatabase();
        DateTime? retryAt = batch.Attempts >= Settings.MaxAttempts ? null : now + RetryDelay(batch.Attempts);
        log.LogWarning("Batch {BatchId} of notice {NoticeId} failed (attempt {Attempt}): {Error}; {Next}", batch.Id, batch.NoticeId,
            batch.Attempts, error, retryAt is null ? "giving up" : $"retrying at {retryAt:O}");
        await outbox.ReleaseFailedAttemptAsync(batch, instance.Id, error, retryAt, uncertain, now, CancellationToken.None);
    }

    private TimeSpan RetryDelay(int attempts) =>
        TimeSpan.FromTicks(Math.Min(TimeSpan.FromHours(1).Ticks, Settings.RetryBaseDelay.Ticks << Math.Min(attempts - 1, 20)));

    /// <summary>Reads back the outcome of sent batches for up to <paramref name="slice"/>; the number checked.</summary>
    public async Task<int> CheckResultsAsync(TimeSpan slice, CancellationToken ct)
    {
        var checkedCount = 0;
        var end = time.GetUtcNow() + slice;
        while (!ct.IsCancellationRequested && time.GetUtcNow() < end)
        {
            var now = time.UtcNowForDatabase();
            var batch = await outbox.ClaimBatchToCheckAsync(instance.Id, now - Settings.ResultCheckDelay, Settings.ClaimTimeout, now, ct);
            if (batch is null)
            {
                return checkedCount;
            }

            await CheckAsync(batch, ct);
            checkedCount++;
        }

        return checkedCount;
    }

    private async Task CheckAsync(NoticeBatch batch, CancellationToken ct)
    {
        var now = time.UtcNowForDatabase();
        if (!Settings.VerifyDelivery || corps.Find(batch.CorpId) is not { } corp || batch.TaskId is not { } taskId)
        {
            await outbox.ApplyOutcomeAsync(batch, instance.Id, [], [], [], now, ct);
            return;
        }

        EduDing.DingTalk.Models.SendResult result;
        try
        {
            result = await client.GetSendResultAsync(corp.App, taskId, ct);
        }
        catch (DingTalkException ex)
        {
            // The outcome cannot be read (e.g. older than 24 h): the recipients stay "sent", unconfirmed.
            log.LogWarning("The outcome of batch {BatchId} (task {TaskId}) could not be read: {Error}", batch.Id, taskId, ex.Message);
            await outbox.ApplyOutcomeAsync(batch, instance.Id, [], [], [], now, ct);
            return;
        }

        var today = ShanghaiTime.DayOf(now);
        var delivered = new List<string>();
        var failed = new List<(string, string)>();
        var requeue = new List<(string, DateTime)>();
        delivered.AddRange(result.ReadUserIdList ?? []);
        delivered.AddRange(result.UnreadUserIdList ?? []);
        failed.AddRange((result.InvalidUserIdList ?? []).Select(u => (u, "invalid-userid: DingTalk does not know this userid")));
        var coded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var forbidden in result.ForbiddenList ?? [])
        {
            coded.Add(forbidden.UserId);
            switch (forbidden.Code)
            {
                case "143103" or "143104":
                    log.LogWarning("DingTalk held back {UserId} of batch {BatchId} for its per-minute limit ({Code}); re-queued",
                        forbidden.UserId, batch.Id, forbidden.Code);
                    requeue.Add((forbidden.UserId, now + BudgetWindow));
                    break;
                case "143105":
                    requeue.Add((forbidden.UserId, ShanghaiTime.NextDayStartUtc(today)));
                    break;
                case "143106" when batch.Uncertain:
                    // The earlier, unconfirmed attempt of this very batch reached the person.
                    delivered.Add(forbidden.UserId);
                    break;
                default:
                    failed.Add((forbidden.UserId, $"forbidden {forbidden.Code}"));
                    break;
            }
        }

        failed.AddRange((result.ForbiddenUserIdList ?? []).Where(u => !coded.Contains(u)).Select(u => (u, "forbidden")));
        foreach (var userId in result.FailedUserIdList ?? [])
        {
            if (batch.Attempts < Settings.MaxAttempts)
            {
                requeue.Add((userId, now + RetryDelay(batch.Attempts)));
            }
            else
            {
                failed.Add((userId, "failed: DingTalk could not deliver"));
            }
        }

        await outbox.ApplyOutcomeAsync(batch, instance.Id, delivered, failed, requeue, now, ct);
    }

    /// <summary>Carries out queued DingTalk recalls; the number done.</summary>
    public async Task<int> RecallAsync(CancellationToken ct)
    {
        var done = 0;
        while (!ct.IsCancellationRequested &&
               await outbox.ClaimRecallAsync(instance.Id, Settings.ClaimTimeout, time.UtcNowForDatabase(), ct) is { } batch)
        {
            var outcome = "done";
            try
            {
                if (corps.Find(batch.CorpId) is { } corp && batch.TaskId is { } taskId)
                {
                    await client.RecallWorkNoticeAsync(corp.App, taskId, ct);
                }
            }
            catch (DingTalkException ex)
            {
                log.LogWarning("Recall of batch {BatchId} failed: {Error}", batch.Id, ex.Message);
                outcome = "failed";
            }

            await outbox.FinishRecallAsync(batch.Id, outcome, ct);
            done++;
        }

        return done;
    }
}
