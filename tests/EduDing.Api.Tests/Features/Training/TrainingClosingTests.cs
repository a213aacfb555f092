using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MiniExcelLibs;

namespace EduDing.Api.Tests.Features.Training;

/// <summary>
/// Annual closing and 定期注册: a school confirms its year, the bureau locks it and every way of changing that year's
/// credits is refused (claims, records, appraisals, results' credits, import rows); a registration run freezes every
/// teacher's standing, and a correction — the year reopened through an approved request — changes the live standing
/// but not the frozen snapshot.
/// </summary>
public abstract class TrainingClosingTests<TFixture>(TFixture fixture) where TFixture : TeachersFixture
{
    private HttpClient As(string corpId, string userId, params string[] roles) => fixture.ClientAs(corpId, userId, roles);

    private static object Credit(string userId, int year, decimal credits) => new
    {
        userId, title = $"校本研修 {year}", organiser = "学校", earnedOn = new DateOnly(year, 6, 1), kind = "regular", source = "school-based", domain = 4,
        level = "basic", credits,
    };

    [Fact]
    public async Task LockedYear_RefusesEveryChange_RegistrationSnapshot_UnchangedByACorrectionThroughReopening()
    {
        fixture.SkipUnlessAvailable();
        var (school, other, bureau) = (fixture.School, fixture.OtherSchool, fixture.Bureau);
        var admin = As(school.CorpId, "admin", $"school-admin@{school.CorpId}", $"school-staff@{school.CorpId}");
        var chief = As(bureau.CorpId, "chief", $"bureau-admin@{bureau.CorpId}", $"bureau-staff@{bureau.CorpId}");
        var teacher = As(school.CorpId, "t001", $"school-staff@{school.CorpId}");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/training/credits", Credit("t001", 2023, 40)))
            .StatusCode);

