using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Notices;
using EduDing.Api.Features.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MiniExcelLibs;

namespace EduDing.Api.Tests.Features.Training;

/// <summary>
/// What a teacher owes beyond the credit counts: the school records a teacher's own cycle and role periods (a new
/// teacher's probation training falls due when it ends), mandatory trainings for a target group become a requirement
/// that is missed once they end unpassed; the teacher's archive holds their trainings and certificates; reminders go
/// out through the notice pipeline once per teacher and day, however often they run.
/// </summary>
public abstract class TrainingRequirementsTests<TFixture>(TFixture fixture) where TFixture : TeachersFixture
{
    private HttpClient As(string corpId, string userId, params string[] roles) => fixture.ClientAs(corpId, userId, roles);

    private static JsonNode? Requirement(JsonObject record, string startsWith) =>
        record["compliance"]!["requirements"]!.AsArray().SingleOrDefault(r => r!["name"]!.ToString().StartsWith(startsWith, StringComparison.Ordinal));

    [Fact]
    public async Task Profiles_MandatoryTrainings_Archive_AndRemindersOncePerTeacherAndDay()
    {
        fixture.SkipUnlessAvailable();
        var (school, other) = (fixture.School, fixture.OtherSchool);
        var corpId = school.CorpId;
        var admin = As(corpId, "admin", $"school-admin@{corpId}", $"school-staff@{corpId}");
        HttpClient Teacher(string userId) => As(corpId, userId, $"school-staff@{corpId}");

        // The profile: the school's admins only, checked field by field.
        var path = $"/api/corps/{corpId}/training/teachers/t005/profile";
        var bad = await admin.PutAsJsonAsync(path, new { cycleStartYear = 2010, roles = new[] { new { role = "boss", startsOn = "2024-09-01" } } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("cycleStartYear") && errors.ContainsKey("roles[0]"));
        Assert.Equal(HttpStatusCode.Forbidden, (await Teacher("t005").PutAsJsonAsync(path, new { roles = Array.Empty<object>() })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PutAsJsonAsync($"/api/corps/{corpId}/training/teachers/nobody/profile",
            new { roles = Array.Empty<object>() })).StatusCode);

        // A new teacher (probation 2024-09 to 2025-08) with their own cycle from 2024: the probation training is due and missed.
        var saved = await admin.PutAsJsonAsync(path, new
        {
            cycleStartYear = 2024, roles = new[] { new { role = "new-teacher", startsOn = new DateOnly(2024, 9, 1), endsOn = new DateOnly(2025, 8, 31) } },
        });
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var record = (await saved.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(2024, (int)record["profile"]!["cycleStartYear"]!);
        Assert.Equal(2024, (int)record["compliance"]!["cycleStart"]!);
        Assert.Equal("missed", Requirement(record, "new-teacher training")!["status"]!.ToString());
        Assert.Contains(record["compliance"]!["reasons"]!.AsArray(), r => r!.ToString().StartsWith("new-teacher training", StringComparison.Ordinal));

        // 180 probation credits of which 80 practical: met, and none of them counts toward the cycle.
        foreach (var (credits, practical) in new[] { (100m, false), (80m, true) })
        {
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"/api/corps/{corpId}/training/credits", new
            {
                userId = "t005", title = "新教师规范化培训", organiser = "海宁市教师进修学校", earnedOn = new DateOnly(2025, 6, 1), kind = "new-teacher",
                source = "city", domain = 1, level = "basic", credits, practical,
            })).StatusCode);
        }

        record = (await admin.GetFromJsonAsync<JsonObject>($"/api/corps/{corpId}/training/teachers/t005"))!;
        Assert.Equal("met", Requirement(record, "new-teacher training")!["status"]!.ToString());
        Assert.Equal(0m, (decimal)record["compliance"]!["total"]!);

