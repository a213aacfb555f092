using System.Collections.Concurrent;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Notices;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Tests.Features.Notices;

/// <summary>The outbox's claims, budget and limits, against each provider, with time passed in explicitly.</summary>
public abstract class NoticeRepositoryTests<TDb>(TDb db) where TDb : TestDb
{
    private static readonly TimeSpan Window = NoticeDispatcher.BudgetWindow;
    private static readonly TimeSpan ClaimTimeout = TimeSpan.FromMinutes(2);
    private static readonly DateTime Start = new(2026, 9, 1, 1, 0, 0, DateTimeKind.Utc);

    private static DateOnly Day(DateTime utc) => ShanghaiTime.DayOf(utc);

    private NoticeOutbox OutboxOf(NoticeRepository repo) => new(db.Database, repo);

    /// <summary>A notice already resolved into batches of 100 for <paramref name="recipients"/> people of a fresh corp.</summary>
    private async Task<(NoticeRepository Repo, string CorpId, long NoticeId)> QueuedNoticeAsync(int recipients, string? corpId = null,
        IReadOnlyList<string>? userIds = null)
    {
        var repo = new NoticeRepository(db.Database);
        corpId ??= $"corp-{Guid.NewGuid():N}"[..20];
        var id = await repo.CreateAsync("announcement", "notice", corpId, "sender", "学校", "标题", "正文", "[]", "[]", null,
            NoticeStatus.Scheduled, Start, Start, default);
        var people = (userIds ?? Enumerable.Range(0, recipients).Select(i => $"u{i:D5}").ToList())
            .Select(u => new NoticeRecipient(corpId, u, null, u, "guardians", 1, "test")).ToList();
        Assert.True(await OutboxOf(repo).BeginSendingAsync(id, people, (_, _) => $"{{\"notice\":{id}}}", 100, Start, default));
        return (repo, corpId, id);
    }

    [Fact]
    public async Task BeginSending_IsTakenByOneCallerOnly()
    {
        db.SkipUnlessAvailable();
        var (repo, corpId, id) = await QueuedNoticeAsync(250);

        var again = await OutboxOf(repo).BeginSendingAsync(id, [new NoticeRecipient(corpId, "late", null, "late", "guardians", 1, "test")],
            (_, _) => "{}", 100, Start, default);

        Assert.False(again);
        var rows = await repo.ProgressAsync(id, default);
        Assert.Equal(250, rows.Sum(r => r.Recipients));
        Assert.Equal((3, 0), await repo.BatchCountsAsync(id, default));
    }

    [Fact]
    public async Task ResolvingANotice_IsLeftToTheInstanceHoldingItsLease()
    {
        db.SkipUnlessAvailable();
        var repo = new NoticeRepository(db.Database);
        var leases = new LeaseRepository(db.Database, TimeProvider.System);
        var id = await repo.CreateAsync("announcement", "notice", $"corp-{Guid.NewGuid():N}"[..20], "sender", "学校", "标题", "正文", "[]", "[]",
            null, NoticeStatus.Scheduled, Start, Start, default);
        using var client = DingTalkClient.Create(new HttpClient(), new DingTalkClientOptions());
        var dispatcher = DispatcherOf(repo, leases, client);
        Assert.True(await leases.TryAcquireAsync($"notice-resolve:{id}", "another-instance", TimeSpan.FromMinutes(1), default));

        await dispatcher.ResolveDueAsync(default);
        var whileHeld = (await repo.FindAsync(id, default))!.Status;
        await leases.ReleaseAsync($"notice-resolve:{id}", "another-instance", default);
        await dispatcher.ResolveDueAsync(default);

        Assert.Equal(NoticeStatus.Scheduled, whileHeld);
        // Its audience is empty, so resolving it ends it at once.
        Assert.Equal(NoticeStatus.Sent, (await repo.FindAsync(id, default))!.Status);
    }

    /// <summary>A dispatcher over the test database with no corps configured (it never reaches DingTalk).</summary>
    private NoticeDispatcher DispatcherOf(NoticeRepository repo, LeaseRepository leases, DingTalkClient client)
    {
        var dingTalk = Options.Create(new DingTalkOptions());
        return new NoticeDispatcher(repo, OutboxOf(repo), new AudienceResolver(new OrgDirectory(db.Database)), client,
            new CorpDirectory(dingTalk, new SandboxHost(dingTalk, NullLogger<SandboxHost>.Instance)), new ServiceInstance(), leases,
            Options.Create(new NoticeOptions()), Options.Create(new DingTalkClientOptions()), TimeProvider.System, NullLogger<NoticeDispatcher>.Instance);
    }

