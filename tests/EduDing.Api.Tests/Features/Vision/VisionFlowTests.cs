using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Vision;
using EduDing.Api.Tests.Features.Notices;
using EduDing.Api.Tests.Features.Org;
using EduDing.DingTalk.Sandbox.Model;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Vision;

/// <summary>
/// 明眸 end to end on the demo org: a city round, a class entered by its adviser, corrections, publishing to parents
/// through the notice pipeline, the parent's view and referral, and who is refused (and audited) on the way.
/// </summary>
public sealed class VisionFlowTests(NoticeFixture fixture) : IClassFixture<NoticeFixture>
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));

    private readonly LiveOrg _live = fixture.Live;

    private SandboxCorp Bureau => _live.Sandbox.World.Bureau;

    private async Task<HttpClient> AsAsync(SandboxCorp corp, string userId) => _live.Client(await _live.SignInAsync(corp.CorpId, userId));

    private Task<HttpClient> BureauAdminAsync() => AsAsync(Bureau, Bureau.Users.Values.First(u => u.Admin).UserId);

    private static async Task<JsonObject> OkAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static async Task<long> CityRoundAsync(HttpClient bureau, string kind, int schoolYear, DateOnly opens, DateOnly closes) =>
        (long)(await OkAsync(await bureau.PostAsJsonAsync("/api/vision/rounds", new { kind, schoolYear, opensOn = opens, closesOn = closes }),
            HttpStatusCode.Created))["id"]!;

    private static object Record(string studentUserId, DateOnly screenedOn, decimal ucva, decimal sphere, string glasses = "none",
        string? notTestable = null) => new
    {
        studentUserId, sex = "female", birthDate = screenedOn.AddYears(-9).AddDays(-40), screenedOn, glasses,
        ucvaRight = notTestable is null ? ucva : (decimal?)null, ucvaLeft = notTestable is null ? 5.0m : (decimal?)null,
        cvaRight = glasses == "none" ? (decimal?)null : 5.0m, cvaLeft = glasses == "none" ? (decimal?)null : 5.0m,
        sphereRight = notTestable is null ? sphere : (decimal?)null, cylinderRight = notTestable is null ? -0.50m : (decimal?)null,
        axisRight = notTestable is null ? 180 : (int?)null, sphereLeft = notTestable is null ? 0.25m : (decimal?)null,
        cylinderLeft = notTestable is null ? 0m : (decimal?)null, notTestableReason = notTestable,
    };

    [Fact]
    public async Task ARound_FromEntryToTheParentsReferral_WithEveryScopeChecked()
    {
        var school = _live.Sandbox.World.Schools.First();
        var (classId, roster) = school.Classes.First();
        var adviserId = roster.Teachers.First(t => t.IsAdviser).UserId;
        var students = roster.Students.Select(s => s.UserId).ToList();
        var myopicChild = students[0];
        var bureau = await BureauAdminAsync();
        var roundId = await CityRoundAsync(bureau, "winter-leave", 2026, Today.AddDays(-7), Today.AddDays(7));

        // The adviser enters the class; one record has two mistakes, and nothing is stored until all are right.
        var adviser = await AsAsync(school, adviserId);
        var bad = await adviser.PutAsJsonAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/records", new
        {
            records = new[] { Record(students[0], Today, 4.7m, -1.25m), Record(students[1], Today, 4.05m, -0.30m) },
        });
        var errors = (await OkAsync(bad, HttpStatusCode.BadRequest))["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("records[1].ucvaRight") && errors.ContainsKey("records[1].sphereRight"), errors.ToJsonString());

        var records = students.Select((s, i) => i switch
        {
            0 => Record(s, Today, 4.7m, -1.25m),                       // SE −1.50 with UCVA 4.7: screening myopia, 低度
            1 => Record(s, Today, 4.7m, 0.50m),                        // 视力不良 中度 without myopia: referred
            2 => Record(s, Today, 0, 0, notTestable: "无法配合"),
            _ => Record(s, Today, 5.0m, 0.25m),
        }).ToArray();
        var saved = await OkAsync(await adviser.PutAsJsonAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/records", new { records }));
        Assert.Equal(students.Count, (int)saved["created"]!);

        // A correction keeps the earlier version.
        var corrected = await OkAsync(await adviser.PutAsJsonAsync(
            $"/api/vision/rounds/{roundId}/corps/{school.CorpId}/students/{myopicChild}", Record(myopicChild, Today, 4.6m, -1.25m)));
        Assert.Equal(1, (int)corrected["updated"]!);
        var history = await OkAsync(await adviser.GetAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/students/{myopicChild}"));
        Assert.Equal(2, (int)history["current"]!["version"]!);
        Assert.Equal(4.7m, (decimal)history["earlierVersions"]!.AsArray().Single()!["right"]!["ucva"]!);
        Assert.True((bool)history["current"]!["myopic"]!);
        Assert.Equal("low", history["current"]!["myopiaGrade"]!.ToString());

        // Another class's teacher and the bureau (no grant) are refused, and the refusals are audited.
        var otherTeacher = school.Classes.Values.SelectMany(c => c.Teachers).Select(t => t.UserId)
            .First(t => roster.Teachers.All(r => r.UserId != t));
        var classRecords = $"/api/vision/rounds/{roundId}/corps/{school.CorpId}/classes/{classId}/records";
        Assert.Equal(HttpStatusCode.Forbidden, (await (await AsAsync(school, otherTeacher)).GetAsync(classRecords)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bureau.GetAsync(classRecords)).StatusCode);
        Assert.Equal(students.Count, (await adviser.GetFromJsonAsync<JsonArray>(classRecords))!.Count);
        var audit = _live.Factory.Services.GetRequiredService<AuditLog>();
        var entries = (await audit.ListAsync([school.CorpId], 0, 200, default)).Items.Where(e => e.Action == VisionAccess.ReadAction).ToList();
        Assert.Contains(entries, e => e.ActorUserId == otherTeacher && e.Outcome == AuditLog.Denied);
        Assert.Contains(entries, e => e.ActorUserId == adviserId && e.Outcome == AuditLog.Allowed && e.StudentUserIds.Contains(myopicChild));

        // Parents see nothing until the school publishes; then each is told through the notice pipeline.
        var guardianId = roster.Relations.First(r => r.StudentUserId == myopicChild).GuardianUserId;
        var guardian = await AsAsync(school, guardianId);
        var childUrl = $"/api/me/vision/{school.CorpId}/{myopicChild}";
        Assert.Empty((await OkAsync(await guardian.GetAsync(childUrl)))["results"]!.AsArray());
        var admin = await AsAsync(school, school.Users.Values.First(u => u.Admin).UserId);
        var published = await OkAsync(await admin.PostAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/publish", null), HttpStatusCode.Accepted);
        Assert.Equal(roster.Guardians.Select(g => g.UserId).Distinct().Count(), (int)published["guardians"]!);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (_live.Sandbox.Notices.DeliveredTo(school.CorpId, guardianId) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Contains((await guardian.GetFromJsonAsync<JsonObject>("/api/me/notices"))!["items"]!.AsArray(),
            n => n!["category"]!.ToString() == "vision-result");

        var child = await OkAsync(await guardian.GetAsync(childUrl));
        var words = child["results"]!.AsArray().Single()!["words"]!;
        Assert.Contains("筛查性近视", words["summary"]!.ToString());
        Assert.Contains("筛查结果不等于诊断", words["disclaimer"]!.ToString());
        Assert.NotNull(words["referral"]);
        Assert.Equal(-1.5m, (decimal)child["series"]!.AsArray().Single()!["seRight"]!);
        var referral = child["referrals"]!.AsArray().Single()!;
        Assert.Equal("screening-myopia", referral["reason"]!.ToString());

        // Another parent may not look; this one acknowledges, then reports the hospital visit.
        var stranger = roster.Guardians.First(g => roster.Relations.All(r => r.StudentUserId != myopicChild || r.GuardianUserId != g.UserId));
        Assert.Equal(HttpStatusCode.Forbidden, (await (await AsAsync(school, stranger.UserId)).GetAsync(childUrl)).StatusCode);
        var referralId = (long)referral["id"]!;
        Assert.Equal("acknowledged",
            (await OkAsync(await guardian.PostAsync($"/api/me/vision/referrals/{referralId}/acknowledge", null)))["status"]!.ToString());
        var future = await guardian.PostAsJsonAsync($"/api/me/vision/referrals/{referralId}/visit",
            new { visitDate = Today.AddDays(3), hospital = "海宁市人民医院", diagnosis = "近视" });
        Assert.Equal(HttpStatusCode.BadRequest, future.StatusCode);
        var visited = await OkAsync(await guardian.PostAsJsonAsync($"/api/me/vision/referrals/{referralId}/visit",
            new { visitDate = Today, hospital = "海宁市人民医院", diagnosis = "近视（散瞳验光 -1.25D）", prescription = "框架眼镜" }));
        Assert.Equal("visited", visited["status"]!.ToString());

        // Completion: two referrals in the class (the myopic child and the 中度 视力不良 one), one visited.
        var summary = (await admin.GetFromJsonAsync<JsonArray>($"/api/vision/referrals/summary?roundId={roundId}&corpId={school.CorpId}"))!;
        var classRow = summary.Single(r => r!["classId"] is not null && (long)r["classId"]! == classId)!;
        Assert.Equal((2, 1), ((int)classRow["referred"]!, (int)classRow["visited"]!));
        Assert.Equal(50m, (decimal)classRow["completionRate"]!);

        // The adviser reminds the outstanding one's guardians.
        var reminded = await OkAsync(await adviser.PostAsJsonAsync($"/api/corps/{school.CorpId}/vision/referrals/remind", new { classId }),
            HttpStatusCode.Accepted);
        Assert.True((int)reminded["guardians"]! >= 1);

        // Statistics: the school's own staff see their school, not the city; the bureau sees the city.
        var stats = await OkAsync(await admin.GetAsync($"/api/vision/rounds/{roundId}/statistics?by=class&corpId={school.CorpId}"));
        var row = stats["rows"]!.AsArray().Single(r => r!["key"]!.ToString() == $"{school.CorpId}:{classId}")!;
        Assert.Equal((students.Count, students.Count - 1, 1), ((int)row["screened"]!, (int)row["valid"]!, (int)row["myopic"]!));
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync($"/api/vision/rounds/{roundId}/statistics")).StatusCode);
        var city = await OkAsync(await bureau.GetAsync($"/api/vision/rounds/{roundId}/statistics?by=city"));
        Assert.Equal(VisionStatistics.Rate(1, students.Count - 1), (decimal?)city["total"]!["myopiaRate"]);
        Assert.Equal(HttpStatusCode.OK, (await bureau.GetAsync($"/api/vision/rounds/{roundId}/statistics.xlsx?by=school")).StatusCode);
    }

    [Fact]
    public async Task YearOnYear_AndTheCityPath_ComeWithTheStatistics_AndTheTrendListsTheRounds()
    {
        var school = _live.Sandbox.World.Schools.Skip(1).First();
        var admin = await AsAsync(school, school.Users.Values.First(u => u.Admin).UserId);
        var students = school.Classes.Values.Skip(1).First().Students.Select(s => s.UserId).Take(10).ToList();
        var bureau = await BureauAdminAsync();
        var lastYear = await CityRoundAsync(bureau, "summer-return", 2025, Today.AddDays(-375), Today.AddDays(-360));
        var thisYear = await CityRoundAsync(bureau, "summer-return", 2026, Today.AddDays(-10), Today);

        // Last year 4 of 10 were myopic, this year 3 of 10.
        async Task EnterAsync(long roundId, DateOnly day, int myopic) =>
            await OkAsync(await admin.PutAsJsonAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/records", new
            {
                records = students.Select((s, i) => i < myopic ? Record(s, day, 4.6m, -2.00m) : Record(s, day, 5.0m, 0m)).ToArray(),
            }));
        await EnterAsync(lastYear, Today.AddDays(-370), 4);
        await EnterAsync(thisYear, Today.AddDays(-5), 3);

        var stats = await OkAsync(await bureau.GetAsync($"/api/vision/rounds/{thisYear}/statistics?by=city&corpId={school.CorpId}"));
        Assert.Equal(30m, (decimal)stats["total"]!["myopiaRate"]!);
        Assert.Equal(lastYear, (long)stats["sameRoundLastYear"]!["roundId"]!);
        Assert.Equal(-10m, (decimal)stats["sameRoundLastYear"]!["change"]!);
        // The plan's two checks, separately: below 55% (strict), and at least 1 point below the same round a year earlier.
        var targets = stats["targets"]!;
        Assert.Equal(55.00m, (decimal)targets["binding"]!["limit"]!);
        Assert.Equal("<", targets["binding"]!["comparison"]!.ToString());
        Assert.True((bool)targets["binding"]!["met"]!);
        Assert.Equal(39.00m, (decimal)targets["annualDecline"]!["requiredRate"]!);
        Assert.Equal(10.00m, (decimal)targets["annualDecline"]!["drop"]!);
        Assert.True((bool)targets["annualDecline"]!["met"]!);
        Assert.Contains("\"myopiaRate\":30.00", stats.ToJsonString());
        Assert.NotEqual("全市", stats["total"]!["label"]!.ToString());

        var trend = (await bureau.GetFromJsonAsync<JsonArray>($"/api/vision/trend?rounds=10&corpId={school.CorpId}"))!;
        Assert.Contains(trend, p => (long)p!["roundId"]! == lastYear && (decimal)p["myopiaRate"]! == 40m);
        Assert.True(trend.Select(p => DateOnly.Parse(p!["opensOn"]!.ToString())).SequenceEqual(trend.Select(p => DateOnly.Parse(p!["opensOn"]!.ToString())).Order()));
    }

    [Fact]
    public async Task MingmouClassrooms_CompletionAgainstTheFullTarget()
    {
        var school = _live.Sandbox.World.Schools.Last();
        var admin = await AsAsync(school, school.Users.Values.First(u => u.Admin).UserId);
        await OkAsync(await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/vision/classrooms/101",
            new { name = "101教室", lightingRenovatedOn = Today.AddDays(-30), desks = 40, adjustableDesks = 40 }));
        await OkAsync(await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/vision/classrooms/102",
            new { name = "102教室", desks = 40, adjustableDesks = 10 }));
        var bad = await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/vision/classrooms/103", new { name = "103", desks = 10, adjustableDesks = 20 });
        Assert.True((await OkAsync(bad, HttpStatusCode.BadRequest))["errors"]!.AsObject().ContainsKey("adjustableDesks"));

        var summary = (await (await BureauAdminAsync()).GetFromJsonAsync<JsonArray>("/api/vision/classrooms/summary"))!
            .Single(s => s!["corpId"]!.ToString() == school.CorpId)!;
        Assert.Equal((2, 1, 50m), ((int)summary["classrooms"]!, (int)summary["lightingRenovated"]!, (decimal)summary["lightingRate"]!));
        Assert.Equal(62.5m, (decimal)summary["adjustableRate"]!);
        Assert.Equal(100m, (decimal)summary["target"]!);
    }
}
