using EduDing.Api.Features.AfterSchool;

namespace EduDing.Api.Tests.Features.AfterSchool;

/// <summary>The draw is reproducible from its seed and puts priority claims first.</summary>
public sealed class CareLotteryTests
{
    private static readonly IReadOnlyList<LotteryEntry> Entries =
        Enumerable.Range(1, 60).Select(i => new LotteryEntry(i, Priority: i % 7 == 0)).ToList();

    [Fact]
    public void TheSameSeed_GivesTheSameOrder_AndAnotherSeedAnother()
    {
        var first = CareLottery.Draw(Entries, "2026秋季-围棋社");
        var again = CareLottery.Draw(Entries.Reverse(), "2026秋季-围棋社");
        var other = CareLottery.Draw(Entries, "another seed");

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(Entries.Select(e => e.ApplicationId).Order(), first.Order());
    }

    [Fact]
    public void PriorityClaims_AreDrawnBeforeEveryoneElse()
    {
        var drawn = CareLottery.Draw(Entries, "seed");
        var priority = Entries.Where(e => e.Priority).Select(e => e.ApplicationId).ToHashSet();

        Assert.All(drawn.Take(priority.Count), id => Assert.Contains(id, priority));
        Assert.DoesNotContain(drawn.Skip(priority.Count), id => priority.Contains(id));
        // Not by id: the draw mixes the order within each group.
        Assert.NotEqual(drawn.Skip(priority.Count), drawn.Skip(priority.Count).Order());
    }
}