    private static List<NoticeRecipient> People(string corpId, int count) =>
        Enumerable.Range(0, count).Select(i => new NoticeRecipient(corpId, $"{corpId}-u{i:D4}", null, $"u{i}", "guardians", 1, "test")).ToList();

    private async Task<long> ScheduledNoticeAsync(NoticeRepository repo) =>
        await repo.CreateAsync("announcement", "notice", $"corp-{Guid.NewGuid():N}"[..20], "sender", "学校", "标题", "正文", "[]", "[]", null,
            NoticeStatus.Scheduled, Start, Start, default);

    /// <summary>A notice whose first part (school "{prefix}-a") is queued and whose audience is not yet wholly queued.</summary>
    private async Task<(NoticeRepository Repo, long NoticeId, string Prefix)> PartlyQueuedNoticeAsync(int targeted, int firstSchool)
    {
        var repo = new NoticeRepository(db.Database);
        var id = await ScheduledNoticeAsync(repo);
        var prefix = $"c{Guid.NewGuid():N}"[..12];
        Assert.True(await OutboxOf(repo).BeginSendingAsync(id, targeted, People($"{prefix}-a", firstSchool), audienceQueued: false,
            (_, _) => "{}", 100, Start, default));
        return (repo, id, prefix);
    }

    /// <summary>Sends and confirms every batch of <paramref name="corpIds"/> that is due, as the dispatcher would.</summary>
    private async Task DeliverEverythingQueuedAsync(NoticeRepository repo, params string[] corpIds)
    {
        var outbox = OutboxOf(repo);
        foreach (var corpId in corpIds)
        {
            var now = Start;
            while (await outbox.ClaimNextBatchAsync(corpId, "me", 100_000, Window, ClaimTimeout, 500, now, Day(now),
                       ShanghaiTime.NextDayStartUtc(Day(now)), default) is { } claim && (claim.Batch is not null || claim.WaitUntil is not null))
            {
                if (claim.Batch is { } batch)
                {
                    Assert.True(await outbox.MarkSentAsync(batch, "me", batch.Id, now, default));
                }
                else
                {
                    now = claim.WaitUntil!.Value;
                }
            }
        }

        while (await outbox.ClaimBatchToCheckAsync("me", Start.AddDays(1), ClaimTimeout, Start, default) is { } sent)
        {
            await outbox.ApplyOutcomeAsync(sent, "me", sent.UserIdList, [], [], Start, default);
        }
    }

    [Fact]
    public async Task ANoticeQueuedInParts_CompletesOnlyAfterItsLastPart_AndResumingQueuesOnlyWhoIsMissing()
    {
        db.SkipUnlessAvailable();
        var repo = new NoticeRepository(db.Database);
        var outbox = OutboxOf(repo);
        var id = await ScheduledNoticeAsync(repo);
        var prefix = $"c{Guid.NewGuid():N}"[..12];
        List<NoticeRecipient> everyone = [.. People($"{prefix}-a", 150), .. People($"{prefix}-b", 120), .. People($"{prefix}-c", 50)];
        var parts = NoticeOutbox.QueueInParts(everyone, 100, 200);
        Assert.Equal([200, 120], parts.Select(p => p.Count));

        // The instance queueing it stops after the first part (the first batch of the two larger schools) ...
        Assert.True(await outbox.BeginSendingAsync(id, everyone.Count, parts[0], audienceQueued: false, (_, _) => "{}", 100, Start, default));
        await DeliverEverythingQueuedAsync(repo, $"{prefix}-a", $"{prefix}-b");
        Assert.Equal(NoticeStatus.Sending, (await repo.FindAsync(id, default))!.Status);

        // ... and another resolves the whole audience again: only who is not yet queued is added, once.
        var missing = await outbox.NotYetQueuedAsync(id, everyone, default);
        Assert.Equal(120, missing.Count);
        Assert.False(await outbox.QueueMoreAsync(id, everyone, audienceQueued: true, (_, _) => "{}", 100, Start, default));
        Assert.True(await outbox.QueueMoreAsync(id, missing, audienceQueued: true, (_, _) => "{}", 100, Start, default));
        Assert.False(await outbox.QueueMoreAsync(id, missing, audienceQueued: true, (_, _) => "{}", 100, Start, default));
        Assert.Equal(everyone.Count, (await repo.ProgressAsync(id, default)).Sum(r => r.Recipients));
        Assert.Equal((3, 0), await repo.BatchCountsAsync(id, default));
        Assert.Equal(NoticeStatus.Sending, (await repo.FindAsync(id, default))!.Status);

        await DeliverEverythingQueuedAsync(repo, $"{prefix}-a", $"{prefix}-b", $"{prefix}-c");
        var sent = (await repo.FindAsync(id, default))!;
        Assert.Equal(NoticeStatus.Sent, sent.Status);
        Assert.Equal(everyone.Count, sent.Targeted);
        var delivered = await repo.RecipientsAsync(id, RecipientStatus.Delivered, null, null, null, 0, 500, default);
        Assert.Equal(everyone.Count, delivered.Total);
    }

