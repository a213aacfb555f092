using EduDing.Api.Features.DingTalk;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk.Sandbox;
using Microsoft.Extensions.Time.Testing;

namespace EduDing.Api.Tests.Features.Org;

public sealed class PushBudgetTests(SqliteTestDb db) : IClassFixture<SqliteTestDb>
{
    [Fact]
    public async Task ReconcileOnly_WhenPushesRanOutOrNearlyDid_AndEventsResumeWhenTheMonthTurns()
    {
        // 2026-11-30 20:00 Beijing time.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
        await using var harness = await OrgHarness.StartAsync(db, new SandboxOptions { Preset = "demo", Seed = 61, QpsPerApi = 0 }, time: time);
        var (paused, busy) = (harness.Sandbox.World.Schools.First().CorpId, harness.Sandbox.World.Schools.Last().CorpId);
        await harness.Org.UpsertCorpsAsync(harness.Corps.All.Select(c => (c.CorpId, c.Kind.ToString(), c.Name)), time.GetUtcNow().UtcDateTime, default);
        var budget = new PushBudget(db.Database, harness.Usage, harness.Corps);

        await budget.MarkExhaustedAsync(paused, "DingTalk 20001", default);
        for (var i = 0; i < 2_850; i++)
        {
            budget.OnPushed(busy, "edu_user_insert");
            budget.OnPushed(busy, "user_modify_org");
        }

        var pausedNow = await budget.StateAsync(paused, default);
        var busyNow = await budget.StateAsync(busy, default);
        time.Advance(TimeSpan.FromHours(5));
        var pausedNextMonth = await budget.StateAsync(paused, default);
        var busyNextMonth = await budget.StateAsync(busy, default);

        Assert.True(pausedNow.ReconcileOnly);
        Assert.Equal(2_850, busyNow.PushesThisMonth);
        Assert.Equal(3_000, busyNow.MonthlyQuota);
        Assert.True(busyNow.ReconcileOnly);
        Assert.False(pausedNextMonth.ReconcileOnly);
        Assert.False(busyNextMonth.ReconcileOnly);
        Assert.Equal(0, busyNextMonth.PushesThisMonth);
    }
}
