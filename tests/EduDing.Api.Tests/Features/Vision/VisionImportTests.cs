using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Features.Vision;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MiniExcelLibs;

namespace EduDing.Api.Tests.Features.Vision;

/// <summary>A school of 3,000 students seeded into the mirror of a service on one provider.</summary>
public abstract class BigSchoolFixture : IAsyncLifetime
{
    public const int Classes = 75;
    public const int StudentsPerClass = 40;

    internal ApiFactory Factory { get; } = new();

    internal string CorpId { get; private set; } = "";

    internal string AdminToken { get; private set; } = "";

    internal List<(string UserId, string Number, string Name, long ClassId, int Grade)> Students { get; } = [];

    /// <summary>False when the provider has no server here (MySQL without EDUDING_TEST_MYSQL).</summary>
    public virtual bool Available => true;

    public virtual void SkipUnlessAvailable()
    {
    }

    protected virtual ValueTask ConfigureAsync(ApiFactory factory) => ValueTask.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        await ConfigureAsync(Factory);
        if (!Available)
        {
            return;
        }

        Factory.CreateClient().Dispose();
        var services = Factory.Services;
        CorpId = services.GetRequiredService<CorpDirectory>().All.First(c => c.Kind == CorpKind.School).CorpId;
        var org = services.GetRequiredService<OrgRepository>();
        var now = DateTime.UtcNow;
        await org.UpsertCorpsAsync([(CorpId, "School", "测试学校")], now, default);
        await org.ReplaceStaffAsync(CorpId, [new StaffRow("admin", null, "校长", "校长", null, true, true, [])], now, now, default);
        await org.UpsertEduNodeAsync(CorpId, new EduNodeRow(9000, "小学部", null, null, "period", null, null), now, default);
        for (var grade = 1; grade <= 6; grade++)
        {
            await org.UpsertEduNodeAsync(CorpId, new EduNodeRow(9000 + grade, $"{grade}年级", null, 9000, "grade", grade, null), now, default);
        }

        for (var c = 0; c < Classes; c++)
        {
            var grade = (c % 6) + 1;
            long classId = 10_000 + c;
            await org.UpsertEduNodeAsync(CorpId, new EduNodeRow(classId, $"{grade}年级({c / 6 + 1})班", null, 9000 + grade, "class", grade, "2026"), now, default);
            var roster = Enumerable.Range(0, StudentsPerClass).Select(s => new RosterPerson($"stu{c:D3}{s:D2}", $"学生{c}-{s}", null,
                $"2026{c:D3}{s:D2}")).ToList();
            await org.ApplyClassRosterAsync(CorpId, classId, new ClassRoster(roster, [], [], []), now, default);
            Students.AddRange(roster.Select(r => (r.UserId, r.StudentNumber!, r.Name, classId, grade)));
        }

        AdminToken = TestTokens.Person(CorpId, "admin", $"school-admin@{CorpId}", $"school-staff@{CorpId}");
    }

    public virtual ValueTask DisposeAsync() => Factory.DisposeAsync();
}

public sealed class SqliteBigSchoolFixture : BigSchoolFixture;

/// <summary>The same school on a fresh MariaDB/MySQL database (the service migrates it at start).</summary>
public sealed class MySqlBigSchoolFixture : BigSchoolFixture
{
    private readonly EmptyMySqlTestDb _db = new();

    public override bool Available => _db.Available;

    public override void SkipUnlessAvailable() => _db.SkipUnlessAvailable();

