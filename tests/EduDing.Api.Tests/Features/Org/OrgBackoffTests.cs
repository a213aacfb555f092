using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk.Sandbox;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EduDing.Api.Tests.Features.Org;

/// <summary>Backing off from a DingTalk that fails: events over hours, then parked and replayable; reconciles spaced out; dead runs closed.</summary>
public sealed class OrgBackoffTests(SqliteTestDb db) : IClassFixture<SqliteTestDb>
{
    [Fact]
    public async Task FailingEvent_WaitsLongerEachTime_IsParkedAfterTheLastAttempt_AndReplayBringsItBack()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 2, 0, 0, TimeSpan.Zero));
        var inbox = new EventInbox(db.Database, time);
        const string corp = "corp-backoff";
        await inbox.TryAddAsync(corp, "e-1", "user_modify_org", "{\"UserId\":[\"u1\"]}", "http", default);
        var delays = new List<TimeSpan>();

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var due = Assert.Single(await inbox.PendingAsync(corp, 10, default));
            await inbox.MarkFailedAsync([due], "DingTalk did not answer", maxAttempts: 5, TimeSpan.FromSeconds(30), TimeSpan.FromHours(1), default);
            var waited = TimeSpan.Zero;
            while ((await inbox.PendingAsync(corp, 10, default)).Count == 0 && waited < TimeSpan.FromHours(2) && attempt < 5)
            {
                time.Advance(TimeSpan.FromSeconds(30));
                waited += TimeSpan.FromSeconds(30);
            }

            delays.Add(waited);
        }

        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(240)], delays.Take(4));
        time.Advance(TimeSpan.FromDays(1));
        Assert.Empty(await inbox.PendingAsync(corp, 10, default));
        var parked = Assert.Single((await inbox.ListAsync(corp, "parked", 0, 10, default)).Items);
        Assert.Equal("DingTalk did not answer", parked.LastError);
        Assert.Equal(1, await inbox.ReplayAsync(null, corp, default));
        Assert.Single(await inbox.PendingAsync(corp, 10, default));
    }

    [Fact]
    public async Task FailedReconcile_IsNotRetriedUntilItsBackoffPasses_UnlessRequested_AndADeadRunIsClosed()
    {
        var hanging = new SandboxOptions { Preset = "demo", Seed = 41, QpsPerApi = 0 };
        await using var harness = await OrgHarness.StartAsync(db, hanging, client =>
        {
            client.RequestTimeout = TimeSpan.FromMilliseconds(300);
            client.CallDeadline = TimeSpan.FromSeconds(1);
        });
        var corp = harness.Sandbox.World.Schools.Last();
        hanging.UnresponsiveCorps.Add(corp.CorpId);
        var scheduler = new OrgScheduler(harness.Corps, harness.Org, harness.Sync, harness.Runs, harness.Leases, harness.SyncOptions,
            harness.Time, NullLogger<OrgScheduler>.Instance);
        var runsOf = async () => (await harness.Runs.ListAsync(corp.CorpId, 0, 50, default)).Items;

        await scheduler.RunDueAsync(default);
        var afterFirst = await runsOf();
        await scheduler.RunDueAsync(default);
        var afterSecond = await runsOf();
        await harness.Org.RequestSyncAsync(corp.CorpId, DateTime.UtcNow.AddSeconds(1), default);
        await Task.Delay(1100);
        await scheduler.RunDueAsync(default);
        var afterRequest = await runsOf();

        var failed = Assert.Single(afterFirst);
        Assert.Equal(SyncRunRepository.Failed, failed.Status);
        Assert.Contains("did not answer", failed.Error);
        Assert.Single(afterSecond);
        Assert.Equal(2, afterRequest.Count);

        // A run whose instance died: still "running", nobody holds the corp's lease. The next pass closes it.
        var orphan = await harness.Runs.StartAsync(corp.CorpId, OrgSyncService.Kind, "test", "dead-instance", DateTime.UtcNow, default);
        await scheduler.RunDueAsync(default);
        var closed = await harness.Runs.FindAsync(orphan, default);
        Assert.Equal(SyncRunRepository.Failed, closed!.Status);
        Assert.StartsWith("abandoned", closed.Error);
    }

    [Fact]
    public async Task EventOfATypeNobodyHandles_IsKeptUnhandledAndVisible_NeverProcessed_AndLaterEventsStillApply()
    {
        await using var harness = await OrgHarness.StartAsync(db, new SandboxOptions { Preset = "demo", Seed = 42, QpsPerApi = 0 });
        var corp = harness.Sandbox.World.Schools.First();
        var user = corp.Users.Values.First(u => !u.Admin);
        await harness.FullSyncAsync(corp.CorpId);
        await harness.Inbox.TryAddAsync(corp.CorpId, "chat-1", "chat_update_title", "{\"ChatId\":\"c-1\"}", "stream", default);
        harness.Sandbox.Mutate.UpdateUser(corp.CorpId, user.UserId, name: "改名后");
        await harness.Inbox.TryAddAsync(corp.CorpId, "user-1", "user_modify_org", $"{{\"UserId\":[\"{user.UserId}\"]}}", "stream", default);

        await harness.Events.ProcessPendingAsync(corp.CorpId, default);

        var unhandled = Assert.Single((await harness.Inbox.ListAsync(corp.CorpId, "unhandled", 0, 10, default)).Items);
        Assert.Equal("chat_update_title", unhandled.EventType);
        Assert.Equal("unhandled", unhandled.Status);
        Assert.Null(unhandled.ProcessedAt);
        Assert.Contains((await harness.Org.ListStaffAsync(corp.CorpId, false, default)), s => s.UserId == user.UserId && s.Name == "改名后");
        Assert.Equal(1, await harness.Inbox.ReplayAsync(unhandled.Id, null, default));
        await harness.Events.ProcessPendingAsync(corp.CorpId, default);
        Assert.Single((await harness.Inbox.ListAsync(corp.CorpId, "unhandled", 0, 10, default)).Items);
    }
}
