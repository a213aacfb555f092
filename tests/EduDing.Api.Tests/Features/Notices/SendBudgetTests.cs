using EduDing.Api.Features.Notices;

namespace EduDing.Api.Tests.Features.Notices;

/// <summary>The send budget is arithmetic over the ledger of what was sent: no database, no clock.</summary>
public sealed class SendBudgetTests
{
    private static readonly TimeSpan Window = NoticeDispatcher.BudgetWindow;

    [Fact]
    public void WaitFor_SpacesBatchesEvenly_AndNeverExceedsTheCap()
    {
        var now = new DateTime(2026, 9, 1, 1, 0, 0, DateTimeKind.Utc);
        Assert.Null(SendBudget.WaitFor([], 100, 5000, Window, now));
        // The last 100 went 0.5 s ago: at 5,000 per 61 s the next 100 may go 1.22 s after it.
        Assert.Equal(now.AddSeconds(0.72), SendBudget.WaitFor([(now.AddSeconds(-0.5), 100)], 100, 5000, Window, now));
        // A full window: the next batch waits until enough of the oldest sends leave it.
        var full = Enumerable.Range(0, 50).Select(i => (now.AddSeconds(-60 + i), 100)).ToList();
        Assert.Equal(now.AddSeconds(1), SendBudget.WaitFor(full, 100, 5000, Window, now));
    }
}
