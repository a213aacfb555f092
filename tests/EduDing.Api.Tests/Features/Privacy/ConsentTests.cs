using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using EduDing.Api.Features.Privacy;
using EduDing.Api.Tests.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.Api.Tests.Features.Privacy;

public abstract class ConsentFixture<TDb> : LiveOrgOnDbFixture<TDb> where TDb : TestDb, new();

public sealed class SqliteConsentFixture : ConsentFixture<SqliteTestDb>;

public sealed class MySqlConsentFixture : ConsentFixture<MySqlTestDb>;

/// <summary>
/// The processing notice and guardians' consent through the API, on each database: nothing is hidden before a notice
/// covers a purpose; from then on a school sees a child's vision records only with consent, and sees who lacks it; a
/// withdrawal hides the child again; a stale notice is refused; a version that asks again resets the answers; every
/// answer stays in the history. After-school care refuses an application without consent, and takes an adviser's paper form.
/// </summary>
public abstract class ConsentTests<TDb>(ConsentFixture<TDb> fixture) where TDb : TestDb, new()
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));

    private LiveOrg Live => fixture.Live;

    private SandboxCorp Bureau => Live.Sandbox.World.Bureau;

    private async Task<HttpClient> AsAsync(SandboxCorp corp, string userId) => Live.Client(await Live.SignInAsync(corp.CorpId, userId));

    private static async Task<JsonObject> OkAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static object Record(string studentUserId) => new
    {
        studentUserId, sex = "male", birthDate = Today.AddYears(-9), screenedOn = Today, glasses = "none",
        ucvaRight = 4.8m, ucvaLeft = 5.0m, sphereRight = -0.75m, cylinderRight = 0m, axisRight = 180, sphereLeft = 0.25m, cylinderLeft = 0m,
    };

    private static Task<HttpResponseMessage> AnswerAsync(HttpClient guardian, SandboxCorp school, string child, long noticeId, string purpose,
        string decision) =>
        guardian.PostAsJsonAsync($"/api/me/privacy/{school.CorpId}/{child}/consents",
            new { noticeId, answers = new[] { new { purpose, decision } } });

    [Fact]
    public async Task VisionRecords_AreShownToTheSchool_OnlyWithTheGuardiansConsent_UnderTheNoticeInForce()
    {
        fixture.Db.SkipUnlessAvailable();
        var school = Live.Sandbox.World.Schools.First();
        var (classId, roster) = school.Classes.First(c => c.Value.Teachers.Any(t => t.IsAdviser)
                                                          && c.Value.Relations.Select(r => r.StudentUserId).Distinct().Count() >= 2);
        var families = roster.Relations.GroupBy(r => r.StudentUserId).Take(2).Select(g => (Child: g.Key, Guardian: g.First().GuardianUserId)).ToList();
        var bureau = await AsAsync(Bureau, Bureau.Users.Values.First(u => u.Admin).UserId);
        var adviser = await AsAsync(school, roster.Teachers.First(t => t.IsAdviser).UserId);
        var admin = await AsAsync(school, school.Users.Values.First(u => u.Admin).UserId);
        var round = await OkAsync(await bureau.PostAsJsonAsync("/api/vision/rounds",
            new { kind = "winter-leave", schoolYear = 2026, opensOn = Today.AddDays(-3), closesOn = Today.AddDays(3) }), HttpStatusCode.Created);
        var records = $"/api/vision/rounds/{round["id"]}/corps/{school.CorpId}";
        await OkAsync(await adviser.PutAsJsonAsync($"{records}/records", new { records = roster.Students.Select(s => Record(s.UserId)).ToArray() }));
        var classRecords = $"{records}/classes/{classId}/records";
        async Task<HashSet<string>> ShownAsync() =>
            (await adviser.GetFromJsonAsync<JsonArray>(classRecords))!.Select(r => r!["studentUserId"]!.ToString()).ToHashSet();

        // Before any notice covers vision screening, nothing is asked and nothing is hidden.
        Assert.Equal(roster.Students.Count, (await ShownAsync()).Count);

        // Only the bureau's admins publish, and what they publish is checked.
        var byTeacher = await adviser.PostAsJsonAsync("/api/privacy/notices", new { title = "规则", body = "正文", purposes = new[] { "vision-screening" } });
        Assert.Equal(HttpStatusCode.Forbidden, byTeacher.StatusCode);
        var bad = await OkAsync(await bureau.PostAsJsonAsync("/api/privacy/notices", new { title = "规则", body = "正文", purposes = new[] { "marketing" } }),
            HttpStatusCode.BadRequest);
        Assert.True(bad["errors"]!.AsObject().ContainsKey("purposes"), bad.ToJsonString());
        var city = await OkAsync(await bureau.PostAsJsonAsync("/api/privacy/notices", new
        {
            title = "海宁市中小学生个人信息处理规则", body = "收集哪些信息、为什么收集、谁能看到、保存多久……", purposes = new[] { "vision-screening" },
        }), HttpStatusCode.Created);
        Assert.Equal(1, (int)city["version"]!);
        Assert.Null(city["corpId"]);

        // Now every child lacks consent: the class's records are hidden, and the school sees who lacks it.
        Assert.Empty(await ShownAsync());
        var missing = await OkAsync(await admin.GetAsync($"/api/corps/{school.CorpId}/consents?purpose=vision-screening&standing=missing&pageSize=200"));
        Assert.Contains(missing["children"]!["items"]!.AsArray(), c => c!["studentUserId"]!.ToString() == families[0].Child);
        var forClass = await OkAsync(await adviser.GetAsync($"/api/corps/{school.CorpId}/consents?purpose=vision-screening&classId={classId}"));
        Assert.Equal(roster.Students.Count, (int)forClass["counts"]!["missing"]!);
        var taught = await OkAsync(await adviser.GetAsync($"/api/corps/{school.CorpId}/consents?purpose=vision-screening&pageSize=200"));
        Assert.Contains(taught["children"]!["items"]!.AsArray(), c => c!["studentUserId"]!.ToString() == families[0].Child);
        var otherSchool = Live.Sandbox.World.Schools.Skip(1).First();
        var stranger = await AsAsync(otherSchool, otherSchool.Classes.Values.First().Teachers[0].UserId);
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync($"/api/corps/{school.CorpId}/consents?purpose=vision-screening")).StatusCode);

        // A guardian reads the notice and consents for their own child only.
        var guardian = await AsAsync(school, families[0].Guardian);
        var page = await OkAsync(await guardian.GetAsync($"/api/me/privacy/{school.CorpId}/{families[0].Child}"));
        Assert.Equal((long)city["id"]!, (long)page["notice"]!["id"]!);
        Assert.True((bool)page["purposes"]!.AsArray().Single(p => p!["purpose"]!.ToString() == "vision-screening")!["needsAnswer"]!);
        var notTheirs = roster.Students.Select(s => s.UserId).First(s => roster.Relations.All(r => r.StudentUserId != s || r.GuardianUserId != families[0].Guardian));
        Assert.Equal(HttpStatusCode.Forbidden, (await AnswerAsync(guardian, school, notTheirs, (long)city["id"]!, "vision-screening", "give")).StatusCode);
        var wrongDecision = await OkAsync(await AnswerAsync(guardian, school, families[0].Child, (long)city["id"]!, "vision-screening", "acknowledge"),
            HttpStatusCode.BadRequest);
        Assert.True(wrongDecision["errors"]!.AsObject().ContainsKey("answers[0].decision"));
        await OkAsync(await AnswerAsync(guardian, school, families[0].Child, (long)city["id"]!, "vision-screening", "give"));
        Assert.Equal([families[0].Child], await ShownAsync());
        await OkAsync(await adviser.GetAsync($"{records}/students/{families[0].Child}"));
        Assert.Equal(HttpStatusCode.Forbidden, (await adviser.GetAsync($"{records}/students/{families[1].Child}")).StatusCode);

        // A newer version that does not ask again keeps the consent; an answer to the old version is refused as stale.
        var v2 = await OkAsync(await bureau.PostAsJsonAsync("/api/privacy/notices", new
        {
            title = "海宁市中小学生个人信息处理规则（修订）", body = "增加了保存期限的说明……", purposes = new[] { "vision-screening" },
        }), HttpStatusCode.Created);
        Assert.Equal(2, (int)v2["version"]!);
        var stale = await AnswerAsync(guardian, school, families[0].Child, (long)city["id"]!, "vision-screening", "withdraw");
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Equal("privacy.conflict.notice_changed", (await stale.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.ToString());
        Assert.Equal([families[0].Child], await ShownAsync());

        // Withdrawn: the child disappears from the school's lists again; a second withdrawal has nothing to withdraw.
        await OkAsync(await AnswerAsync(guardian, school, families[0].Child, (long)v2["id"]!, "vision-screening", "withdraw"));
        Assert.Empty(await ShownAsync());
        Assert.Equal(HttpStatusCode.Conflict, (await AnswerAsync(guardian, school, families[0].Child, (long)v2["id"]!, "vision-screening", "withdraw")).StatusCode);
        var withdrawn = await OkAsync(await admin.GetAsync($"/api/corps/{school.CorpId}/consents?purpose=vision-screening&standing=withdrawn"));
        Assert.Equal([families[0].Child], withdrawn["children"]!["items"]!.AsArray().Select(c => c!["studentUserId"]!.ToString()));

        // The second family consents under v2; the school's own notice that asks again resets it to "missing".
        var second = await AsAsync(school, families[1].Guardian);
        await OkAsync(await AnswerAsync(second, school, families[1].Child, (long)v2["id"]!, "vision-screening", "give"));
        Assert.Contains(families[1].Child, await ShownAsync());
        var own = await OkAsync(await bureau.PostAsJsonAsync("/api/privacy/notices", new
        {
            corpId = school.CorpId, title = "本校学生个人信息处理规则", body = "本校另行委托医院筛查……", purposes = new[] { "vision-screening" },
            requiresNewConsent = true,
        }), HttpStatusCode.Created);
        Assert.Equal(school.CorpId, own["corpId"]!.ToString());
        Assert.DoesNotContain(families[1].Child, await ShownAsync());
        var secondPage = await OkAsync(await second.GetAsync($"/api/me/privacy/{school.CorpId}/{families[1].Child}"));
        Assert.Equal((long)own["id"]!, (long)secondPage["notice"]!["id"]!);
        Assert.Equal("missing", secondPage["purposes"]!.AsArray().Single(p => p!["purpose"]!.ToString() == "vision-screening")!["standing"]!.ToString());

        // The guardian still sees their own child's results, and every answer stays in the history.
        var history = (await OkAsync(await guardian.GetAsync($"/api/me/privacy/{school.CorpId}/{families[0].Child}")))["history"]!.AsArray();
        Assert.Equal(["withdraw", "give"], history.Select(h => h!["decision"]!.ToString()));
        Assert.Equal([2, 1], history.Select(h => (int)h!["noticeVersion"]!));
        await using var connection = await fixture.Db.Database.OpenConnectionAsync(default);
        Assert.Equal(3, await connection.ExecuteScalarAsync<int>(
            "SELECT COUNT(*) FROM consent_records WHERE corp_id = @corpId AND purpose = 'vision-screening'", new { corpId = school.CorpId }));
    }

    [Fact]
    public async Task AfterSchoolCare_NeedsConsent_AndAnAdviserRecordsAFamilysPaperForm()
    {
        fixture.Db.SkipUnlessAvailable();
        var school = Live.Sandbox.World.Schools.Skip(1).First();
        var (classId, roster) = school.Classes.First(c => c.Value.Teachers.Any(t => t.IsAdviser)
                                                          && c.Value.Relations.Select(r => r.StudentUserId).Distinct().Count() >= 3);
        var families = roster.Relations.GroupBy(r => r.StudentUserId).Take(3).Select(g => (Child: g.Key, Guardian: g.First().GuardianUserId)).ToList();
        var admin = await AsAsync(school, school.Users.Values.First(u => u.Admin).UserId);
        var adviser = await AsAsync(school, roster.Teachers.First(t => t.IsAdviser).UserId);
        var bureau = await AsAsync(Bureau, Bureau.Users.Values.First(u => u.Admin).UserId);
        var grade = (int)(await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/classes"))!
            .First(c => (long)c!["classId"]! == classId)!["gradeLevel"]!;
        var opens = DateTime.UtcNow.AddHours(-1);
        var program = await OkAsync(await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", new
        {
            name = "秋季课后服务", kind = "term", startsOn = new DateOnly(2026, 9, 7), endsOn = new DateOnly(2027, 1, 22),
            signupOpensAt = opens, signupClosesAt = opens.AddDays(3), gradeLevels = new[] { grade }, terms = "服务时间、内容、收费与安全措施……",
            feeUnit = "term", sessions = Enumerable.Range(1, 5).Select(d => new { weekday = d, startsAt = "15:30", endsAt = "17:30" }).ToArray(),
            offerings = new object[] { new { kind = "basic", name = "基础托管", contentType = "homework", capacity = 40 } },
        }), HttpStatusCode.Created);
        var programId = (long)program["id"]!;
        await OkAsync(await admin.PostAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/open", null));
        var basic = (long)program["offerings"]!.AsArray().Single()!["id"]!;
        object Application(string child, bool? paperConsent = null) => new
        {
            programId, corpId = school.CorpId, studentUserId = child, offeringIds = new[] { basic }, weekdays = new[] { 1, 2, 3, 4, 5 },
            pickup = new[] { new { name = "王奶奶", relation = "祖母", phone = "13800000000" } }, termsVersion = 1, paperConsent,
        };

        var notice = await OkAsync(await bureau.PostAsJsonAsync("/api/privacy/notices", new
        {
            corpId = school.CorpId, title = "课后服务个人信息处理规则", body = "报名信息、接送人及其电话、考勤……", purposes = new[] { "after-school-care" },
        }), HttpStatusCode.Created);
        var noticeId = (long)notice["id"]!;

        // Without consent the application is refused (the data is not collected), in Chinese.
        var guardian = await AsAsync(school, families[0].Guardian);
        var refused = await OkAsync(await guardian.PostAsJsonAsync("/api/me/care/applications", Application(families[0].Child)),
            HttpStatusCode.UnprocessableEntity);
        Assert.Contains("同意", refused["detail"]!.ToString());
        await OkAsync(await AnswerAsync(guardian, school, families[0].Child, noticeId, "after-school-care", "give"));
        await OkAsync(await guardian.PostAsJsonAsync("/api/me/care/applications", Application(families[0].Child)), HttpStatusCode.Created);

        // An adviser applying for a family not on DingTalk records its paper form; a family's refusal is never overridden.
        await OkAsync(await adviser.PostAsJsonAsync("/api/me/care/applications", Application(families[1].Child)), HttpStatusCode.UnprocessableEntity);
        await OkAsync(await adviser.PostAsJsonAsync("/api/me/care/applications", Application(families[1].Child, paperConsent: true)), HttpStatusCode.Created);
        var standings = await OkAsync(await adviser.GetAsync($"/api/corps/{school.CorpId}/consents?purpose=after-school-care&classId={classId}&standing=given"));
        Assert.Equal(new[] { families[0].Child, families[1].Child }.Order(), standings["children"]!["items"]!.AsArray().Select(c => c!["studentUserId"]!.ToString()).Order());
        var third = await AsAsync(school, families[2].Guardian);
        await OkAsync(await AnswerAsync(third, school, families[2].Child, noticeId, "after-school-care", "refuse"));
        await OkAsync(await adviser.PostAsJsonAsync("/api/me/care/applications", Application(families[2].Child, paperConsent: true)),
            HttpStatusCode.UnprocessableEntity);

        await using var connection = await fixture.Db.Database.OpenConnectionAsync(default);
        var paper = await connection.QuerySingleAsync<(string Channel, string? Guardian)>(
            "SELECT channel, guardian_user_id FROM consent_records WHERE corp_id = @corpId AND student_user_id = @child",
            new { corpId = school.CorpId, child = families[1].Child });
        Assert.Equal((ConsentChannel.Paper, null), paper);
    }

    [Fact]
    public async Task AGuardiansCopy_HoldsTheirChildOnly_AndADeletion_LeavesTheStatisticsAsTheyWere()
    {
        fixture.Db.SkipUnlessAvailable();
        var school = Live.Sandbox.World.Schools.Skip(2).First();
        var (classId, roster) = school.Classes.First(c => c.Value.Teachers.Any(t => t.IsAdviser) && c.Value.Relations.Count > 0);
        var (child, guardianId) = roster.Relations.Select(r => (r.StudentUserId, r.GuardianUserId)).First();
        var bureau = await AsAsync(Bureau, Bureau.Users.Values.First(u => u.Admin).UserId);
        var adviser = await AsAsync(school, roster.Teachers.First(t => t.IsAdviser).UserId);
        var admin = await AsAsync(school, school.Users.Values.First(u => u.Admin).UserId);
        var guardian = await AsAsync(school, guardianId);
        var round = await OkAsync(await bureau.PostAsJsonAsync("/api/vision/rounds",
            new { kind = "summer-leave", schoolYear = 2026, opensOn = Today.AddDays(-3), closesOn = Today.AddDays(3) }), HttpStatusCode.Created);
        var records = $"/api/vision/rounds/{round["id"]}/corps/{school.CorpId}";
        var others = roster.Students.Select(s => s.UserId).Where(s => s != child).ToList();
        await OkAsync(await adviser.PutAsJsonAsync($"{records}/records", new { records = roster.Students.Select(s => Record(s.UserId)).ToArray() }));
        var statistics = $"/api/vision/rounds/{round["id"]}/statistics?by=class&corpId={school.CorpId}";
        async Task<string> FiguresAsync()
        {
            var figures = await OkAsync(await bureau.GetAsync(statistics));
            return figures["rows"]!.ToJsonString() + figures["total"]!.ToJsonString();
        }

        var before = await FiguresAsync();
        Assert.Contains($"\"screened\":{roster.Students.Count},", before);

        // The copy holds this child's rows and names no other child of the school.
        var copy = await OkAsync(await guardian.GetAsync($"/api/me/privacy/{school.CorpId}/{child}/export"));
        Assert.Equal(child, copy["sections"]!["vision_records"]!.AsArray().Single()!["student_user_id"]!.ToString());
        Assert.Equal(child, copy["sections"]!["students"]!.AsArray().Single()!["user_id"]!.ToString());
        var text = copy.ToJsonString();
        Assert.DoesNotContain(school.Classes.Values.SelectMany(c => c.Students).Select(s => s.UserId).Where(s => s != child), s => text.Contains(s));
        var workbook = await guardian.GetAsync($"/api/me/privacy/{school.CorpId}/{child}/export?format=xlsx");
        Assert.Equal("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", workbook.Content.Headers.ContentType!.MediaType);
        var notTheirs = others.First(s => roster.Relations.All(r => r.StudentUserId != s || r.GuardianUserId != guardianId));
        Assert.Equal(HttpStatusCode.Forbidden, (await guardian.GetAsync($"/api/me/privacy/{school.CorpId}/{notTheirs}/export")).StatusCode);

        // A correction the school refuses carries its reason; a deletion it approves is carried out.
        var correction = await OkAsync(await guardian.PostAsJsonAsync($"/api/me/privacy/{school.CorpId}/{child}/requests",
            new { kind = "correction", purpose = "vision-screening", detail = "右眼视力应为4.9，录入有误" }), HttpStatusCode.Created);
        await OkAsync(await admin.PostAsJsonAsync($"/api/approvals/{correction["approvalId"]}/reject", new { reason = "已复核原始记录，录入无误" }));
        var deletion = await OkAsync(await guardian.PostAsJsonAsync($"/api/me/privacy/{school.CorpId}/{child}/requests",
            new { kind = "deletion", purpose = "vision-screening", detail = "已撤回同意，请删除孩子的视力数据" }), HttpStatusCode.Created);
        Assert.Equal("pending", deletion["status"]!.ToString());
        var noPurpose = await OkAsync(await guardian.PostAsJsonAsync($"/api/me/privacy/{school.CorpId}/{child}/requests",
            new { kind = "deletion", detail = "删除" }), HttpStatusCode.BadRequest);
        Assert.True(noPurpose["errors"]!.AsObject().ContainsKey("purpose"));
        await OkAsync(await admin.PostAsJsonAsync($"/api/approvals/{deletion["approvalId"]}/approve", new { }));

        var requests = (await guardian.GetFromJsonAsync<JsonArray>($"/api/me/privacy/{school.CorpId}/{child}/requests"))!;
        var deleted = requests.Single(r => (long)r!["id"]! == (long)deletion["id"]!)!;
        var refused = requests.Single(r => (long)r!["id"]! == (long)correction["id"]!)!;
        Assert.Equal("done", deleted["status"]!.ToString());
        Assert.Equal("refused", refused["status"]!.ToString());
        Assert.Contains("已复核原始记录，录入无误", refused["reply"]!.ToString());
        var after = await OkAsync(await guardian.GetAsync($"/api/me/privacy/{school.CorpId}/{child}/export"));
        Assert.Empty(after["sections"]!["vision_records"]!.AsArray());
        Assert.Empty((await OkAsync(await guardian.GetAsync($"/api/me/vision/{school.CorpId}/{child}")))["results"]!.AsArray());
        await using var connection = await fixture.Db.Database.OpenConnectionAsync(default);
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>(
            "SELECT COUNT(*) FROM vision_records WHERE student_user_id = @child OR (student_user_id LIKE 'erased:%' AND ucva_r IS NOT NULL)", new { child }));

        // The figures are what they were, and stay so when the class's cells are rebuilt by a later write.
        Assert.Equal(before, await FiguresAsync());
        // Only the axis of a zero cylinder changes: a new version, the same classification.
        var corrected = await OkAsync(await adviser.PutAsJsonAsync($"{records}/students/{others[0]}", new
        {
            studentUserId = others[0], sex = "male", birthDate = Today.AddYears(-9), screenedOn = Today, glasses = "none",
            ucvaRight = 4.8m, ucvaLeft = 5.0m, sphereRight = -0.75m, cylinderRight = 0m, axisRight = 90, sphereLeft = 0.25m, cylinderLeft = 0m,
        }));
        Assert.Equal(1, (int)corrected["updated"]!);
        Assert.Equal(before, await FiguresAsync());
    }
}

