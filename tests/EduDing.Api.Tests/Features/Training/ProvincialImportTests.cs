using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Features.Training;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MiniExcelLibs;

namespace EduDing.Api.Tests.Features.Training;

/// <summary>Two schools' teachers (with 工号) and the bureau's admin seeded into the mirror of a service on one provider.</summary>
public abstract class TeachersFixture : IAsyncLifetime
{
    public const int TeachersPerSchool = 30;

    internal ApiFactory Factory { get; } = new();

    internal CorpConfig School { get; private set; } = null!;

    internal CorpConfig OtherSchool { get; private set; } = null!;

    internal CorpConfig Bureau { get; private set; } = null!;

    public virtual void SkipUnlessAvailable()
    {
    }

    protected virtual ValueTask<bool> ConfigureAsync(ApiFactory factory) => ValueTask.FromResult(true);

    public async ValueTask InitializeAsync()
    {
        if (!await ConfigureAsync(Factory))
        {
            return;
        }

        Factory.CreateClient().Dispose();
        var corps = Factory.Services.GetRequiredService<CorpDirectory>();
        var schools = corps.All.Where(c => c.Kind == CorpKind.School).Take(2).ToList();
        (School, OtherSchool, Bureau) = (schools[0], schools[1], corps.All.First(c => c.Kind == CorpKind.Bureau));
        var org = Factory.Services.GetRequiredService<OrgRepository>();
        var now = DateTime.UtcNow;
        await org.UpsertCorpsAsync(corps.All.Select(c => (c.CorpId, c.Kind.ToString(), c.Name)).ToList(), now, default);
        foreach (var corp in new[] { School, OtherSchool })
        {
            var staff = new List<StaffRow> { new("admin", null, "校长", "校长", "A000", true, true, []) };
            staff.AddRange(Enumerable.Range(1, TeachersPerSchool).Select(i =>
                new StaffRow($"t{i:D3}", null, i >= TeachersPerSchool - 1 ? "王芳" : $"教师{i:D3}", "教师", $"T{i:D3}", false, false, [])));
            await org.ReplaceStaffAsync(corp.CorpId, staff, now, now, default);
        }

        await org.ReplaceStaffAsync(Bureau.CorpId, [new StaffRow("chief", null, "局长", "局长", null, true, true, [])], now, now, default);
    }

    public virtual ValueTask DisposeAsync() => Factory.DisposeAsync();

    /// <summary>A client signed in as this account with these roles.</summary>
    internal HttpClient ClientAs(string corpId, string userId, params string[] roles)
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Person(corpId, userId, roles));
        return client;
    }
}

public sealed class SqliteTeachersFixture : TeachersFixture;

public sealed class MySqlTeachersFixture : TeachersFixture
{
    private readonly EmptyMySqlTestDb _db = new();

    public override void SkipUnlessAvailable() => _db.SkipUnlessAvailable();

    protected override async ValueTask<bool> ConfigureAsync(ApiFactory factory)
    {
        await _db.InitializeAsync();
        if (_db.Available)
        {
            factory.Settings["Database:Provider"] = "MySql";
            factory.Settings["Database:ConnectionString"] = _db.ConnectionString;
        }

        return _db.Available;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _db.DisposeAsync();
    }
}

/// <summary>
/// The provincial platform's export: row errors by row and column, reject or skip, idempotent on re-import (updates what
/// changed), and reconciliation — a provincial record replaces the local credit of the same person and training, also
/// across linked accounts of a teacher who moved school, and the local credits not yet registered are listed.
/// </summary>
public abstract class ProvincialImportTests<TFixture>(TFixture fixture) where TFixture : TeachersFixture
{
    private HttpClient As(string corpId, string userId, params string[] roles) => fixture.ClientAs(corpId, userId, roles);

