using Dapper;
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

    /// <summary>An open autumn program for grade 3, Mondays, signup open now, with <paramref name="offerings"/>.</summary>
    private static Task<long> CreateProgramAsync(CareRepository care, IReadOnlyList<CareOffering> offerings)
    {
        var now = DateTime.UtcNow;
        return care.CreateProgramAsync(new CareProgram(0, $"corp-{Guid.NewGuid():N}"[..20], "秋季", CareProgramKind.Term, Monday,
                Monday.AddDays(100), now, now.AddDays(1), "3", CareProgramStatus.Open, "terms", 1, "term", null, now, "admin", now),
            [new CareSession(0, 1, "15:30", "17:30")], offerings, default);
    }

    private async Task<(long ProgramId, long Elective, long Basic)> ProgramAsync(CareRepository care, int capacity)
    {
        var id = await CreateProgramAsync(care, [
                new CareOffering(0, 0, OfferingKind.Elective, "机器人社团", "3", null, "science", capacity, 30000, AllocationMode.FirstCome, 0),
                new CareOffering(0, 0, OfferingKind.Basic, "三年级基础托管", "3", null, "homework", 10, 0, AllocationMode.FirstCome, 0),
            ]);
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

        var submitted = new System.Collections.Concurrent.ConcurrentBag<(long Id, IReadOnlyDictionary<long, int> WaitlistPositions)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 2000), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var (id, _, positions) = (await care.SubmitAsync(Application(programId, i), [elective, basic], DateTime.UtcNow, ct))!.Value;
            submitted.Add((id, positions));
        });
        var ids = submitted.Select(s => s.Id).ToList();
        var places = await care.PlacesAsync(ids, default);

        var electivePlaces = places.Where(p => p.OfferingId == elective).OrderBy(p => p.ApplicationId).ToList();
        Assert.Equal(2000, electivePlaces.Count);
        Assert.Equal(30, electivePlaces.Count(p => p.Status == PlaceStatus.Held));
        // Submission order is the order of the applications' ids: the first thirty hold the places, the rest wait in that order.
        Assert.All(electivePlaces.Take(30), p => Assert.Equal(PlaceStatus.Held, p.Status));
        Assert.All(electivePlaces.Skip(30), p => Assert.Equal(PlaceStatus.Waitlisted, p.Status));
        var waitlist = await care.WaitlistAsync(elective, default);
        Assert.Equal(electivePlaces.Skip(30).Select(p => p.ApplicationId), waitlist);
        // Each submission told its family the position it got in the line (counted under the offering's lock), and with
        // nobody leaving that is the position it has now; basic care and held places have none.
        Assert.Equal(waitlist.Select((id, i) => (id, i + 1)).Order(),
            submitted.Where(s => s.WaitlistPositions.Count > 0).Select(s => (s.Id, s.WaitlistPositions.Single(p => p.Key == elective).Value)).Order());
        Assert.All(places.Where(p => p.OfferingId == basic), p => Assert.Equal(PlaceStatus.Held, p.Status));
        Assert.Null(await care.SubmitAsync(Application(programId, 0), [elective], DateTime.UtcNow, default));
        await AssertCountsMatchPlacesAsync(elective);
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
            ids.Add((await first.SubmitAsync(Application(programId, i), [elective], DateTime.UtcNow, default))!.Value.Id);
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

        // Each freed place is offered to the next family in line (the default claim window), exactly once.
        var places = (await first.PlacesAsync(ids, default)).ToDictionary(p => p.ApplicationId);
        Assert.Equal(10, places.Values.Count(p => p.Status is PlaceStatus.Held or PlaceStatus.Enrolled or PlaceStatus.Offered));
        Assert.All(ids.Take(8), id => Assert.Equal(PlaceStatus.Released, places[id].Status));
        Assert.All(ids.Skip(8).Take(2), id => Assert.Equal(PlaceStatus.Held, places[id].Status));
        Assert.All(ids.Skip(10).Take(8), id => Assert.Equal(PlaceStatus.Offered, places[id].Status));
        Assert.Equal(ids.Skip(18), await first.WaitlistAsync(elective, default));
        await AssertCountsMatchPlacesAsync(elective);
    }

    [Fact]
    public async Task Offers_ClaimedDeclinedAndLapsed_OnTwoInstances_MoveOnExactlyOnce()
    {
        db.SkipUnlessAvailable();
        var window = Microsoft.Extensions.Options.Options.Create(new AfterSchoolOptions { ClaimWindow = TimeSpan.FromHours(48) });
        var first = new CareRepository(db.Database, window);
        var second = new CareRepository(db.CreateDatabase(db.ConnectionString), window);
        var (programId, elective, _) = await ProgramAsync(first, 5);
        var ids = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add((await first.SubmitAsync(Application(programId, i), [elective], DateTime.UtcNow, default))!.Value.Id);
        }

        // Months back, so that lapsing at "now + 49 h" touches only this test's offers (lapsing looks at every offering).
        var now = DateTime.UtcNow.AddDays(-100);
        Assert.True(await first.SettleAsync(ids[5 - 1], [CareApplicationStatus.Pending], CareApplicationStatus.Approved, now, default));
        foreach (var id in ids.Take(4))
        {
            Assert.True(await second.SettleAsync(id, [CareApplicationStatus.Pending], CareApplicationStatus.Withdrawn, now, default));
        }

        // ids[5..8] are offered. One claims (held, its application pending), one declines (the next, ids[9], is offered),
        // one claims too late; the other two let the window pass.
        Assert.True(await first.ClaimOfferAsync(ids[5], elective, now.AddHours(1), default));
        Assert.False(await second.ClaimOfferAsync(ids[5], elective, now.AddHours(1), default));
        Assert.True(await second.DeclineOfferAsync(ids[6], elective, now.AddHours(2), default));
        Assert.False(await first.ClaimOfferAsync(ids[7], elective, now.AddHours(49), default));
        Assert.False(await first.ClaimOfferAsync(ids[10], elective, now.AddHours(1), default));

        // Both instances lapse at once: ids[7], ids[8] (offered at now) and not ids[9] (offered at +2 h, still in its window).
        var lapsed = await Task.WhenAll(first.LapseOffersAsync(now.AddHours(49), default), second.LapseOffersAsync(now.AddHours(49), default));
        Assert.Equal(2, lapsed.Sum());
        var places = (await first.PlacesAsync(ids, default)).ToDictionary(p => p.ApplicationId);
        Assert.Equal(PlaceStatus.Held, places[ids[5]].Status);
        Assert.Null(places[ids[5]].OfferExpiresAt);
        Assert.All(new[] { ids[6], ids[7], ids[8] }, id => Assert.Equal(PlaceStatus.Released, places[id].Status));
        Assert.All(new[] { ids[9], ids[10], ids[11] }, id => Assert.Equal(PlaceStatus.Offered, places[id].Status));
        Assert.Equal(5, places.Values.Count(p => p.Status is PlaceStatus.Held or PlaceStatus.Enrolled or PlaceStatus.Offered));
        Assert.Equal(ids.Skip(12), await first.WaitlistAsync(elective, default));

        // Each new offer is announced once, whichever instance asks.
        var announced = await Task.WhenAll(first.ClaimUnannouncedOffersAsync(now.AddHours(49), 100, default),
            second.ClaimUnannouncedOffersAsync(now.AddHours(49), 100, default));
        Assert.Equal(new[] { ids[9], ids[10], ids[11] }.Order(),
            announced.SelectMany(a => a).Select(o => o.ApplicationId).Where(ids.Contains).Order());
        await AssertCountsMatchPlacesAsync(elective);
    }

    [Fact]
    public async Task RankedChoices_AllocateInOneRecordedBatch_BestChoiceFirst_PriorityFirst_AndOncePerProgram()
    {
        db.SkipUnlessAvailable();
        var first = new CareRepository(db.Database);
        var second = new CareRepository(db.CreateDatabase(db.ConnectionString));
        var now = DateTime.UtcNow;
        var programId = await CreateProgramAsync(first, [
                new CareOffering(0, 0, OfferingKind.Elective, "书法", "3", null, "arts", 3, 0, AllocationMode.Ranked, 0),
                new CareOffering(0, 0, OfferingKind.Elective, "篮球", "3", null, "sports", 2, 0, AllocationMode.Ranked, 0),
                new CareOffering(0, 0, OfferingKind.Elective, "科学", "3", null, "science", 4, 0, AllocationMode.Ranked, 0),
            ]);
        var offerings = (await first.OfferingsAsync(programId, default)).Select(o => o.Id).ToList();
        var capacity = new Dictionary<long, int> { [offerings[0]] = 3, [offerings[1]] = 2, [offerings[2]] = 4 };
        var random = new Random(7);
        var rankings = new Dictionary<long, List<long>>();
        var priority = new HashSet<long>();
        for (var i = 0; i < 16; i++)
        {
            var ranking = offerings.OrderBy(_ => random.Next()).Take(1 + random.Next(3)).ToList();
            var id = (await first.SubmitAsync(Application(programId, i) with { Priority = i % 5 == 0 ? "migrant" : null }, ranking, now,
                default))!.Value.Id;
            rankings[id] = ranking;
            if (i % 5 == 0)
            {
                priority.Add(id);
            }
        }

        Assert.All(await first.PlacesAsync(rankings.Keys.ToList(), default), p => Assert.Equal(PlaceStatus.Applied, p.Status));
        Assert.All(await first.PlacesAsync(rankings.Keys.ToList(), default),
            p => Assert.Equal(rankings[p.ApplicationId].IndexOf(p.OfferingId) + 1, p.ChoiceRank));

        // Two instances run the batch at once: one batch is recorded, and both answer it.
        var batches = await Task.WhenAll(first.AllocateRankedAsync(programId, "秋季志愿", "admin", now, default),
            second.AllocateRankedAsync(programId, "秋季志愿", "admin", now, default));
        Assert.Equal(batches[0].Drawn, (await second.AllocateRankedAsync(programId, "another seed", "admin", now, default)).Drawn);
        Assert.Equal(batches[0].Seed, batches[1].Seed);
        Assert.Equal(batches[0].Drawn, batches[1].Drawn);
        var (seed, drawn) = batches[0];

        // Independently: the draw's order, priority first; each family in turn gets its best-ranked choice with room.
        Assert.Equal(CareLottery.Draw(rankings.Keys.Select(id => new LotteryEntry(id, priority.Contains(id))), seed), drawn);
        Assert.All(drawn.Take(priority.Count), id => Assert.Contains(id, priority));
        var left = new Dictionary<long, int>(capacity);
        var expected = new Dictionary<long, long?>();
        foreach (var id in drawn)
        {
            var got = rankings[id].Cast<long?>().FirstOrDefault(o => left[o!.Value] > 0);
            expected[id] = got;
            if (got is { } o)
            {
                left[o]--;
            }
        }

        var places = (await first.PlacesAsync(rankings.Keys.ToList(), default)).ToLookup(p => p.ApplicationId);
        foreach (var (id, got) in expected)
        {
            foreach (var place in places[id])
            {
                var want = got is null ? PlaceStatus.Waitlisted : place.OfferingId == got ? PlaceStatus.Held : PlaceStatus.Released;
                Assert.Equal(want, place.Status);
            }
        }

        // The waitlists follow the drawn order.
        foreach (var offering in offerings)
        {
            Assert.Equal(drawn.Where(id => expected[id] is null && rankings[id].Contains(offering)), await first.WaitlistAsync(offering, default));
        }

        // A holder withdraws; the place is offered to the first in line, who waits on other choices too: claiming it
        // gives those up (one ranked course per family).
        var (course, next) = offerings.Select(o => (o, drawn.FirstOrDefault(id => expected[id] is null && rankings[id].Contains(o))))
            .First(x => x.Item2 != 0 && rankings[x.Item2].Count > 1);
        Assert.True(await first.SettleAsync(expected.First(e => e.Value == course).Key, [CareApplicationStatus.Pending],
            CareApplicationStatus.Withdrawn, now, default));
        Assert.Equal(PlaceStatus.Offered, (await first.PlacesAsync([next], default)).Single(p => p.OfferingId == course).Status);
        Assert.True(await second.ClaimOfferAsync(next, course, now.AddMinutes(5), default));
        Assert.All(await first.PlacesAsync([next], default),
            p => Assert.Equal(p.OfferingId == course ? PlaceStatus.Held : PlaceStatus.Released, p.Status));
        await AssertCountsMatchPlacesAsync([.. offerings]);
    }

    [Fact]
    public async Task ALottery_HoldsNothingBeforeTheDraw_ThenFollowsTheRecordedDraw_PriorityFirst_AndDrawsOnce()
    {
        db.SkipUnlessAvailable();
        var care = new CareRepository(db.Database);
        var programId = await CreateProgramAsync(care, [new CareOffering(0, 0, OfferingKind.Elective, "足球社", "3", null, "sports", 12, 0, AllocationMode.Lottery, 0)]);
        var offering = (await care.OfferingsAsync(programId, default)).Single();
        var ids = new List<long>();
        for (var i = 0; i < 40; i++)
        {
            ids.Add((await care.SubmitAsync(Application(programId, i) with { Priority = i % 8 == 0 ? "left-behind" : null }, [offering.Id],
                DateTime.UtcNow, default))!.Value.Id);
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
        await AssertCountsMatchPlacesAsync(offering.Id);

        // A mid-term application after the draw waits behind the drawn line, and is told where.
        var (late, _, positions) = (await care.SubmitAsync(Application(programId, 99), [offering.Id], DateTime.UtcNow, default))!.Value;
        Assert.Equal(drawn.Count - 12 + 1, positions[offering.Id]);
        Assert.Equal(late, (await care.WaitlistAsync(offering.Id, default))[^1]);
        await AssertCountsMatchPlacesAsync(offering.Id);
    }

    [Fact]
    public async Task PositionsInLine_StayTheLinesOrder_WhenFamiliesSwitchInAndNewOnesJoin()
    {
        db.SkipUnlessAvailable();
        var care = new CareRepository(db.Database, Microsoft.Extensions.Options.Options.Create(new AfterSchoolOptions { ClaimWindow = TimeSpan.Zero }));
        var programId = await CreateProgramAsync(care, [
                new CareOffering(0, 0, OfferingKind.Elective, "围棋社", "3", null, "club", 2, 0, AllocationMode.FirstCome, 0),
                new CareOffering(0, 0, OfferingKind.Elective, "合唱团", "3", null, "arts", 5, 0, AllocationMode.FirstCome, 0),
            ]);
        var offerings = await care.OfferingsAsync(programId, default);
        var (go, choir) = (offerings.Single(o => o.Name == "围棋社").Id, offerings.Single(o => o.Name == "合唱团").Id);
        var reported = new Dictionary<long, int>();
        async Task<long> ApplyAsync(int i, long offering)
        {
            var (id, _, positions) = (await care.SubmitAsync(Application(programId, i), [offering], DateTime.UtcNow, default))!.Value;
            if (positions.TryGetValue(go, out var position))
            {
                reported[id] = position;
            }

            return id;
        }

        var holders = new[] { await ApplyAsync(0, go), await ApplyAsync(1, go) };
        var waiting = await ApplyAsync(2, go);
        var switcher = await ApplyAsync(3, choir);
        // The choir's family moves to the full club: it waits behind everyone already in line.
        Assert.True(await care.SwitchAsync(switcher, choir, go, DateTime.UtcNow, default));
        var joiner = await ApplyAsync(4, go);
        Assert.Equal(1, reported[waiting]);

        // Whatever the line's order, each waiting family's position is its place in it, the one just told included.
        var line = (await care.WaitlistAsync(go, default)).ToList();
        Assert.Equal(new[] { waiting, switcher, joiner }.Order(), line.Order());
        await AssertPositionsAreTheLineAsync(care, go);
        Assert.Equal(line.IndexOf(joiner) + 1, reported[joiner]);
        await AssertCountsMatchPlacesAsync(go, choir);

        // A holder withdraws: the first in line is promoted, and everyone behind moves up one.
        Assert.True(await care.SettleAsync(holders[0], [CareApplicationStatus.Pending], CareApplicationStatus.Withdrawn, DateTime.UtcNow, default));
        Assert.Equal(PlaceStatus.Held, (await care.PlacesAsync([waiting], default)).Single().Status);
        Assert.Equal(2, (await care.WaitlistAsync(go, default)).Count);
        await AssertPositionsAreTheLineAsync(care, go);
        await AssertCountsMatchPlacesAsync(go, choir);
    }

    private static async Task AssertPositionsAreTheLineAsync(CareRepository care, long offeringId)
    {
        var line = await care.WaitlistAsync(offeringId, default);
        for (var i = 0; i < line.Count; i++)
        {
            Assert.Equal(i + 1, await care.WaitlistPositionAsync(line[i], offeringId, default));
        }
    }

    /// <summary>The counts kept on each elective's row (live places, waitlist length) equal its places.</summary>
    private async Task AssertCountsMatchPlacesAsync(params long[] offeringIds)
    {
        await using var connection = await db.Database.OpenConnectionAsync(default);
        var rows = (await connection.QueryAsync<(long Id, long Taken, long Live, long Waitlisted, long Waiting)>("""
            SELECT o.id, o.places_taken,
                   (SELECT COUNT(*) FROM care_places p WHERE p.offering_id = o.id AND p.status IN ('held', 'enrolled', 'offered')),
                   o.waitlisted,
                   (SELECT COUNT(*) FROM care_places p WHERE p.offering_id = o.id AND p.status = 'waitlisted')
            FROM care_offerings o WHERE o.id IN @offeringIds
            """, new { offeringIds })).ToList();
        Assert.Equal(offeringIds.Length, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal(r.Live, r.Taken);
            Assert.Equal(r.Waiting, r.Waitlisted);
        });
    }
}

public sealed class SqliteCareAllocationTests(SqliteTestDb db) : CareAllocationTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlCareAllocationTests(MySqlTestDb db) : CareAllocationTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