    [Fact]
    public async Task TwoInstancesQueueingTheSamePart_QueueItOnce()
    {
        db.SkipUnlessAvailable();
        var (repo, id, prefix) = await PartlyQueuedNoticeAsync(targeted: 400, firstSchool: 200);
        List<NoticeRecipient> rest = [.. People($"{prefix}-b", 100), .. People($"{prefix}-c", 100)];

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            OutboxOf(repo).QueueMoreAsync(id, rest, audienceQueued: false, (_, _) => "{}", 100, Start, default))));
        Assert.True(await OutboxOf(repo).QueueMoreAsync(id, [], audienceQueued: true, (_, _) => "{}", 100, Start, default));

        Assert.Equal(1, results.Count(r => r));
        Assert.Equal(400, (await repo.ProgressAsync(id, default)).Sum(r => r.Recipients));
        Assert.Equal((4, 0), await repo.BatchCountsAsync(id, default));
        Assert.Equal(400, (await repo.FindAsync(id, default))!.Targeted);
    }

    [Fact]
    public async Task AFreshClaim_IsNotUncertain_OnlyOneTakenOverAfterItsClaimExpired()
    {
        db.SkipUnlessAvailable();
        var (repo, corpId, noticeId) = await QueuedNoticeAsync(200);
        var outbox = OutboxOf(repo);
        var first = (await outbox.ClaimNextBatchAsync(corpId, "crashed", 100_000, Window, ClaimTimeout, 500, Start, Day(Start),
            ShanghaiTime.NextDayStartUtc(Day(Start)), default)).Batch!;
        var later = Start + ClaimTimeout + TimeSpan.FromSeconds(1);
        await outbox.ClaimNextBatchAsync(corpId, "survivor", 100_000, Window, ClaimTimeout, 500, later, Day(later),
            ShanghaiTime.NextDayStartUtc(Day(later)), default);
        var second = (await outbox.ClaimNextBatchAsync(corpId, "survivor", 100_000, Window, ClaimTimeout, 500, later.AddSeconds(1),
            Day(later), ShanghaiTime.NextDayStartUtc(Day(later)), default)).Batch!;

        await using var connection = await db.Database.OpenConnectionAsync(default);
        var stored = (await Dapper.SqlMapper.QueryAsync<(long Id, bool Uncertain)>(connection,
            "SELECT id, uncertain FROM notice_batches WHERE notice_id = @noticeId", new { noticeId })).ToDictionary(b => b.Id, b => b.Uncertain);
        Assert.True(stored[first.Id]);
        Assert.False(stored[second.Id]);
    }

    [Fact]
    public async Task ANoticeRecalledWhileItIsQueued_QueuesNothingMore()
    {
        db.SkipUnlessAvailable();
        var (repo, id, prefix) = await PartlyQueuedNoticeAsync(targeted: 300, firstSchool: 200);
        Assert.True(await OutboxOf(repo).RecallAsync(id, "sender", Start, Start.AddDays(-1), default));

        Assert.False(await OutboxOf(repo).QueueMoreAsync(id, People($"{prefix}-b", 100), audienceQueued: true, (_, _) => "{}", 100, Start, default));

        Assert.Equal(200, (await repo.ProgressAsync(id, default)).Sum(r => r.Recipients));
        Assert.Equal((0, 0), await repo.BatchCountsAsync(id, default));
        Assert.Equal(NoticeStatus.Recalled, (await repo.FindAsync(id, default))!.Status);
    }

    [Fact]
    public async Task ANoticeLeftPartlyQueued_IsQueuedToTheEndByTheNextResolvePass()
    {
        db.SkipUnlessAvailable();
        // What an instance that died after the first part leaves: the notice sending, its audience not wholly queued.
        var (repo, id, prefix) = await PartlyQueuedNoticeAsync(targeted: 100, firstSchool: 100);
        var corpId = $"{prefix}-a";
        await DeliverEverythingQueuedAsync(repo, corpId);
        Assert.Equal(NoticeStatus.Sending, (await repo.FindAsync(id, default))!.Status);
        using var client = DingTalkClient.Create(new HttpClient(), new DingTalkClientOptions());
        var dispatcher = DispatcherOf(repo, new LeaseRepository(db.Database, TimeProvider.System), client);

        // Its audience (no selectors) resolves to no one more: the pass marks it wholly queued, and with every batch done it is sent.
        Assert.Equal(0, await dispatcher.ResolveDueAsync(default));

        var notice = (await repo.FindAsync(id, default))!;
        Assert.Equal(NoticeStatus.Sent, notice.Status);
        Assert.Equal(100, notice.Targeted);
    }

    [Fact]
    public async Task ConcurrentClaimers_ClaimEachBatchOnce()
    {
        db.SkipUnlessAvailable();
        var (repo, corpId, _) = await QueuedNoticeAsync(2000);
        var claimed = new ConcurrentBag<long>();
        var tick = 0;

        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var round = 0; round < 40; round++)
            {
                // Ten seconds apart: well past the even spacing (6.1 s per 100 at 1,000 a minute), inside the window's cap.
                var now = Start.AddSeconds(10 * Interlocked.Increment(ref tick));
                // Simulated time runs ahead of the workers: a claim must not expire before its holder confirms it.
                var claim = await OutboxOf(repo).ClaimNextBatchAsync(corpId, $"worker-{worker}", 1000, Window, TimeSpan.FromDays(1), 500, now, Day(now),
                    ShanghaiTime.NextDayStartUtc(Day(now)), default);
                if (claim.Batch is { } batch)
                {
                    claimed.Add(batch.Id);
                    Assert.True(await OutboxOf(repo).MarkSentAsync(batch, $"worker-{worker}", 1000 + batch.Id, now, default));
                }
            }
        })));

        Assert.Equal(20, claimed.Count);
        Assert.Equal(20, claimed.Distinct().Count());
    }

    [Fact]
    public async Task Claims_StayWithinTheRecipientBudget_InEveryWindow_AndComeEvenlySpaced()
    {
        db.SkipUnlessAvailable();
        const int cap = 300;
        var (repo, corpId, _) = await QueuedNoticeAsync(2000);
        var sends = new List<(DateTime At, int Recipients)>();
        var now = Start;
        while (sends.Count < 20)
        {
            var claim = await OutboxOf(repo).ClaimNextBatchAsync(corpId, "me", cap, Window, ClaimTimeout, 500, now, Day(now),
                ShanghaiTime.NextDayStartUtc(Day(now)), default);
            if (claim.Batch is { } batch)
            {
                sends.Add((now, batch.RecipientCount));
                await OutboxOf(repo).MarkSentAsync(batch, "me", batch.Id, now, default);
                now = now.AddMilliseconds(1);
                continue;
            }

            Assert.NotNull(claim.WaitUntil);
            Assert.True(claim.WaitUntil > now);
            now = claim.WaitUntil!.Value;
        }

        // DingTalk's minute: the ledger's 61 s window (and the lateness it absorbs, up to 250 ms) must keep every 60 s within the cap.
        var minute = TimeSpan.FromMinutes(1);
        foreach (var (at, _) in sends)
        {
            Assert.True(sends.Where(s => s.At > at - minute && s.At <= at).Sum(s => s.Recipients) <= cap,
                $"more than {cap} in the window ending {at:O}: {string.Join(", ", sends.Select(s => (s.At - Start).TotalSeconds))}");
        }

        // 100 of a 300-per-61 s budget: one batch every 20.3 s, so 20 batches span 19 intervals.
        var span = sends[^1].At - sends[0].At;
        Assert.InRange(span.TotalSeconds, 19 * 20.33 - 1, 19 * 20.34 + 1);
    }

    [Fact]
    public async Task AClaimThatExpiredMidSend_IsResentTheSameDayAsUncertain_ButNotOnALaterDay()
    {
        db.SkipUnlessAvailable();
        var (repo, corpId, noticeId) = await QueuedNoticeAsync(200);
        var first = (await OutboxOf(repo).ClaimNextBatchAsync(corpId, "crashed", 100_000, Window, ClaimTimeout, 500, Start, Day(Start),
            ShanghaiTime.NextDayStartUtc(Day(Start)), default)).Batch!;
        Assert.False(first.Uncertain);

        // The instance died after claiming: the claim expires and another instance takes the batch over.
        var later = Start + ClaimTimeout + TimeSpan.FromSeconds(1);
        var retaken = (await OutboxOf(repo).ClaimNextBatchAsync(corpId, "survivor", 100_000, Window, ClaimTimeout, 500, later, Day(later),
            ShanghaiTime.NextDayStartUtc(Day(later)), default)).Batch!;
        Assert.Equal(first.Id, retaken.Id);
        Assert.True(retaken.Uncertain);
        Assert.False(await OutboxOf(repo).MarkSentAsync(first, "crashed", 1, later, default));
        Assert.True(await OutboxOf(repo).MarkSentAsync(retaken, "survivor", 2, later, default));

        // The second batch's claim expires too, but is found only on the next day: recorded as uncertain, not resent.
        var secondAt = later.AddSeconds(1);
        var second = (await OutboxOf(repo).ClaimNextBatchAsync(corpId, "crashed", 100_000, Window, ClaimTimeout, 500, secondAt, Day(secondAt),
            ShanghaiTime.NextDayStartUtc(Day(secondAt)), default)).Batch!;
        var nextDay = ShanghaiTime.NextDayStartUtc(Day(later)).AddHours(1);
        var claim = await OutboxOf(repo).ClaimNextBatchAsync(corpId, "survivor", 100_000, Window, ClaimTimeout, 500, nextDay, Day(nextDay),
            ShanghaiTime.NextDayStartUtc(Day(nextDay)), default);
        Assert.Null(claim.Batch);
        var failed = await repo.RecipientsAsync(noticeId, RecipientStatus.Failed, null, null, null, 0, 200, default);
        Assert.Equal(second.RecipientCount, failed.Total);
        Assert.All(failed.Items, r => Assert.StartsWith("delivery-uncertain", r.Failure));
    }

    [Fact]
    public async Task PeopleAtTheDailyLimit_WaitForTheNextShanghaiDay()
    {
        db.SkipUnlessAvailable();
        var corpId = $"corp-{Guid.NewGuid():N}"[..20];
        var (repo, _, _) = await QueuedNoticeAsync(0, corpId, ["a", "b"]);
        var (_, _, secondNotice) = await QueuedNoticeAsync(0, corpId, ["a", "c"]);
        var tomorrow = ShanghaiTime.NextDayStartUtc(Day(Start));

        async Task<BatchClaim> ClaimAt(DateTime now) => await OutboxOf(repo).ClaimNextBatchAsync(corpId, "me", 100_000, Window, ClaimTimeout,
            messagesPerUserPerDay: 1, now, Day(now), ShanghaiTime.NextDayStartUtc(Day(now)), default);

        var first = (await ClaimAt(Start)).Batch!;
        Assert.Equal(["a", "b"], first.UserIdList);
        await OutboxOf(repo).MarkSentAsync(first, "me", 1, Start, default);

        // "a" already had today's one message: only "c" goes now, "a" tomorrow.
        var split = await ClaimAt(Start.AddSeconds(5));
        var second = split.Batch ?? (await ClaimAt(Start.AddSeconds(5))).Batch!;
        Assert.Equal(["c"], second.UserIdList);
        await OutboxOf(repo).MarkSentAsync(second, "me", 2, Start.AddSeconds(5), default);
        Assert.Null((await ClaimAt(Start.AddSeconds(10))).Batch);

        var deferred = (await ClaimAt(tomorrow.AddSeconds(1))).Batch!;
        Assert.Equal(["a"], deferred.UserIdList);
        Assert.Equal(secondNotice, deferred.NoticeId);
    }
}

public sealed class SqliteNoticeRepositoryTests(SqliteTestDb db) : NoticeRepositoryTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlNoticeRepositoryTests(MySqlTestDb db) : NoticeRepositoryTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