    protected override async ValueTask ConfigureAsync(ApiFactory factory)
    {
        await _db.InitializeAsync();
        if (_db.Available)
        {
            factory.Settings["Database:Provider"] = "MySql";
            factory.Settings["Database:ConnectionString"] = _db.ConnectionString;
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _db.DisposeAsync();
    }
}

/// <summary>The xlsx import of a 3,000-row file with 20 bad rows, and statistics against an independent computation.</summary>
public abstract class VisionImportTests<TFixture>(TFixture school) where TFixture : BigSchoolFixture
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));

    private HttpClient Admin()
    {
        school.SkipUnlessAvailable();
        var client = school.Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", school.AdminToken);
        return client;
    }

    private async Task<long> NewRoundAsync(HttpClient admin)
    {
        var response = await admin.PostAsJsonAsync("/api/vision/rounds", new
        {
            kind = "ad-hoc", schoolYear = 2026, corpId = school.CorpId, opensOn = Today.AddDays(-10), closesOn = Today,
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (long)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
    }

    private sealed record Row(Dictionary<string, object?> Cells, bool Bad, string? StudentUserId, int Age, string Sex, long ClassId, int Grade,
        string Glasses, decimal? UcvaR, decimal? UcvaL, decimal? SeR, decimal? SeL, bool HasCva);

    /// <summary>3,000 rows, one per student, of which 20 (at known positions) are bad in 20 different ways.</summary>
    private List<Row> Sheet()
    {
        var random = new Random(7);
        decimal[] acuities = [4.0m, 4.3m, 4.5m, 4.6m, 4.7m, 4.8m, 4.9m, 5.0m, 5.0m, 5.0m, 5.1m, 5.1m, 5.2m];
        var rows = new List<Row>();
        foreach (var (userId, number, name, classId, grade) in school.Students)
        {
            var age = 5 + grade + random.Next(0, 2);
            var birth = Today.AddDays(-10).AddYears(-age).AddDays(-random.Next(1, 300));
            var sex = random.Next(2) == 0 ? "男" : "女";
            var glasses = random.NextDouble() switch { < 0.03 => "角膜塑形镜", < 0.15 => "框架眼镜", _ => "不戴镜" };
            decimal Sphere() => -0.25m * random.Next(-4, 20);
            decimal Cylinder() => -0.25m * random.Next(0, 5);
            var (ucvaR, ucvaL) = (acuities[random.Next(acuities.Length)], acuities[random.Next(acuities.Length)]);
            var (sR, cR, sL, cL) = (Sphere(), Cylinder(), Sphere(), Cylinder());
            var hasCva = glasses != "不戴镜";
            var cells = new Dictionary<string, object?>
            {
                ["学号"] = number, ["学生ID"] = null, ["姓名"] = name, ["性别"] = sex, ["出生日期"] = birth.ToString("yyyy-MM-dd"),
                ["检查日期"] = Today.AddDays(-5).ToString("yyyy-MM-dd"), ["戴镜类型"] = glasses,
                ["右眼裸眼视力"] = ucvaR, ["左眼裸眼视力"] = ucvaL, ["右眼走近距离(米)"] = null, ["左眼走近距离(米)"] = null,
                ["右眼戴镜视力"] = hasCva ? 5.0m : null, ["左眼戴镜视力"] = hasCva ? 4.9m : null,
                ["右眼球镜"] = sR, ["右眼柱镜"] = cR, ["右眼轴位"] = cR == 0 ? null : random.Next(1, 181),
                ["左眼球镜"] = sL, ["左眼柱镜"] = cL, ["左眼轴位"] = cL == 0 ? null : random.Next(1, 181),
                ["右眼眼轴(mm)"] = 23.5m, ["左眼眼轴(mm)"] = 23.6m, ["无法检查原因"] = null,
            };
            rows.Add(new Row(cells, false, userId, age, sex == "男" ? "male" : "female", classId, grade, glasses, ucvaR, ucvaL, sR + (cR / 2),
                sL + (cL / 2), hasCva));
        }

        Action<Dictionary<string, object?>>[] faults =
        [
            c => c["右眼裸眼视力"] = 4.05m,
            c => c["左眼裸眼视力"] = 5.4m,
            c => c["学号"] = "no-such-number",
            c => c["右眼柱镜"] = -0.3m,
            c => c["左眼轴位"] = 181,
            c => c["出生日期"] = null,
            c => c["戴镜类型"] = "墨镜",
            c => c["检查日期"] = Today.AddDays(-30).ToString("yyyy-MM-dd"),
            c => c["性别"] = "X",
            c => { c["右眼柱镜"] = -1.00m; c["右眼轴位"] = null; },
            c => c["右眼球镜"] = "abc",
            c => c["姓名"] = "不是这个人",
            c => c["右眼裸眼视力"] = 3.8m,
            c => c["左眼裸眼视力"] = null,
            c => c["出生日期"] = "1990-01-01",
            c => c["右眼球镜"] = -1.10m,
            c => { c["右眼球镜"] = null; c["右眼柱镜"] = -0.5m; },
            c => c["右眼眼轴(mm)"] = 50m,
            c => c["检查日期"] = "next week",
            c => c["学号"] = null,
        ];
        for (var i = 0; i < faults.Length; i++)
        {
            var index = 37 + (i * 149);
            faults[i](rows[index].Cells);
            rows[index] = rows[index] with { Bad = true };
        }

        return rows;
    }

    private static byte[] Xlsx(IEnumerable<Row> rows)
    {
        using var stream = new MemoryStream();
        stream.SaveAs(rows.Select(r => r.Cells).ToList());
        return stream.ToArray();
    }

    private async Task<JsonObject> ImportAsync(HttpClient admin, long roundId, byte[] xlsx, string onErrors)
    {
        using var content = new MultipartFormDataContent { { new ByteArrayContent(xlsx), "file", "筛查.xlsx" } };
        var response = await admin.PostAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/imports?onErrors={onErrors}", content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private Database Db => school.Factory.Services.GetRequiredService<Database>();

    private async Task<int> CountAsync(string sql, object args)
    {
        await using var connection = await Db.OpenConnectionAsync(default);
        return await Dapper.SqlMapper.ExecuteScalarAsync<int>(connection, sql, args);
    }

    [Fact]
    public async Task ThreeThousandRows_TwentyBad_ReportedByRow_TheRestImportedOnRequest_AndAReimportChangesNothing()
    {
        using var admin = Admin();
        var roundId = await NewRoundAsync(admin);
        var sheet = Sheet();
        var xlsx = Xlsx(sheet);
        var badRows = sheet.Select((r, i) => (r, Row: i + 2)).Where(x => x.r.Bad).Select(x => x.Row).ToList();

        var rejected = await ImportAsync(admin, roundId, xlsx, "reject");
        Assert.Equal(3000, (int)rejected["totalRows"]!);
        Assert.False((bool)rejected["imported"]!);
        Assert.Equal(badRows, rejected["problems"]!.AsArray().Select(p => (int)p!["row"]!).Distinct().Order().ToList());
        Assert.All(rejected["problems"]!.AsArray(), p => Assert.False(string.IsNullOrEmpty(p!["reason"]!.ToString())));
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM vision_records WHERE round_id = @roundId", new { roundId }));

        var imported = await ImportAsync(admin, roundId, xlsx, "import-valid");
        Assert.True((bool)imported["imported"]!);
        Assert.Equal(2980, (int)imported["created"]!);
        Assert.Equal(2980, await CountAsync("SELECT COUNT(*) FROM vision_records WHERE round_id = @roundId", new { roundId }));

        var again = await ImportAsync(admin, roundId, xlsx, "import-valid");
        Assert.Equal((0, 0, 2980), ((int)again["created"]!, (int)again["updated"]!, (int)again["unchanged"]!));
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM vision_record_history WHERE round_id = @roundId", new { roundId }));
        Assert.Equal(2980, await CountAsync("SELECT COUNT(*) FROM vision_records WHERE round_id = @roundId AND version = 1", new { roundId }));
    }

    [Fact]
    public async Task Statistics_EqualAnIndependentComputation_ForEveryDimension()
    {
        using var admin = Admin();
        var roundId = await NewRoundAsync(admin);
        var sheet = Sheet();
        await ImportAsync(admin, roundId, Xlsx(sheet), "import-valid");
        var good = sheet.Where(r => !r.Bad).ToList();

        // Independently: valid = complete (OK lens: corrected acuity); myopic = OK lens, or an eye with UCVA < 5.0 and SE <= -0.50.
        bool Valid(Row r) => r.Age >= 6 && (r.Glasses == "角膜塑形镜" ? r.HasCva : r.UcvaR is not null && r.UcvaL is not null);
        bool Myopic(Row r) => r.Glasses == "角膜塑形镜" || (r.UcvaR < 5.0m && r.SeR <= -0.50m) || (r.UcvaL < 5.0m && r.SeL <= -0.50m);
        decimal? Rate(IEnumerable<Row> rows)
        {
            var valid = rows.Where(Valid).ToList();
            return valid.Count == 0 ? null : Math.Round(100m * valid.Count(Myopic) / valid.Count, 2, MidpointRounding.AwayFromZero);
        }

        var expected = new Dictionary<string, Dictionary<string, (int Screened, int Valid, decimal? Rate)>>
        {
            ["school"] = good.GroupBy(_ => school.CorpId).ToDictionary(g => g.Key, g => (g.Count(), g.Count(Valid), Rate(g))),
            ["period"] = good.GroupBy(_ => "小学部").ToDictionary(g => g.Key, g => (g.Count(), g.Count(Valid), Rate(g))),
            ["grade"] = good.GroupBy(r => r.Grade.ToString()).ToDictionary(g => g.Key, g => (g.Count(), g.Count(Valid), Rate(g))),
            ["class"] = good.GroupBy(r => $"{school.CorpId}:{r.ClassId}").ToDictionary(g => g.Key, g => (g.Count(), g.Count(Valid), Rate(g))),
            ["sex"] = good.GroupBy(r => r.Sex).ToDictionary(g => g.Key, g => (g.Count(), g.Count(Valid), Rate(g))),
            ["age"] = good.GroupBy(r => r.Age.ToString()).ToDictionary(g => g.Key, g => (g.Count(), g.Count(Valid), Rate(g))),
        };

        foreach (var (by, groups) in expected)
        {
            var stats = (await admin.GetFromJsonAsync<JsonObject>($"/api/vision/rounds/{roundId}/statistics?by={by}&corpId={school.CorpId}"))!;
            var actual = stats["rows"]!.AsArray().Where(r => (int)r!["screened"]! > 0)
                .ToDictionary(r => r!["key"]!.ToString(), r => ((int)r!["screened"]!, (int)r["valid"]!, (decimal?)r["myopiaRate"]));
            Assert.Equal(groups.OrderBy(g => g.Key), actual.OrderBy(g => g.Key));

            // The total under every grouping is the school's: the same counts, rate and coverage whichever way it is cut.
            var total = stats["total"]!;
            Assert.Equal((good.Count, good.Count(Valid), Rate(good)), ((int)total["screened"]!, (int)total["valid"]!, (decimal?)total["myopiaRate"]));
            Assert.Equal(Math.Round(100m * good.Count / 3000, 2), (decimal?)total["coverage"]);
        }
    }

    /// <summary>
    /// Two imports of one school's round at once, each of different classes, then two more correcting them: the school's
    /// summed cells (what the trend and every grouping but the class read) agree with the records and with the class cells.
    /// </summary>
    [Fact]
    public async Task ConcurrentImportsOfOneSchool_TheSchoolTotalsAgreeWithTheRecords()
    {
        using var admin = Admin();
        var roundId = await NewRoundAsync(admin);
        var good = Sheet().Where(r => !r.Bad).ToList();
        var halves = good.GroupBy(r => r.ClassId % 2).Select(g => g.ToList()).ToList();

        await Task.WhenAll(halves.Select(half => Task.Run(() => ImportAsync(admin, roundId, Xlsx(half), "reject"))));
        // Corrections: every other pupil of each half is now without glasses and sees 5.0 with no refractive error.
        var corrected = halves.Select(half => half.Select((r, i) => i % 2 == 0 ? r : r with
        {
            Cells = new Dictionary<string, object?>(r.Cells)
            {
                ["戴镜类型"] = "不戴镜", ["右眼裸眼视力"] = 5.0m, ["左眼裸眼视力"] = 5.0m, ["右眼戴镜视力"] = null, ["左眼戴镜视力"] = null,
                ["右眼球镜"] = 0m, ["右眼柱镜"] = 0m, ["右眼轴位"] = null, ["左眼球镜"] = 0m, ["左眼柱镜"] = 0m, ["左眼轴位"] = null,
            },
        }).ToList()).ToList();
        await Task.WhenAll(corrected.Select(half => Task.Run(() => ImportAsync(admin, roundId, Xlsx(half), "reject"))));

        var args = new { roundId, corpId = school.CorpId };
        var records = (Screened: await CountAsync("SELECT COUNT(*) FROM vision_records WHERE round_id = @roundId AND corp_id = @corpId", args),
            Myopic: await CountAsync("SELECT COUNT(*) FROM vision_records WHERE round_id = @roundId AND corp_id = @corpId AND valid AND myopic", args));
        var cells = (Screened: await CountAsync("SELECT SUM(screened) FROM vision_stat_cells WHERE round_id = @roundId AND corp_id = @corpId", args),
            Myopic: await CountAsync("SELECT SUM(myopic) FROM vision_stat_cells WHERE round_id = @roundId AND corp_id = @corpId", args));
        var totals = (await school.Factory.Services.GetRequiredService<VisionStatistics>().TotalsAsync([roundId], school.CorpId, default))[roundId];

        Assert.Equal(good.Count, records.Screened);
        Assert.Equal(records, cells);
        Assert.Equal(records, (totals.Screened, totals.Myopic));
        var byGrade = (await admin.GetFromJsonAsync<JsonObject>($"/api/vision/rounds/{roundId}/statistics?by=grade&corpId={school.CorpId}"))!;
        Assert.Equal(good.GroupBy(r => r.Grade.ToString()).Select(g => (g.Key, g.Count())).OrderBy(g => g.Key),
            byGrade["rows"]!.AsArray().Select(r => (r!["key"]!.ToString(), (int)r["screened"]!)).OrderBy(g => g.Item1));
    }

    /// <summary>The template's example sheet shows a row that imports as it stands once it names a pupil of the school and a day of the round.</summary>
    [Fact]
    public async Task Template_ExampleRow_ImportsForAPupilOfTheSchool()
    {
        using var admin = Admin();
        var template = await admin.GetByteArrayAsync("/api/vision/import-template");
        var sheets = MiniExcel.GetSheetNames(new MemoryStream(template));
        var example = new MemoryStream(template).Query(useHeaderRow: true, sheetName: "示例").Cast<IDictionary<string, object>>().Single();
        var pupil = school.Students[7];
        var row = VisionImport.Columns.ToDictionary(c => c.Header, c => (object?)example[c.Header]?.ToString());
        row["学号"] = pupil.Number;
        row["姓名"] = pupil.Name;
        row["检查日期"] = Today.AddDays(-1).ToString("yyyy-MM-dd");
        using var stream = new MemoryStream();
        stream.SaveAs(new[] { row });
        var roundId = await NewRoundAsync(admin);

        var report = await ImportAsync(admin, roundId, stream.ToArray(), "reject");

        Assert.Equal(["筛查数据", "说明", "示例"], sheets);
        Assert.Equal(1, (int)report["created"]!);
        Assert.Empty(report["problems"]!.AsArray());
        var record = await admin.GetFromJsonAsync<JsonObject>($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/students/{pupil.UserId}");
        var right = record!["current"]!["right"]!;
        Assert.Equal(4.8m, (decimal)right["ucva"]!);
        Assert.Equal(-0.75m, (decimal)right["sphere"]!);
        Assert.Equal(180, (int)right["axis"]!);

        // Operators follow imports by what came in and what it did, without the rows.
        using var operatorClient = school.Factory.CreateClient();
        operatorClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.SystemAdmin());
        var imports = await operatorClient.GetFromJsonAsync<JsonObject>($"/api/ops/vision-imports?corpId={school.CorpId}&pageSize=200");
        var listed = imports!["items"]!.AsArray().Single(i => (long)i!["roundId"]! == roundId)!;
        Assert.Equal((1, 0, 1), ((int)listed["totalRows"]!, (int)listed["badRows"]!, (int)listed["created"]!));
        Assert.Null(listed["errors"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync("/api/ops/vision-imports")).StatusCode);
    }

    [Fact]
    public async Task Template_HasEveryColumn_AndAnEmptyFileImportsNothing()
    {
        using var admin = Admin();
        var template = await admin.GetByteArrayAsync("/api/vision/import-template");
        var headers = new MemoryStream(template).Query(useHeaderRow: false).Cast<IDictionary<string, object>>().First().Values.Select(v => v?.ToString()).ToList();
        Assert.Equal(VisionImport.Columns.Select(c => c.Header), headers);

        var roundId = await NewRoundAsync(admin);
        var report = await ImportAsync(admin, roundId, template, "import-valid");
        Assert.Equal(0, (int)report["created"]!);

        // Not a workbook at all: refused as a format this endpoint does not take, naming the field.
        using var content = new MultipartFormDataContent { { new ByteArrayContent("not an xlsx"u8.ToArray()), "file", "筛查.xlsx" } };
        var garbage = await admin.PostAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/imports?onErrors=import-valid", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, garbage.StatusCode);
        Assert.Contains("\"file\"", await garbage.Content.ReadAsStringAsync());
    }
}

public sealed class SqliteVisionImportTests(SqliteBigSchoolFixture school) : VisionImportTests<SqliteBigSchoolFixture>(school),
    IClassFixture<SqliteBigSchoolFixture>;

public sealed class MySqlVisionImportTests(MySqlBigSchoolFixture school) : VisionImportTests<MySqlBigSchoolFixture>(school),
    IClassFixture<MySqlBigSchoolFixture>;