        // Mandatory trainings: one for every teacher of the school, one for new teachers; both ended two days ago.
        var ended = DateTime.UtcNow.AddDays(-2);
        object Training(string title, string mandatoryFor) => new
        {
            corpId, title, domain = 1, level = "basic", credits = 6, capacity = 50, mandatoryFor,
            sessions = new[] { new { startsAt = ended, endsAt = ended.AddHours(2), place = "报告厅" } },
        };
        var refused = await admin.PostAsJsonAsync("/api/trainings", Training("师德专题", "everyone"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.True((await refused.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().ContainsKey("mandatoryFor"));
        var forAll = (long)(await (await admin.PostAsJsonAsync("/api/trainings", Training("师德专题", "all"))).Content
            .ReadFromJsonAsync<JsonObject>())!["training"]!["id"]!;
        var forNew = (long)(await (await admin.PostAsJsonAsync("/api/trainings", Training("新教师课堂常规", "new-teachers"))).Content
            .ReadFromJsonAsync<JsonObject>())!["training"]!["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/corps/{corpId}/training/teachers/t006/profile",
            new { roles = new[] { new { role = "new-teacher", startsOn = new DateOnly(2026, 9, 1) } } })).StatusCode);

        var enrolled = await Teacher("t001").PostAsJsonAsync($"/api/trainings/{forAll}/enrol", new { corpId });
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/approvals/{(long)(await enrolled.Content.ReadFromJsonAsync<JsonObject>())!["approvalRequestId"]!}/approve",
            new { comment = "已安排代课" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/trainings/{forAll}/results",
            new { results = new[] { new { corpId, userId = "t001", result = "pass" } } })).StatusCode);

        var passed = (await Teacher("t001").GetFromJsonAsync<JsonObject>("/api/me/training"))!;
        Assert.Equal("met", Requirement(passed, "mandatory training 师德专题")!["status"]!.ToString());
        Assert.Null(Requirement(passed, "mandatory training 新教师课堂常规"));
        var missed = (await Teacher("t002").GetFromJsonAsync<JsonObject>("/api/me/training"))!;
        Assert.Equal("missed", Requirement(missed, "mandatory training 师德专题")!["status"]!.ToString());
        Assert.Contains(missed["compliance"]!["reasons"]!.AsArray(), r => r!.ToString().StartsWith("mandatory training 师德专题", StringComparison.Ordinal));
        var newTeacher = (await Teacher("t006").GetFromJsonAsync<JsonObject>("/api/me/training"))!;
        Assert.Equal("missed", Requirement(newTeacher, "mandatory training 新教师课堂常规")!["status"]!.ToString());
        // Another school's teachers are not meant by this school's training.
        var elsewhere = (await As(other.CorpId, "t002", $"school-staff@{other.CorpId}").GetFromJsonAsync<JsonObject>("/api/me/training"))!;
        Assert.Null(Requirement(elsewhere, "mandatory training"));

        // The archive: the training with its result and certificate, as JSON and as a workbook; for the school's admins too.
        var archive = (await Teacher("t001").GetFromJsonAsync<JsonObject>("/api/me/training/archive"))!;
        var trained = archive["trainings"]!.AsArray().Single(t => (long)t!["trainingId"]! == forAll)!;
        Assert.Equal("pass", trained["result"]!.ToString());
        Assert.False(string.IsNullOrEmpty(trained["certificateCode"]?.ToString()));
        Assert.Contains(archive["record"]!["credits"]!.AsArray(), c => c!["title"]!.ToString() == "师德专题");
        var workbook = await Teacher("t001").GetAsync("/api/me/training/archive.xlsx");
        await using (var stream = new MemoryStream(await workbook.Content.ReadAsByteArrayAsync()))
        {
            Assert.Single(stream.Query(useHeaderRow: true, sheetName: "培训与证书"));
        }

        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/corps/{corpId}/training/teachers/t001/archive")).StatusCode);
        var otherAdmin = As(other.CorpId, "admin", $"school-admin@{other.CorpId}", $"school-staff@{other.CorpId}");
        Assert.Equal(HttpStatusCode.Forbidden, (await otherAdmin.GetAsync($"/api/corps/{corpId}/training/teachers/t001/archive")).StatusCode);

        // Reminders on 1 November at 10:00 Beijing, seven days before a registration deadline: both kinds, once each.
        var services = fixture.Factory.Services;
        var options = Options.Create(new TrainingOptions { RegistrationDeadline = new DateOnly(2026, 11, 8) });
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 2, 0, 0, TimeSpan.Zero));
        var reminders = new TrainingReminders(services.GetRequiredService<Database>(),
            new TrainingStandings(services.GetRequiredService<Database>(), services.GetRequiredService<CorpDirectory>(), time),
            services.GetRequiredService<SystemNotices>(), services.GetRequiredService<CorpDirectory>(), options, time);
        var early = new FakeTimeProvider(new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero));
        Assert.Equal((0, 0), await CountsAsync(new TrainingReminders(services.GetRequiredService<Database>(),
            new TrainingStandings(services.GetRequiredService<Database>(), services.GetRequiredService<CorpDirectory>(), early),
            services.GetRequiredService<SystemNotices>(), services.GetRequiredService<CorpDirectory>(), options, early)));
        var first = await reminders.RunAsync(default);
        Assert.Equal(new DateOnly(2026, 11, 1), first.Day);
        // Every teacher of the two schools is short of the cycle's 360 here: all would be deferred, and all are behind.
        var teachers = 2 * (TeachersFixture.TeachersPerSchool + 1);
        Assert.Equal((teachers, teachers), (first.BehindSchedule, first.BeforeRegistration));
        Assert.Equal((0, 0), await CountsAsync(reminders));

        var mine = (await Teacher("t002").GetFromJsonAsync<JsonObject>("/api/me/notices"))!["items"]!.AsArray();
        Assert.Single(mine, n => n!["title"]!.ToString() == "培训学分进度提醒");
        Assert.Single(mine, n => n!["title"]!.ToString() == "教师资格定期注册提醒");
    }

    [Fact]
    public async Task SplitCredits_CountPartByPart_InTheirDomainsAndLevels_ForARecordAndATrainingsResults()
    {
        fixture.SkipUnlessAvailable();
        var corpId = fixture.School.CorpId;
        var admin = As(corpId, "admin", $"school-admin@{corpId}", $"school-staff@{corpId}");
        object Record(decimal credits, params object[] parts) => new
        {
            userId = "t007", title = "跨学科主题教学研修", organiser = "海宁市教师进修学校", earnedOn = new DateOnly(2025, 4, 1), kind = "regular",
            source = "city", credits, parts,
        };

        // The parts must sum to the credits, each domain and level once, 2 to 7 of them.
        foreach (var bad in new[]
                 {
                     Record(24, new { domain = 3, level = "basic", credits = 16 }, new { domain = 4, level = "basic", credits = 6 }),
                     Record(24, new { domain = 3, level = "basic", credits = 12 }, new { domain = 3, level = "basic", credits = 12 }),
                     Record(24, new { domain = 3, level = "basic", credits = 24 }),
                 })
        {
            var refused = await admin.PostAsJsonAsync($"/api/corps/{corpId}/training/credits", bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True((await refused.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().ContainsKey("parts"));
        }

        var recorded = await admin.PostAsJsonAsync($"/api/corps/{corpId}/training/credits",
            Record(24, new { domain = 3, level = "basic", credits = 16 }, new { domain = 4, level = "intermediate", credits = 8 }));
        Assert.Equal(HttpStatusCode.Created, recorded.StatusCode);
        var credit = (await recorded.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((3, "basic", 2), ((int)credit["domain"]!, credit["level"]!.ToString(), credit["parts"]!.AsArray().Count));

        // A training split the same way gives its trainees split credits.
        var ended = DateTime.UtcNow.AddDays(-3);
        var created = await admin.PostAsJsonAsync("/api/trainings", new
        {
            corpId, title = "劳动教育与心理健康", credits = 10, capacity = 20,
            parts = new object[] { new { domain = 7, level = "basic", credits = 6 }, new { domain = 5, level = "advanced", credits = 4 } },
            sessions = new[] { new { startsAt = ended, endsAt = ended.AddHours(3), place = "302" } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var training = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(2, training["parts"]!.AsArray().Count);
        var id = (long)training["training"]!["id"]!;
        var enrolled = await As(corpId, "t007", $"school-staff@{corpId}").PostAsJsonAsync($"/api/trainings/{id}/enrol", new { corpId });
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync(
            $"/api/approvals/{(long)(await enrolled.Content.ReadFromJsonAsync<JsonObject>())!["approvalRequestId"]!}/approve", new { comment = "同意" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/trainings/{id}/results",
            new { results = new[] { new { corpId, userId = "t007", result = "excellent" } } })).StatusCode);

        var record = (await admin.GetFromJsonAsync<JsonObject>($"/api/corps/{corpId}/training/teachers/t007"))!;
        decimal Domain(int d) => (decimal)record["compliance"]!["domains"]!.AsArray().Single(x => (int)x!["domain"]! == d)!["earned"]!;
        decimal Level(string l) => (decimal)record["compliance"]!["levels"]!.AsArray().Single(x => x!["level"]!.ToString() == l)!["earned"]!;
        Assert.Equal((16m, 8m, 4m, 6m), (Domain(3), Domain(4), Domain(5), Domain(7)));
        Assert.Equal((22m, 8m, 4m), (Level("basic"), Level("intermediate"), Level("advanced")));
        Assert.Equal(34m, (decimal)record["compliance"]!["total"]!);
        Assert.Contains(record["credits"]!.AsArray(), c => c!["title"]!.ToString() == "劳动教育与心理健康" && c["parts"]!.AsArray().Count == 2);
    }

    private static async Task<(int, int)> CountsAsync(TrainingReminders reminders)
    {
        var pass = await reminders.RunAsync(default);
        return (pass.BehindSchedule, pass.BeforeRegistration);
    }
}

public sealed class SqliteTrainingRequirementsTests(SqliteTeachersFixture fixture) : TrainingRequirementsTests<SqliteTeachersFixture>(fixture),
    IClassFixture<SqliteTeachersFixture>;

public sealed class MySqlTrainingRequirementsTests(MySqlTeachersFixture fixture) : TrainingRequirementsTests<MySqlTeachersFixture>(fixture),
    IClassFixture<MySqlTeachersFixture>;