    private HttpClient SchoolAdmin(CorpConfig school) => As(school.CorpId, "admin", $"school-admin@{school.CorpId}", $"school-staff@{school.CorpId}");

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string corpId, IEnumerable<Dictionary<string, object?>> rows,
        string onErrors = "reject")
    {
        using var stream = new MemoryStream();
        await stream.SaveAsAsync(rows.ToList());
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(stream.ToArray());
        file.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        form.Add(file, "file", "省平台学分.xlsx");
        return await client.PostAsync($"/api/corps/{corpId}/training/provincial-imports?onErrors={onErrors}", form);
    }

    private static Dictionary<string, object?> Row(string? school, string? jobNumber, string? name, string project, string title, object ended,
        object credits, object domain = null!, string level = "中级", string trainingLevel = "省级") => new()
    {
        ["学校"] = school, ["姓名"] = name, ["工号"] = jobNumber, ["项目编号"] = project, ["项目名称"] = title, ["培训机构"] = "浙江师范大学",
        ["结束日期"] = ended, ["学分"] = credits, ["类别"] = domain ?? "学科知识", ["层次"] = level, ["培训级别"] = trainingLevel, ["培训类型"] = "专业发展",
    };

    private Database Db => fixture.Factory.Services.GetRequiredService<Database>();

    private async Task<long> LocalCreditAsync(string corpId, string userId, string title, DateOnly earnedOn, string status = "approved")
    {
        await using var connection = await Db.OpenConnectionAsync(default);
        return await connection.ExecuteScalarAsync<long>($"""
            INSERT INTO training_credits (corp_id, user_id, kind, source, domain, level, credits, hours, earned_on, title, organiser, practical,
                                          concentrated, evidence_url, status, created_at, created_by_corp_id, created_by_user_id, decided_at)
            VALUES (@corpId, @userId, 'regular', 'city', 3, 'intermediate', 20, NULL, @earnedOn, @title, '海宁市教师进修学校', @no, @no, NULL,
                    @status, @now, @corpId, 'admin', @now);
            {Db.Dialect.SelectLastInsertId};
            """, new { corpId, userId, earnedOn, title, status, now = DateTime.UtcNow, no = false });
    }

    private async Task<IReadOnlyList<(long Id, string Status, long? SupersededBy, decimal? Credits)>> CreditsAsync(string corpId, string userId)
    {
        await using var connection = await Db.OpenConnectionAsync(default);
        return (await connection.QueryAsync<(long, string, long?, decimal?)>(
            "SELECT id, status, superseded_by, credits FROM training_credits WHERE corp_id = @corpId AND user_id = @userId ORDER BY id",
            new { corpId, userId })).ToList();
    }

    [Fact]
    public async Task SchoolImport_RowErrorsByRowAndColumn_RejectThenSkip_IdempotentOnReimport_ReconcilesLocalCredits()
    {
        fixture.SkipUnlessAvailable();
        var school = fixture.School;
        var admin = SchoolAdmin(school);
        var localApproved = await LocalCreditAsync(school.CorpId, "t001", "2024年浙江省初中数学 骨干教师培训", new DateOnly(2024, 7, 5));
        var localPending = await LocalCreditAsync(school.CorpId, "t002", "信息技术应用能力提升工程2.0", new DateOnly(2024, 3, 1), "pending");
        var localFarApart = await LocalCreditAsync(school.CorpId, "t003", "班主任工作坊", new DateOnly(2023, 1, 10));
        var localOther = await LocalCreditAsync(school.CorpId, "t004", "校本研修：作业设计", new DateOnly(2024, 9, 1));

        var good = new List<Dictionary<string, object?>>
        {
            Row(school.Name, "T001", "教师001", "ZJ2024-0001", "2024年浙江省初中数学骨干教师培训", new DateTime(2024, 7, 20), 48, 3),
            Row(null, "T002", null, "ZJ2024-0002", "信息技术应用能力提升工程 2.0", "2024-03-15", 24.5, "信息技术", "初级"),
            Row(school.Name, "T003", "教师003", "ZJ2024-0003", "班主任工作坊", "2024/06/30", 12, 5, "高级", "市级"),
            Row(school.Name, null, "教师005", "ZJ2024-0005", "师德专题", new DateTime(2025, 1, 8), 8, 1, "初级", "县级"),
        };
        var bad = new List<Dictionary<string, object?>>
        {
            Row(school.Name, "T999", null, "ZJ2024-0100", "不存在的工号", "2024-05-01", 10),               // row 6: 工号
            Row(school.Name, null, "王芳", "ZJ2024-0101", "同名", "2024-05-01", 10),                      // row 7: 姓名 (two teachers)
            Row(fixture.OtherSchool.Name, "T001", null, "ZJ2024-0102", "别校", "2024-05-01", 10),         // row 8: 学校
            Row(school.Name, "T006", null, "ZJ2024-0103", "坏数据", "明天", -3, 9, "特级", "国家级"),        // row 9: many
            Row(school.Name, "T001", null, "ZJ2024-0001", "重复", "2024-07-20", 48),                      // row 10: repeated
        };

        // Reject: nothing is stored, every problem named by row and column.
        var rejected = await UploadAsync(admin, school.CorpId, good.Concat(bad));
        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        var report = (await rejected.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False((bool)report["imported"]!);
        Assert.Equal(9, (int)report["totalRows"]!);
        Assert.Equal(4, (int)report["goodRows"]!);
        var problems = report["problems"]!.AsArray().Select(p => ((int)p!["row"]!, p["column"]!.ToString())).ToHashSet();
        Assert.Contains((6, "工号"), problems);
        Assert.Contains((7, "姓名"), problems);
        Assert.Contains((8, "学校"), problems);
        foreach (var column in new[] { "结束日期", "学分", "类别", "层次", "培训级别" })
        {
            Assert.Contains((9, column), problems);
        }

        Assert.Contains((10, "项目编号"), problems);
        Assert.Equal(CreditStatus.Approved, (await CreditsAsync(school.CorpId, "t001")).Single().Status);

        // Skip: the good rows are stored and reconciled.
        var skipped = (await (await UploadAsync(admin, school.CorpId, good.Concat(bad), "skip")).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True((bool)skipped["imported"]!);
        Assert.Equal(4, (int)skipped["created"]!);
        Assert.Equal(2, (int)skipped["superseded"]!);
        // Operators see the stored import (the newest of the school) by what it did.
        var operatorClient = fixture.Factory.CreateClient();
        operatorClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.SystemAdmin());
        var listed = (await operatorClient.GetFromJsonAsync<JsonObject>($"/api/ops/training-imports?corpId={school.CorpId}"))!;
        var entry = listed["items"]![0]!;
        Assert.Equal((9, 4, 4, 2), ((int)entry["totalRows"]!, (int)entry["goodRows"]!, (int)entry["created"]!, (int)entry["superseded"]!));
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync("/api/ops/training-imports")).StatusCode);
        var t001 = await CreditsAsync(school.CorpId, "t001");
        var provincial = t001.Single(c => c.Id != localApproved);
        Assert.Equal((CreditStatus.Superseded, (long?)provincial.Id), (t001.Single(c => c.Id == localApproved).Status, t001.Single(c => c.Id == localApproved).SupersededBy));
        Assert.Equal(48m, provincial.Credits);
        Assert.Equal(CreditStatus.Superseded, (await CreditsAsync(school.CorpId, "t002")).Single(c => c.Id == localPending).Status);
        // Ended more than the window apart, or another training: not the same record.
        Assert.Equal(CreditStatus.Approved, (await CreditsAsync(school.CorpId, "t003")).Single(c => c.Id == localFarApart).Status);
        Assert.Equal(CreditStatus.Approved, (await CreditsAsync(school.CorpId, "t004")).Single(c => c.Id == localOther).Status);

        // The teacher's standing counts the provincial record once.
        var teacher = As(school.CorpId, "t001", $"school-staff@{school.CorpId}");
        Assert.Equal(48m, (decimal)(await teacher.GetFromJsonAsync<JsonObject>("/api/me/training"))!["compliance"]!["total"]!);

        // Re-importing the same file changes nothing; a changed row is updated, not added.
        var again = (await (await UploadAsync(admin, school.CorpId, good)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((0, 0, 4, 0), ((int)again["created"]!, (int)again["updated"]!, (int)again["unchanged"]!, (int)again["superseded"]!));
        good[0]["学分"] = 50;
        var changed = (await (await UploadAsync(admin, school.CorpId, good)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((0, 1, 3), ((int)changed["created"]!, (int)changed["updated"]!, (int)changed["unchanged"]!));
        Assert.Equal([50m], (await CreditsAsync(school.CorpId, "t001")).Where(c => c.Status == CreditStatus.Approved).Select(c => c.Credits));

        // What is left to register provincially: approved local credits only.
        var unregistered = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/training/unregistered"))!
            .Select(c => (long)c!["id"]!).ToHashSet();
        Assert.Contains(localFarApart, unregistered);
        Assert.Contains(localOther, unregistered);
        Assert.DoesNotContain(localApproved, unregistered);
        Assert.DoesNotContain(localPending, unregistered);
    }

    [Fact]
    public async Task Scope_SchoolsImportTheirOwn_BureauTheCity_LinkedAccountsReconcileAcrossSchools_BadFilesRefused()
    {
        fixture.SkipUnlessAvailable();
        var (school, other, bureau) = (fixture.School, fixture.OtherSchool, fixture.Bureau);
        var rows = new[] { Row(other.Name, "T010", null, "ZJ2025-0010", "心理健康教育", "2025-04-30", 16, 7) };

        // Only the school's admins or the bureau's; a teacher, or another school's admin, is refused before the file is read.
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(As(school.CorpId, "t010", $"school-staff@{school.CorpId}"), school.CorpId, rows))
            .StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(SchoolAdmin(other), school.CorpId, rows)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SchoolAdmin(school).GetAsync($"/api/corps/{other.CorpId}/training/unregistered")).StatusCode);

        // The teacher t010 of the other school was t020 here before moving; the two accounts are linked.
        var identity = fixture.Factory.Services.GetRequiredService<IdentityRepository>();
        await identity.LinkAsync(school.CorpId, "t020", other.CorpId, "t010", "admin", "调动", school.CorpId, "admin", DateTime.UtcNow, default);
        var before = await LocalCreditAsync(school.CorpId, "t020", "心理健康教育", new DateOnly(2025, 4, 28));

        var bureauAdmin = As(bureau.CorpId, "chief", $"bureau-admin@{bureau.CorpId}", $"bureau-staff@{bureau.CorpId}");
        var city = (await (await UploadAsync(bureauAdmin, bureau.CorpId, rows)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((1, 1), ((int)city["created"]!, (int)city["superseded"]!));
        Assert.Equal(CreditStatus.Superseded, (await CreditsAsync(school.CorpId, "t020")).Single(c => c.Id == before).Status);

        // Not an xlsx: 415; no file: 400 naming it; an unknown onErrors: 400.
        using var text = new MultipartFormDataContent { { new StringContent("学校,姓名"), "file", "a.csv" } };
        Assert.Equal(HttpStatusCode.UnsupportedMediaType,
            (await bureauAdmin.PostAsync($"/api/corps/{bureau.CorpId}/training/provincial-imports", text)).StatusCode);
        var none = await bureauAdmin.PostAsync($"/api/corps/{bureau.CorpId}/training/provincial-imports", new MultipartFormDataContent());
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.True((await none.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().ContainsKey("file"));
        Assert.Equal(HttpStatusCode.BadRequest, (await UploadAsync(bureauAdmin, bureau.CorpId, rows, "ignore")).StatusCode);
    }
}

public sealed class SqliteProvincialImportTests(SqliteTeachersFixture fixture) : ProvincialImportTests<SqliteTeachersFixture>(fixture),
    IClassFixture<SqliteTeachersFixture>;

public sealed class MySqlProvincialImportTests(MySqlTeachersFixture fixture) : ProvincialImportTests<MySqlTeachersFixture>(fixture),
    IClassFixture<MySqlTeachersFixture>;
