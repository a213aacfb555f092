using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Training;
using Microsoft.Extensions.DependencyInjection;
using MiniExcelLibs;

namespace EduDing.Api.Tests.Features.Training;

/// <summary>
/// The city's and a school's reports over generated credits and appraisals equal a computation of their own, written
/// here from the rules (no caps configured: the cycle total is the regular credits plus half the principal ones, each
/// year needs 24, two consecutive failed appraisals fail registration, a shortfall or one failed year defers it).
/// </summary>
public abstract class TrainingReportTests<TFixture>(TFixture fixture) where TFixture : TeachersFixture
{
    private sealed record Generated(string CorpId, string UserId, int Year, decimal Credits, string Kind, int Domain, string Level, string Source);

    private HttpClient As(string corpId, string userId, params string[] roles) => fixture.ClientAs(corpId, userId, roles);

    [Fact]
    public async Task CityAndSchoolReports_EqualAnIndependentComputation_OverGeneratedRecords()
    {
        fixture.SkipUnlessAvailable();
        var (school, other, bureau) = (fixture.School, fixture.OtherSchool, fixture.Bureau);
        var repo = fixture.Factory.Services.GetRequiredService<TrainingRepository>();
        var random = new Random(20261201);
        string[] sources = ["provincial", "city", "school-based", "research"];
        string[] levels = ["basic", "intermediate", "advanced"];
        var teachers = new[] { school.CorpId, other.CorpId }
            .SelectMany(c => new[] { "admin" }.Concat(Enumerable.Range(1, TeachersFixture.TeachersPerSchool).Select(i => $"t{i:D3}")).Select(u => (CorpId: c, UserId: u)))
            .ToList();
        var generated = new List<Generated>();
        var failedYears = new Dictionary<(string, string), List<int>>();
        var now = DateTime.UtcNow;
        foreach (var (corpId, userId) in teachers.Where(t => t.UserId != "admin"))
        {
            var pace = random.Next(10, 50);
            for (var year = 2022; year <= 2026; year++)
            {
                for (var n = random.Next(1, 7); n > 0; n--)
                {
                    var kind = random.Next(20) switch { 0 => "principal-qualification", 1 => "new-teacher", _ => "regular" };
                    var g = new Generated(corpId, userId, year, random.Next(4, pace) + (random.Next(2) * 0.5m), kind, random.Next(1, 8), levels[random.Next(3)],
                        sources[random.Next(sources.Length)]);
                    generated.Add(g);
                    await repo.AddAsync(new TrainingCredit(0, corpId, userId, g.Kind, g.Source, g.Domain, g.Level, g.Credits, null, new DateOnly(year, 3 + n, 1),
                        "生成的培训", "机构", false, false, null, CreditStatus.Approved, now, corpId, "admin", now), default);
                }

                if (random.Next(8) == 0)
                {
                    failedYears.TryAdd((corpId, userId), []);
                    failedYears[(corpId, userId)].Add(year);
                    await repo.SaveAppraisalAsync(corpId, userId, year, false, "admin", now, default);
                }
            }
        }

        // A pending claim never counts; one teacher has their own cycle.
        await repo.AddAsync(new TrainingCredit(0, school.CorpId, "t001", "regular", "city", 1, "basic", 100m, null, new DateOnly(2025, 5, 1), "待审", "机构",
            false, false, null, CreditStatus.Pending, now, school.CorpId, "t001", null), default);
        var admin = As(school.CorpId, "admin", $"school-admin@{school.CorpId}", $"school-staff@{school.CorpId}");
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/training/teachers/t010/profile",
            new { cycleStartYear = 2023, roles = Array.Empty<object>() })).StatusCode);
        int CycleOf((string CorpId, string UserId) t) => t == (school.CorpId, "t010") ? 2023 : 2022;

        // The computation of our own, per teacher.
        decimal Counted(Generated g) => g.Kind switch { "regular" => g.Credits, "principal-qualification" => g.Credits / 2, _ => 0m };
        var expected = teachers.Select(t =>
        {
            var start = CycleOf(t);
            var mine = generated.Where(g => (g.CorpId, g.UserId) == t && g.Year >= start && g.Year <= start + 4).ToList();
            var total = mine.Sum(Counted);
            var yearly = Enumerable.Range(start, 5).ToDictionary(y => y, y => mine.Where(g => g.Year == y).Sum(Counted));
            var complete = total >= 360 && yearly.Values.All(v => v >= 24);
            var failed = failedYears.GetValueOrDefault(t, []).Where(y => y >= start && y <= start + 4).Order().ToList();
            var outcome = failed.Zip(failed.Skip(1)).Any(p => p.Second == p.First + 1) ? "fail" : !complete || failed.Count > 0 ? "deferred" : "pass";
            return (Teacher: t, Mine: mine, Complete: complete, Yearly: yearly, Outcome: outcome);
        }).ToList();

        // The generated city has every outcome, and teachers on both sides of each line.
        Assert.Equal(["deferred", "fail", "pass"], expected.Select(e => e.Outcome).Distinct().Order().ToArray());
        Assert.InRange(expected.Count(e => e.Yearly.GetValueOrDefault(2025) >= 24), 1, expected.Count - 1);

        var chief = As(bureau.CorpId, "chief", $"bureau-admin@{bureau.CorpId}", $"bureau-staff@{bureau.CorpId}");
        var city = (await chief.GetFromJsonAsync<JsonObject>("/api/training/report?year=2025"))!;
        Assert.Equal(teachers.Count, (int)city["teachers"]!);
        Assert.Equal(expected.Count(e => e.Complete), (int)city["cycleComplete"]!);
        Assert.Equal(expected.Count(e => e.Yearly.ContainsKey(2025)), (int)city["yearTeachers"]!);
        Assert.Equal(expected.Count(e => e.Yearly.GetValueOrDefault(2025) >= 24), (int)city["yearComplete"]!);
        decimal Bucket(string dimension, string key) =>
            (decimal)city[dimension]!.AsArray().Single(b => b!["key"]!.ToString() == key)!["credits"]!;
        for (var domain = 1; domain <= 7; domain++)
        {
            Assert.Equal(expected.Sum(e => e.Mine.Where(g => g.Domain == domain).Sum(Counted)), Bucket("byDomain", $"{domain}"));
        }

        foreach (var level in levels)
        {
            Assert.Equal(expected.Sum(e => e.Mine.Where(g => g.Level == level).Sum(Counted)), Bucket("byLevel", level));
        }

        foreach (var (source, trainingLevel) in new[] { ("provincial", "province"), ("city", "county"), ("school-based", "school"), ("research", "other") })
        {
            Assert.Equal(expected.Sum(e => e.Mine.Where(g => g.Source == source).Sum(Counted)), Bucket("byTrainingLevel", trainingLevel));
        }

        var atRisk = city["atRisk"]!.AsArray().Select(t => ((t!["corpId"]!.ToString(), t["userId"]!.ToString()), t["registration"]!.ToString())).ToHashSet();
        Assert.Equal(expected.Where(e => e.Outcome != "pass").Select(e => (e.Teacher, e.Outcome)).ToHashSet(), atRisk);
        Assert.Equal(atRisk.Count, (int)city["atRiskCount"]!);
        foreach (var line in city["schools"]!.AsArray())
        {
            var mine = expected.Where(e => e.Teacher.CorpId == line!["corpId"]!.ToString()).ToList();
            Assert.Equal((mine.Count, mine.Count(e => e.Outcome == "pass"), mine.Count(e => e.Outcome == "deferred"), mine.Count(e => e.Outcome == "fail")),
                ((int)line!["teachers"]!, (int)line["pass"]!, (int)line["deferred"]!, (int)line["failed"]!));
        }

        // The school's own report is its part of the city's; not another school's admin's, nor a teacher's.
        var own = (await admin.GetFromJsonAsync<JsonObject>($"/api/corps/{school.CorpId}/training/report?year=2025"))!;
        Assert.Equal(TeachersFixture.TeachersPerSchool + 1, (int)own["teachers"]!);
        Assert.Equal(expected.Count(e => e.Teacher.CorpId == school.CorpId && e.Complete), (int)own["cycleComplete"]!);
        Assert.All(own["atRisk"]!.AsArray(), t => Assert.Equal(school.CorpId, t!["corpId"]!.ToString()));
        var otherAdmin = As(other.CorpId, "admin", $"school-admin@{other.CorpId}", $"school-staff@{other.CorpId}");
        Assert.Equal(HttpStatusCode.Forbidden, (await otherAdmin.GetAsync($"/api/corps/{school.CorpId}/training/report")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await As(school.CorpId, "t001", $"school-staff@{school.CorpId}").GetAsync("/api/training/report")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await chief.GetAsync("/api/training/report?year=2015")).StatusCode);

        // Kept between requests: the same report again, then changes through the API seen in the next one.
        var again = (await chief.GetFromJsonAsync<JsonObject>("/api/training/report?year=2025"))!;
        Assert.True(JsonNode.DeepEquals(city, again));
        var domain5 = Bucket("byDomain", "5");
        foreach (var year in new[] { 2024, 2025 })
        {
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/training/credits", new
            {
                userId = "t002", title = $"学历提升 {year}", organiser = "浙江师范大学", earnedOn = new DateOnly(year, 9, 1), kind = "regular", source = "degree",
                domain = 5, level = "advanced", credits = 200,
            })).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/training/teachers/t003/appraisals/{year}",
                new { passed = false })).StatusCode);
        }

        city = (await chief.GetFromJsonAsync<JsonObject>("/api/training/report?year=2025"))!;
        Assert.Equal(domain5 + 400m, Bucket("byDomain", "5"));
        Assert.Contains(city["atRisk"]!.AsArray(), t => t!["userId"]!.ToString() == "t003" && t["corpId"]!.ToString() == school.CorpId &&
                                                         t["registration"]!.ToString() == "fail");
        var live = (await admin.GetFromJsonAsync<JsonObject>($"/api/corps/{school.CorpId}/training/report?year=2025"))!;
        Assert.True(JsonNode.DeepEquals(live["schools"]![0], city["schools"]!.AsArray().Single(l => l!["corpId"]!.ToString() == school.CorpId)));

        // The workbook: a line per school, a line per teacher at risk.
        var workbook = await chief.GetAsync("/api/training/report.xlsx?year=2025");
        Assert.Equal(HttpStatusCode.OK, workbook.StatusCode);
        await using var stream = new MemoryStream(await workbook.Content.ReadAsByteArrayAsync());
        Assert.Equal(city["schools"]!.AsArray().Count, stream.Query(useHeaderRow: true, sheetName: "学校完成情况").Count());
        Assert.Equal(city["atRisk"]!.AsArray().Count, stream.Query(useHeaderRow: true, sheetName: "注册风险教师").Count());
    }

    [Fact]
    public async Task KeptStandings_OfAnEarlierDay_AreRecomputedByTheWorkersPass_NotTrustedAgain()
    {
        fixture.SkipUnlessAvailable();
        var chief = As(fixture.Bureau.CorpId, "chief", $"bureau-admin@{fixture.Bureau.CorpId}", $"bureau-staff@{fixture.Bureau.CorpId}");
        var before = (await chief.GetFromJsonAsync<JsonObject>("/api/training/report"))!;

        // Every kept row from yesterday, one of them wrong (as yesterday's date could have made it): the next pass of
        // the training worker recomputes them all, and the report is the one a live computation gives.
        var db = fixture.Factory.Services.GetRequiredService<Database>();
        await using (var connection = await db.OpenConnectionAsync(default))
        {
            Assert.True(await connection.ExecuteAsync("UPDATE training_standings SET computed_at = @yesterday",
                new { yesterday = DateTime.UtcNow.AddDays(-1) }) >= 2 * TeachersFixture.TeachersPerSchool);
            Assert.Equal(1, await connection.ExecuteAsync(
                "UPDATE training_standings SET total = total + 1000, registration = 'pass', risk = 2 WHERE corp_id = @corpId AND user_id = 't004'",
                new { corpId = fixture.School.CorpId }));
        }

        await fixture.Factory.Services.GetRequiredService<TrainingReports>().KeepCityCurrentAsync(default);

        await using (var connection = await db.OpenConnectionAsync(default))
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM training_standings WHERE computed_at < @hourAgo",
                new { hourAgo = DateTime.UtcNow.AddHours(-1) }));
        }

        var after = (await chief.GetFromJsonAsync<JsonObject>("/api/training/report"))!;
        Assert.True(JsonNode.DeepEquals(before, after), after.ToJsonString());
    }
}

public sealed class SqliteTrainingReportTests(SqliteTeachersFixture fixture) : TrainingReportTests<SqliteTeachersFixture>(fixture),
    IClassFixture<SqliteTeachersFixture>;

public sealed class MySqlTrainingReportTests(MySqlTeachersFixture fixture) : TrainingReportTests<MySqlTeachersFixture>(fixture),
    IClassFixture<MySqlTeachersFixture>;
