using EduDing.Api.Features.Notices;

namespace EduDing.Api.Tests.Features.Notices;

public sealed class NoticeQueuePartsTests
{
    private static IEnumerable<NoticeRecipient> School(string corpId, int people) =>
        Enumerable.Range(0, people).Select(i => new NoticeRecipient(corpId, $"u{i}", null, $"u{i}", "guardians", 1, "test"));

    [Fact]
    public void Parts_HoldWholeSchools_TheLargestFirst_EachClosedOnceItReachesTheSize()
    {
        List<NoticeRecipient> city = [.. School("small", 30), .. School("largest", 90), .. School("middle", 60), .. School("tie-b", 40),
            .. School("tie-a", 40)];

        var parts = NoticeOutbox.QueueInParts(city, 100);

        Assert.Equal([["largest", "middle"], ["tie-a", "tie-b", "small"]],
            parts.Select(p => p.Select(r => r.CorpId).Distinct().ToArray()).ToArray());
        Assert.Equal(city.Count, parts.Sum(p => p.Count));
        Assert.Equal(city.Count, parts.SelectMany(p => p).Distinct().Count());
    }

    [Fact]
    public void NoOne_IsOneEmptyPart()
    {
        var parts = NoticeOutbox.QueueInParts([], 100);

        Assert.Single(parts);
        Assert.Empty(parts[0]);
    }
}
