using EduDing.Api.Features.AfterSchool;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Features.AfterSchool;

/// <summary>
/// Places under load, on each database: first come by submission order with an exact capacity, basic care for everyone,
/// and a freed place given to the next family exactly once even with two service instances on one database.
/// </summary>
public abstract class CareAllocationTests<TDb>(TDb db) where TDb : TestDb
{
    private static readonly DateOnly Monday = new(2026, 9, 7);

    private async Task<(long ProgramId, long Elective, long Basic)> ProgramAsync(CareRepository care, int capacity)
    {
        var now = DateTime.UtcNow;
        var id = await care.CreateProgramAsync(new CareProgram(0, $"corp-{Guid.NewGuid():N}"[..20], "秋季", CareProgramKind.Term, Monday,
                Monday.AddDays(100), now, now.AddDays(1), "3", CareProgramStatus.Open, "terms", 1, "term", null, now, "admin", now),
            [new CareSession(0, 1, "15:30", "17:30")],
            [
                new CareOffering(0, 0, OfferingKind.Elective, "机器人社团", "3", null, "science", capacity, 30000, AllocationMode.FirstCome, 0),
                new CareOffering(0, 0, OfferingKind.Basic, "三年级基础托管", "3", null, "homework", 10, 0, AllocationMode.FirstCome, 0),
            ], default);
        var offerings = await care.OfferingsAsync(id, default);
        return (id, offerings.Single(o => o.Kind == OfferingKind.Elective).Id, offerings.Single(o => o.Kind == OfferingKind.Basic).Id);
    }

    private static CareApplication Application(long programId, int i) => new(0, programId, "corp", $"student-{i:D5}", 1, "corp", $"guardian-{i:D5}",
        null, "1", "[]", null, null, 1, CareApplicationStatus.Pending, DateTime.UtcNow, null);