public sealed class SqliteConsentTests(SqliteConsentFixture fixture) : ConsentTests<SqliteTestDb>(fixture), IClassFixture<SqliteConsentFixture>;

public sealed class MySqlConsentTests(MySqlConsentFixture fixture) : ConsentTests<MySqlTestDb>(fixture), IClassFixture<MySqlConsentFixture>;

/// <summary>The rules of standing on each database: a statutory purpose is acknowledged, never hidden; a consent purpose is.</summary>
public abstract class ConsentServiceTests<TDb>(TDb db) where TDb : TestDb
{
    private const string School = "corp-consent-school";

    private ConsentService Service(string visionBasis) => new(new ConsentRepository(db.Database),
        Microsoft.Extensions.Options.Options.Create(new PrivacyOptions { LegalBasis = { [ConsentPurpose.VisionScreening] = visionBasis } }));

    [Fact]
    public async Task AStatutoryPurpose_IsAcknowledgedNotConsented_AndHidesNothing_WhileAConsentPurposeHidesTheUnanswered()
    {
        db.SkipUnlessAvailable();
        var repo = new ConsentRepository(db.Database);
        var now = db.Time.GetUtcNow().UtcDateTime;
        var id = await repo.PublishAsync(School, "规则", "正文", [ConsentPurpose.VisionScreening, ConsentPurpose.AfterSchoolCare], false, now, "bureau", "admin", default);
        var notice = (await repo.FindNoticeAsync(id, default))!;
        await repo.RecordAsync(School, "child-1", [(ConsentPurpose.VisionScreening, ConsentDecision.Acknowledge)], notice, ConsentChannel.MiniApp,
            "parent-1", (School, "parent-1"), now, default);
        await repo.RecordAsync(School, "child-2", [(ConsentPurpose.AfterSchoolCare, ConsentDecision.Give)], notice, ConsentChannel.MiniApp,
            "parent-2", (School, "parent-2"), now, default);

        var statutory = Service(LegalBasis.StatutoryDuty);
        var byConsent = Service(LegalBasis.Consent);
        string[] children = ["child-1", "child-2"];

        Assert.Equal(children, (await statutory.ShownAsync(School, ConsentPurpose.VisionScreening, children, default)).Order());
        Assert.Equal(new Dictionary<string, string> { ["child-1"] = ConsentStanding.Acknowledged, ["child-2"] = ConsentStanding.Unacknowledged },
            await statutory.StandingsAsync(School, ConsentPurpose.VisionScreening, children, default));
        Assert.Empty(await byConsent.ShownAsync(School, ConsentPurpose.VisionScreening, children, default));
        Assert.Equal(["child-2"], await byConsent.ShownAsync(School, ConsentPurpose.AfterSchoolCare, children, default));
        // Another school has no notice: nothing is asked there, and nothing hidden.
        Assert.Equal(children, (await byConsent.ShownAsync("corp-without-notice", ConsentPurpose.VisionScreening, children, default)).Order());
    }
}

public sealed class SqliteConsentServiceTests(SqliteTestDb db) : ConsentServiceTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlConsentServiceTests(MySqlTestDb db) : ConsentServiceTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
