using EduDing.Api.Features.Notices;

namespace EduDing.Api.Tests.Features.Notices;

public sealed class NoticeQueuePartsTests
{
    private static IEnumerable<NoticeRecipient> School(string corpId, int people) =>
        Enumerable.Range(0, people).Select(i => new NoticeRecipient(corpId, $"u{i}", null, $"u{i}", "guardians", 1, "test"));

    [Fact]
    public void Parts_TakeEverySchoolsFirstBatch_TheLargestFirst_ThenTheSecondOnes_ClosedAtWholeBatches()
    {
        List<NoticeRecipient> city = [.. School("small", 30), .. School("largest", 250), .. School("middle", 120), .. School("tie-b", 40),
            .. School("tie-a", 40)];

        var parts = NoticeOutbox.QueueInParts(city, batchSize: 100, partSize: 250);

        // Round 1: largest 100, middle 100, tie-a 40, tie-b 40 (closed at 280); then small 30, largest 100, middle 20,
        // round 3: largest 50.
        Assert.Equal([280, 200], parts.Select(p => p.Count));
        Assert.Equal(["largest", "middle", "tie-a", "tie-b"], parts[0].Select(r => r.CorpId).Distinct());
        Assert.Equal(["small", "largest", "middle"], parts[1].Select(r => r.CorpId).Distinct());
        // Each school's people keep their order, so its batches are the same whichever part they fall in.
        Assert.Equal(Enumerable.Range(0, 250).Select(i => $"u{i}"), parts.SelectMany(p => p).Where(r => r.CorpId == "largest").Select(r => r.UserId));
        Assert.Equal(city.Count, parts.SelectMany(p => p).Distinct().Count());
    }

    [Fact]
    public void NoOne_IsOneEmptyPart()
    {
        var parts = NoticeOutbox.QueueInParts([], 100, 100);

        Assert.Single(parts);
        Assert.Empty(parts[0]);
    }
}