    [Fact]
    public async Task TwoThousandSubmissionsAtOnce_ForThirtyPlaces_EnrolExactlyThirty_InSubmissionOrder_AndBasicCareNeverWaits()
    {
        db.SkipUnlessAvailable();
        var care = new CareRepository(db.Database);
        var (programId, elective, basic) = await ProgramAsync(care, 30);

        var ids = new System.Collections.Concurrent.ConcurrentBag<long>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 2000), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
            ids.Add((await care.SubmitAsync(Application(programId, i), [elective, basic], DateTime.UtcNow, ct))!.Value));
        var places = await care.PlacesAsync(ids.ToList(), default);

        var electivePlaces = places.Where(p => p.OfferingId == elective).OrderBy(p => p.ApplicationId).ToList();
        Assert.Equal(2000, electivePlaces.Count);
        Assert.Equal(30, electivePlaces.Count(p => p.Status == PlaceStatus.Held));
        // Submission order is the order of the applications' ids: the first thirty hold the places, the rest wait in that order.
        Assert.All(electivePlaces.Take(30), p => Assert.Equal(PlaceStatus.Held, p.Status));
        Assert.All(electivePlaces.Skip(30), p => Assert.Equal(PlaceStatus.Waitlisted, p.Status));
        Assert.Equal(electivePlaces.Skip(30).Select(p => p.ApplicationId), await care.WaitlistAsync(elective, default));
        Assert.All(places.Where(p => p.OfferingId == basic), p => Assert.Equal(PlaceStatus.Held, p.Status));
        Assert.Null(await care.SubmitAsync(Application(programId, 0), [elective], DateTime.UtcNow, default));
    }

    [Fact]
    public async Task Withdrawals_OnTwoInstancesAtOnce_PromoteTheNextFamilies_ExactlyOnce()
    {
        db.SkipUnlessAvailable();
        var first = new CareRepository(db.Database);
        var second = new CareRepository(db.CreateDatabase(db.ConnectionString));
        var (programId, elective, _) = await ProgramAsync(first, 10);
        var ids = new List<long>();
        for (var i = 0; i < 40; i++)
        {
            ids.Add((await first.SubmitAsync(Application(programId, i), [elective], DateTime.UtcNow, default))!.Value);
        }

        // The first three are approved (enrolled); eight holders withdraw or are rejected, half through each instance.
        foreach (var id in ids.Take(3))
        {
            Assert.True(await first.SettleAsync(id, [CareApplicationStatus.Pending], CareApplicationStatus.Approved, DateTime.UtcNow, default));
        }

        await Parallel.ForEachAsync(ids.Take(8).Select((id, i) => (id, i)), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (x, ct) =>
        {
            var care = x.i % 2 == 0 ? first : second;
            Assert.True(await care.SettleAsync(x.id, [CareApplicationStatus.Pending, CareApplicationStatus.Approved],
                x.i % 3 == 0 ? CareApplicationStatus.Rejected : CareApplicationStatus.Withdrawn, DateTime.UtcNow, ct));
        });
        // Settling again changes nothing.
        Assert.False(await second.SettleAsync(ids[0], [CareApplicationStatus.Pending, CareApplicationStatus.Approved],
            CareApplicationStatus.Withdrawn, DateTime.UtcNow, default));

        var places = (await first.PlacesAsync(ids, default)).ToDictionary(p => p.ApplicationId);
        Assert.Equal(10, places.Values.Count(p => p.Status is PlaceStatus.Held or PlaceStatus.Enrolled));
        Assert.All(ids.Take(8), id => Assert.Equal(PlaceStatus.Released, places[id].Status));
        Assert.All(ids.Skip(8).Take(10), id => Assert.Equal(PlaceStatus.Held, places[id].Status));
        Assert.Equal(ids.Skip(18), await first.WaitlistAsync(elective, default));
    }

    [Fact]
    public async Task ALottery_HoldsNothingBeforeTheDraw_ThenFollowsTheRecordedDraw_PriorityFirst_AndDrawsOnce()
    {
        db.SkipUnlessAvailable();
        var care = new CareRepository(db.Database);
        var now = DateTime.UtcNow;
        var programId = await care.CreateProgramAsync(new CareProgram(0, $"corp-{Guid.NewGuid():N}"[..20], "秋季", CareProgramKind.Term, Monday,
                Monday.AddDays(100), now, now.AddDays(1), "3", CareProgramStatus.Open, "terms", 1, "term", null, now, "admin", now),
            [new CareSession(0, 1, "15:30", "17:30")],
            [new CareOffering(0, 0, OfferingKind.Elective, "足球社", "3", null, "sports", 12, 0, AllocationMode.Lottery, 0)], default);
        var offering = (await care.OfferingsAsync(programId, default)).Single();
        var ids = new List<long>();
        for (var i = 0; i < 40; i++)
        {
            ids.Add((await care.SubmitAsync(Application(programId, i) with { Priority = i % 8 == 0 ? "left-behind" : null }, [offering.Id],
                DateTime.UtcNow, default))!.Value);
        }

        Assert.All(await care.PlacesAsync(ids, default), p => Assert.Equal(PlaceStatus.Applied, p.Status));
        // One family withdrew before the draw: it is not in it.
        Assert.True(await care.SettleAsync(ids[1], [CareApplicationStatus.Pending], CareApplicationStatus.Withdrawn, DateTime.UtcNow, default));

        var (seed, drawn) = await care.DrawAsync(offering, "秋季足球社", "admin", DateTime.UtcNow, default);
        var (_, again) = await care.DrawAsync(offering, "another seed", "admin", DateTime.UtcNow, default);

        Assert.Equal("秋季足球社", seed);
        Assert.Equal(drawn, again);
        var expected = CareLottery.Draw(ids.Where(id => id != ids[1]).Select(id => new LotteryEntry(id, ids.IndexOf(id) % 8 == 0)), "秋季足球社");
        Assert.Equal(expected, drawn);
        var places = (await care.PlacesAsync(ids, default)).ToDictionary(p => p.ApplicationId);
        Assert.All(drawn.Take(12), id => Assert.Equal(PlaceStatus.Held, places[id].Status));
        Assert.All(ids.Where((_, i) => i % 8 == 0), id => Assert.Equal(PlaceStatus.Held, places[id].Status));
        Assert.Equal(drawn.Skip(12), await care.WaitlistAsync(offering.Id, default));
    }
}

public sealed class SqliteCareAllocationTests(SqliteTestDb db) : CareAllocationTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlCareAllocationTests(MySqlTestDb db) : CareAllocationTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