        // The school confirms 2023; only the bureau locks it, and the schools that had not confirmed are named.
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PostAsync("/api/training/years/2023/lock", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/corps/{school.CorpId}/training/years/2023/confirm", null)).StatusCode);
        var locked = (await (await chief.PostAsync("/api/training/years/2023/lock", null)).Content.ReadFromJsonAsync<JsonObject>())!;
        var notConfirmed = locked["notConfirmed"]!.AsArray().Select(c => c!.ToString()).ToList();
        Assert.Contains(other.CorpId, notConfirmed);
        Assert.DoesNotContain(school.CorpId, notConfirmed);

        // Every change to 2023 is refused; 2024 is open.
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/training/credits", Credit("t001", 2023, 5)))
            .StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await teacher.PostAsJsonAsync("/api/me/training/claims", new
        {
            corpId = school.CorpId, title = "市级培训", organiser = "海宁市教师进修学校", earnedOn = new DateOnly(2023, 11, 1), kind = "regular",
            source = "city", domain = 2, level = "basic", credits = 8,
        })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/training/teachers/t001/appraisals/2023",
            new { passed = false })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/corps/{school.CorpId}/training/years/2023/confirm", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/training/credits", Credit("t001", 2024, 30)))
            .StatusCode);
        using (var stream = new MemoryStream())
        {
            await stream.SaveAsAsync(new[]
            {
                new Dictionary<string, object> { ["工号"] = "T002", ["项目编号"] = "P1", ["项目名称"] = "省培", ["结束日期"] = "2023-05-01", ["学分"] = 10, ["类别"] = 1 },
                new Dictionary<string, object> { ["工号"] = "T002", ["项目编号"] = "P2", ["项目名称"] = "省培", ["结束日期"] = "2024-05-01", ["学分"] = 10, ["类别"] = 1 },
            });
            using var form = new MultipartFormDataContent { { new ByteArrayContent(stream.ToArray()), "file", "p.xlsx" } };
            var report = (await (await admin.PostAsync($"/api/corps/{school.CorpId}/training/provincial-imports?onErrors=skip", form))
                .Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Equal(1, (int)report["created"]!);
            Assert.Equal((2, "结束日期"), ((int)report["problems"]![0]!["row"]!, report["problems"]![0]!["column"]!.ToString()));
        }

        // 定期注册: the run freezes t001 at 70 credits (deferred: short of 360).
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PostAsJsonAsync("/api/training/registration-runs", new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await chief.PostAsJsonAsync("/api/training/registration-runs", new { name = "" })).StatusCode);
        var created = await chief.PostAsJsonAsync("/api/training/registration-runs", new { name = "2026年定期注册" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var run = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var runId = (long)run["run"]!["id"]!;
        JsonNode RowOf(JsonObject view, string corpId, string userId) =>
            view["rows"]!.AsArray().Single(r => r!["corpId"]!.ToString() == corpId && r["userId"]!.ToString() == userId)!;
        Assert.Equal(70m, (decimal)RowOf(run, school.CorpId, "t001")["total"]!);
        Assert.Equal("deferred", RowOf(run, school.CorpId, "t001")["outcome"]!.ToString());
        Assert.Equal(run["rows"]!.AsArray().Count, (int)run["run"]!["teachers"]!);
        Assert.Equal(TeachersFixture.TeachersPerSchool + 1, run["rows"]!.AsArray().Count(r => r!["corpId"]!.ToString() == school.CorpId));

        // A correction: the school asks, the bureau approves, 2023 is open again for this school only.
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/training/years/2023/reopen",
            new { reason = "" })).StatusCode);
        var reopen = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/training/years/2023/reopen", new { reason = "漏登一次校本研修" });
        Assert.Equal(HttpStatusCode.Created, reopen.StatusCode);
        var requestId = (long)(await reopen.Content.ReadFromJsonAsync<JsonObject>())!["approvalRequestId"]!;
        Assert.Equal(HttpStatusCode.OK, (await chief.PostAsJsonAsync($"/api/approvals/{requestId}/approve", new { comment = "同意更正" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/training/credits", Credit("t001", 2023, 6)))
            .StatusCode);
        var otherAdmin = As(other.CorpId, "admin", $"school-admin@{other.CorpId}", $"school-staff@{other.CorpId}");
        Assert.Equal(HttpStatusCode.Conflict, (await otherAdmin.PostAsJsonAsync($"/api/corps/{other.CorpId}/training/credits", Credit("t001", 2023, 5)))
            .StatusCode);

        // Live: 76; frozen: still 70, for the bureau and for the school (its own rows only).
        Assert.Equal(76m, (decimal)(await teacher.GetFromJsonAsync<JsonObject>("/api/me/training"))!["compliance"]!["total"]!);
        Assert.Equal(70m, (decimal)RowOf((await chief.GetFromJsonAsync<JsonObject>($"/api/training/registration-runs/{runId}"))!, school.CorpId, "t001")["total"]!);
        var own = (await admin.GetFromJsonAsync<JsonObject>($"/api/corps/{school.CorpId}/training/registration-runs/{runId}"))!;
        Assert.Equal(70m, (decimal)RowOf(own, school.CorpId, "t001")["total"]!);
        Assert.All(own["rows"]!.AsArray(), r => Assert.Equal(school.CorpId, r!["corpId"]!.ToString()));
        Assert.Equal(HttpStatusCode.Forbidden, (await otherAdmin.GetAsync($"/api/corps/{school.CorpId}/training/registration-runs/{runId}")).StatusCode);
        var years = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/training/years"))!;
        var year2023 = years.Single(y => (int)y!["year"]! == 2023)!;
        Assert.Null(year2023["lockedAt"]);
        Assert.NotNull(year2023["reopenedAt"]);
    }
}

public sealed class SqliteTrainingClosingTests(SqliteTeachersFixture fixture) : TrainingClosingTests<SqliteTeachersFixture>(fixture),
    IClassFixture<SqliteTeachersFixture>;

public sealed class MySqlTrainingClosingTests(MySqlTeachersFixture fixture) : TrainingClosingTests<MySqlTeachersFixture>(fixture),
    IClassFixture<MySqlTeachersFixture>;
