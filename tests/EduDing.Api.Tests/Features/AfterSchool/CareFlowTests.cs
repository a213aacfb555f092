using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.AfterSchool;
using EduDing.Api.Tests.Features.Org;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.AfterSchool;

/// <summary>
/// 家长申请 → 班级审核 → 学校统一实施 through the API: a program that breaks "5+2" stays a draft; families apply in the
/// window; the elective's one place goes to the first family and the second waits; the adviser reviews and the school's
/// admin confirms in bulk; when the first family withdraws, the second gets the place.
/// </summary>
public sealed class CareFlowTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private LiveOrg Live => fixture.Live;

    private async Task<HttpClient> AsAsync(string corpId, string userId) => Live.Client(await Live.SignInAsync(corpId, userId));

    private static object Program(int grade, string endsAt, DateTime opens) => new
    {
        name = "秋季课后服务", kind = "term", startsOn = new DateOnly(2026, 9, 7), endsOn = new DateOnly(2027, 1, 22),
        signupOpensAt = opens, signupClosesAt = opens.AddDays(3), gradeLevels = new[] { grade }, terms = "服务时间、内容、收费与安全措施……",
        feeUnit = "term",
        sessions = Enumerable.Range(1, 5).Select(d => new { weekday = d, startsAt = "15:30", endsAt }).ToArray(),
        offerings = new object[]
        {
            new { kind = "basic", name = "基础托管", contentType = "homework", capacity = 40 },
            new { kind = "elective", name = "围棋社", contentType = "club", capacity = 1, feeCents = 20000 },
        },
    };

    [Fact]
    public async Task Programs_Applications_Review_AndWithdrawal_FollowTheRules()
    {
        var school = Live.Sandbox.World.Schools.First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var (classId, roster) = school.Classes.First(c => c.Value.Teachers.Any(t => t.IsAdviser) && c.Value.Relations.Select(r => r.StudentUserId).Distinct().Count() >= 3);
        var grade = (int)(await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/classes"))!
            .First(c => (long)c!["classId"]! == classId)!["gradeLevel"]!;

        // Ending at 17:00, before the 17:30 off-work time: a draft that cannot open.
        var early = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", Program(grade, "17:00", DateTime.UtcNow.AddHours(-1)));
        Assert.Equal(HttpStatusCode.Created, early.StatusCode);
        var earlyId = (long)(await early.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var compliance = (await admin.GetFromJsonAsync<JsonObject>($"/api/corps/{school.CorpId}/care-programs/{earlyId}/compliance"))!;
        Assert.False((bool)compliance["compliant"]!);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await admin.PostAsync($"/api/corps/{school.CorpId}/care-programs/{earlyId}/open", null)).StatusCode);

        var created = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", Program(grade, "17:30", DateTime.UtcNow.AddHours(-1)));
        var program = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var programId = (long)program["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/open", null)).StatusCode);
        var offerings = program["offerings"]!.AsArray();
        var basic = (long)offerings.First(o => o!["kind"]!.ToString() == "basic")!["id"]!;
        var elective = (long)offerings.First(o => o!["kind"]!.ToString() == "elective")!["id"]!;

        var families = roster.Relations.GroupBy(r => r.StudentUserId).Take(3).Select(g => (Student: g.Key, Guardian: g.First().GuardianUserId)).ToList();
        async Task<(HttpClient Client, JsonObject Application)> ApplyAsync((string Student, string Guardian) family)
        {
            var client = await AsAsync(school.CorpId, family.Guardian);
            var response = await client.PostAsJsonAsync("/api/me/care/applications", new
            {
                programId, corpId = school.CorpId, studentUserId = family.Student, offeringIds = new[] { basic, elective },
                weekdays = new[] { 1, 2, 3, 4, 5 }, pickup = new[] { new { name = "王奶奶", relation = "祖母", phone = "13800000000" } },
                termsVersion = 1,
            });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return (client, (await response.Content.ReadFromJsonAsync<JsonObject>())!);
        }

        var (firstClient, first) = await ApplyAsync(families[0]);
        var (secondClient, second) = await ApplyAsync(families[1]);
        // Pickup people's phones are sealed at rest (docs/encryption.md) and read back whole.
        await using (var connection = await Live.Factory.Services.GetRequiredService<Api.Data.Database>().OpenConnectionAsync(default))
        {
            var stored = await Dapper.SqlMapper.ExecuteScalarAsync<string>(connection, "SELECT pickup FROM care_applications WHERE id = @id",
                new { id = (long)first["id"]! });
            Assert.StartsWith("ed1.", stored);
            Assert.DoesNotContain("13800000000", stored);
        }

        var mine = (await firstClient.GetFromJsonAsync<JsonArray>("/api/me/care/applications"))!;
        Assert.Equal("13800000000", mine.First(a => (long)a!["id"]! == (long)first["id"]!)!["pickup"]![0]!["phone"]!.ToString());
        string PlaceIn(JsonObject application, long offering) =>
            application["places"]!.AsArray().First(p => (long)p!["offeringId"]! == offering)!["status"]!.ToString();
        Assert.Equal("held", PlaceIn(first, elective));
        Assert.Equal("waitlisted", PlaceIn(second, elective));
        Assert.Equal(1, (int)second["places"]!.AsArray().First(p => (long)p!["offeringId"]! == elective)!["waitlistPosition"]!);
        Assert.Equal("held", PlaceIn(second, basic));

        // A second application for the same child, bad pickup, and the wrong terms version are refused.
        var again = await firstClient.PostAsJsonAsync("/api/me/care/applications", new
        {
            programId, corpId = school.CorpId, studentUserId = families[0].Student, offeringIds = new[] { basic }, weekdays = new[] { 1 },
            pickup = new[] { new { name = "王奶奶", relation = "祖母", phone = "13800000000" } }, termsVersion = 1,
        });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        // What the mini-app shows the guardian, in Chinese; the English stays beside it for the logs.
        var duplicate = (await again.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("已为孩子报名过本项目，请勿重复提交。", duplicate["detail"]!.ToString());
        Assert.Equal("This child already has an application for the program.", duplicate["detailEn"]!.ToString());
        Assert.Equal("care.conflict.already_applied", duplicate["code"]!.ToString());
        var bad = await secondClient.PostAsJsonAsync("/api/me/care/applications", new
        {
            programId, corpId = school.CorpId, studentUserId = families[1].Student, offeringIds = new[] { basic }, weekdays = new[] { 1 },
            pickup = Array.Empty<object>(), termsVersion = 2,
        });
        var problem = (await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True(problem.ContainsKey("pickup") && problem.ContainsKey("termsVersion"));

        // The application and its review request commit together: when the request cannot be written (here a request
        // already holds the subject the next application would get), no application is left without its review.
        var third = await AsAsync(school.CorpId, families[2].Guardian);
        await using (var connection = await Live.Factory.Services.GetRequiredService<Api.Data.Database>().OpenConnectionAsync(default))
        {
            await Dapper.SqlMapper.ExecuteAsync(connection, """
                INSERT INTO approval_requests (kind, corp_id, subject_id, class_id, title, summary, requester_corp_id, requester_user_id, status,
                                               route, steps, current_step, version, created_at, updated_at, step_opened_at)
                SELECT 'after-school', @corpId, CAST(COALESCE(MAX(id), 0) + 1 AS TEXT), NULL, 'blocker', NULL, @corpId, 'nobody', 'withdrawn',
                       'in-app', '[]', 0, 0, @now, @now, @now FROM care_applications
                """, new { corpId = school.CorpId, now = DateTime.UtcNow });
            var refused = await third.PostAsJsonAsync("/api/me/care/applications", new
            {
                programId, corpId = school.CorpId, studentUserId = families[2].Student, offeringIds = new[] { basic, elective },
                weekdays = new[] { 1, 2, 3, 4, 5 }, pickup = new[] { new { name = "李爷爷", relation = "祖父", phone = "13900000000" } }, termsVersion = 1,
            });
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal(0, await Dapper.SqlMapper.ExecuteScalarAsync<int>(connection,
                "SELECT COUNT(*) FROM care_applications WHERE program_id = @programId AND student_user_id = @student",
                new { programId, student = families[2].Student }));
            await Dapper.SqlMapper.ExecuteAsync(connection, "DELETE FROM approval_requests WHERE title = 'blocker'");
        }

        // The class adviser reviews, then the school's admin confirms both in bulk.
        var adviser = await AsAsync(school.CorpId, roster.Teachers.First(t => t.IsAdviser).UserId);
        var requestIds = new[] { (long)first["approvalRequestId"]!, (long)second["approvalRequestId"]! };
        foreach (var id in requestIds)
        {
            Assert.Equal(HttpStatusCode.OK, (await adviser.PostAsJsonAsync($"/api/approvals/{id}/approve", new { comment = "情况属实" })).StatusCode);
        }

        var bulk = (await (await admin.PostAsJsonAsync("/api/approvals/bulk-approve", new { ids = requestIds })).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.All(bulk["results"]!.AsArray(), r => Assert.Equal("approved", r!["outcome"]!.ToString()));

        JsonObject Mine(JsonArray list, string student) => list.First(a => a!["studentUserId"]!.ToString() == student)!.AsObject();
        var firstNow = Mine((await firstClient.GetFromJsonAsync<JsonArray>("/api/me/care/applications"))!, families[0].Student);
        Assert.Equal("approved", firstNow["status"]!.ToString());
        Assert.Equal("enrolled", PlaceIn(firstNow, elective));
        var secondNow = Mine((await secondClient.GetFromJsonAsync<JsonArray>("/api/me/care/applications"))!, families[1].Student);
        Assert.Equal("waitlisted", PlaceIn(secondNow, elective));
        Assert.Equal("enrolled", PlaceIn(secondNow, basic));

        // The first family withdraws: the place is offered to the second, who claims it within the window; already
        // approved, they are enrolled. Nobody else can claim it for them, and it cannot be claimed twice.
        var withdrawn = await firstClient.PostAsync($"/api/me/care/applications/{(long)first["id"]!}/withdraw", null);
        Assert.Equal(HttpStatusCode.OK, withdrawn.StatusCode);
        secondNow = Mine((await secondClient.GetFromJsonAsync<JsonArray>("/api/me/care/applications"))!, families[1].Student);
        Assert.Equal("offered", PlaceIn(secondNow, elective));
        Assert.NotNull(secondNow["places"]!.AsArray().First(p => (long)p!["offeringId"]! == elective)!["offerExpiresAt"]);
        var claimPath = $"/api/me/care/applications/{(long)second["id"]!}/offers/{elective}/claim";
        Assert.Equal(HttpStatusCode.NotFound, (await firstClient.PostAsync(claimPath, null)).StatusCode);
        var claimed = await secondClient.PostAsync(claimPath, null);
        Assert.Equal(HttpStatusCode.OK, claimed.StatusCode);
        Assert.Equal("enrolled", PlaceIn((await claimed.Content.ReadFromJsonAsync<JsonObject>())!, elective));
        Assert.Equal(HttpStatusCode.Conflict, (await secondClient.PostAsync(claimPath, null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await secondClient.PostAsync($"/api/me/care/applications/{(long)first["id"]!}/withdraw", null)).StatusCode);
    }

    [Fact]
    public async Task OutsideProviders_AreWhitelistedByTheSchool_AndTermsAreVersioned()
    {
        var school = Live.Sandbox.World.Schools.Skip(3).First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var (classId, roster) = school.Classes.First(c => c.Value.Relations.Count > 0);
        var grade = (int)(await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/classes"))!
            .First(c => (long)c!["classId"]! == classId)!["gradeLevel"]!;
        var providers = $"/api/corps/{school.CorpId}/care-providers";
        var bad = await admin.PostAsJsonAsync(providers, new { name = "海宁棋院", creditCode = "123", contact = "陈老师", phone = "13600000000" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().ContainsKey("creditCode"));
        var listed = await admin.PostAsJsonAsync(providers, new { name = "海宁棋院", creditCode = "91330481MA2B3C4D5E", contact = "陈老师", phone = "13600000000",
            qualifications = "办学许可证 海教民 2024-017" });
        Assert.Equal(HttpStatusCode.Created, listed.StatusCode);
        var providerId = (long)(await listed.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync(providers,
            new { name = "海宁棋院", creditCode = "91330481MA2B3C4D5E", contact = "陈老师", phone = "13600000000" })).StatusCode);
        var teacher = await AsAsync(school.CorpId, roster.Teachers[0].UserId);
        Assert.Equal(HttpStatusCode.Forbidden, (await teacher.GetAsync(providers)).StatusCode);

        object Program(long? provider, string? teacherUserId) => new
        {
            name = "秋季课后服务", kind = "term", startsOn = new DateOnly(2026, 9, 7), endsOn = new DateOnly(2027, 1, 22),
            signupOpensAt = DateTime.UtcNow.AddHours(-1), signupClosesAt = DateTime.UtcNow.AddDays(3), gradeLevels = new[] { grade }, terms = "第一版条款",
            feeUnit = "term", sessions = Enumerable.Range(1, 5).Select(d => new { weekday = d, startsAt = "15:30", endsAt = "17:30" }).ToArray(),
            offerings = new object[]
            {
                new { kind = "basic", name = "基础托管", contentType = "homework", capacity = 40 },
                new { kind = "elective", name = "围棋", contentType = "club", capacity = 20, providerId = provider, teacherUserId },
            },
        };
        string ErrorsOf(HttpResponseMessage response) => response.Content.ReadAsStringAsync().Result;

        // Not on the list, or a teacher who is not the school's staff without a provider: refused, naming the field.
        var unknown = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", Program(999_999, null));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("offerings[1].providerId", ErrorsOf(unknown));
        var notStaff = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", Program(null, roster.Relations[0].GuardianUserId));
        Assert.Equal(HttpStatusCode.BadRequest, notStaff.StatusCode);
        Assert.Contains("offerings[1].teacherUserId", ErrorsOf(notStaff));

        var created = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", Program(providerId, roster.Teachers[0].UserId));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var program = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(providerId, (long)program["offerings"]![1]!["providerId"]!);

        // Revoked: no new course of theirs.
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"{providers}/{providerId}/revoke", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", Program(providerId, null))).StatusCode);

        // New terms: version 2; a family still holding version 1 must accept the new one.
        var programId = (long)program["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/open", null)).StatusCode);
        var revised = await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/terms", new { terms = "第二版条款：收费标准调整" });
        Assert.Equal(HttpStatusCode.OK, revised.StatusCode);
        Assert.Equal(2, (int)(await revised.Content.ReadFromJsonAsync<JsonObject>())!["termsVersion"]!);
        var guardian = await AsAsync(school.CorpId, roster.Relations[0].GuardianUserId);
        object Application(int version) => new
        {
            programId, corpId = school.CorpId, studentUserId = roster.Relations[0].StudentUserId, offeringIds = new[] { (long)program["offerings"]![0]!["id"]! },
            weekdays = new[] { 1 }, pickup = new[] { new { name = "王奶奶", relation = "祖母", phone = "13800000000" } }, termsVersion = version,
        };
        Assert.Equal(HttpStatusCode.BadRequest, (await guardian.PostAsJsonAsync("/api/me/care/applications", Application(1))).StatusCode);
        var applied = await guardian.PostAsJsonAsync("/api/me/care/applications", Application(2));
        Assert.Equal(HttpStatusCode.Created, applied.StatusCode);
        Assert.Equal(2, (int)(await applied.Content.ReadFromJsonAsync<JsonObject>())!["termsVersion"]!);
    }

    [Fact]
    public async Task ABasicGroupOverCapacity_TellsTheSchoolOnce_WhichOpensAnotherGroup_AndAFamilyMovesThere()
    {
        var school = Live.Sandbox.World.Schools.Skip(4).First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var (classId, roster) = school.Classes.First(c => c.Value.Relations.Select(r => r.StudentUserId).Distinct().Count() >= 2);
        var grade = (int)(await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/classes"))!
            .First(c => (long)c!["classId"]! == classId)!["gradeLevel"]!;
        var created = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", Program(grade, "17:30", DateTime.UtcNow.AddHours(-1)));
        var program = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var programId = (long)program["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/open", null)).StatusCode);
        // A basic group of one place, for two families.
        var small = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/offerings",
            new { kind = "basic", name = "小组托管", contentType = "reading", capacity = 1 });
        Assert.Equal(HttpStatusCode.Created, small.StatusCode);
        var group = (long)(await small.Content.ReadFromJsonAsync<JsonObject>())!["offerings"]!.AsArray().Single(o => o!["name"]!.ToString() == "小组托管")!["id"]!;
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/offerings",
            new { kind = "basic", name = "", contentType = "lessons", capacity = 0 })).StatusCode);

        var families = roster.Relations.GroupBy(r => r.StudentUserId).Take(2).Select(g => (Student: g.Key, Guardian: g.First().GuardianUserId)).ToList();
        var applications = new List<(HttpClient Client, long Id)>();
        foreach (var (student, guardianId) in families)
        {
            var guardian = await AsAsync(school.CorpId, guardianId);
            var response = await guardian.PostAsJsonAsync("/api/me/care/applications", new
            {
                programId, corpId = school.CorpId, studentUserId = student, offeringIds = new[] { group }, weekdays = new[] { 1, 2, 3, 4, 5 },
                pickup = new[] { new { name = "王奶奶", relation = "祖母", phone = "13800000000" } }, termsVersion = 1,
            });
            var application = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            // Basic care never waits, even over capacity.
            Assert.Equal("held", application["places"]![0]!["status"]!.ToString());
            applications.Add((guardian, (long)application["id"]!));
        }

        // The school's admins are told once, whichever instance runs the worker.
        var offers = Live.Factory.Services.GetRequiredService<CareOffers>();
        await offers.RunAsync(DateTime.UtcNow, default);
        await offers.RunAsync(DateTime.UtcNow, default);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        int Told(JsonArray items) => items.Count(n => n!["title"]!.ToString() == "基础托管需增开托管组");
        while (Told((await admin.GetFromJsonAsync<JsonObject>("/api/me/notices?pageSize=100"))!["items"]!.AsArray()) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(1, Told((await admin.GetFromJsonAsync<JsonObject>("/api/me/notices?pageSize=100"))!["items"]!.AsArray()));

        // The school opens another group; one family moves there.
        var second = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/offerings",
            new { kind = "basic", name = "小组托管二", contentType = "reading", capacity = 10 });
        var secondGroup = (long)(await second.Content.ReadFromJsonAsync<JsonObject>())!["offerings"]!.AsArray()
            .Single(o => o!["name"]!.ToString() == "小组托管二")!["id"]!;
        var moved = await applications[1].Client.PostAsJsonAsync($"/api/me/care/applications/{applications[1].Id}/switch",
            new { fromOfferingId = group, toOfferingId = secondGroup });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal("held", (await moved.Content.ReadFromJsonAsync<JsonObject>())!["places"]!.AsArray()
            .Single(p => (long)p!["offeringId"]! == secondGroup)!["status"]!.ToString());

        // A group formed by class takes only that class's children.
        var otherClass = (long)(await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/classes"))!
            .First(c => (int?)c!["gradeLevel"] == grade && (long)c["classId"]! != classId)!["classId"]!;
        var byClass = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/offerings",
            new { kind = "basic", name = "班级托管", contentType = "homework", capacity = 40, classIds = new[] { otherClass } });
        Assert.Equal(HttpStatusCode.Created, byClass.StatusCode);
        var classGroup = (long)(await byClass.Content.ReadFromJsonAsync<JsonObject>())!["offerings"]!.AsArray()
            .Single(o => o!["name"]!.ToString() == "班级托管")!["id"]!;
        Assert.Equal(HttpStatusCode.BadRequest, (await applications[0].Client.PostAsJsonAsync(
            $"/api/me/care/applications/{applications[0].Id}/switch", new { fromOfferingId = group, toOfferingId = classGroup })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/offerings",
            new { kind = "basic", name = "错班托管", contentType = "homework", capacity = 40, classIds = new[] { 987654321L } })).StatusCode);
    }
}

/// <summary>Mid-term changes: joining after the window (reviewed like any application), and switching groups.</summary>
public sealed class CareChangeTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    [Fact]
    public async Task AFamilyJoinsMidTerm_AndSwitchesGroup_TheOldPlaceGoesToTheNextInLine()
    {
        var live = fixture.Live;
        var school = live.Sandbox.World.Schools.First();
        var admin = live.Client(await live.SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId));
        var (classId, roster) = school.Classes.First(c => c.Value.Relations.Select(r => r.StudentUserId).Distinct().Count() >= 2);
        var grade = (int)(await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/classes"))!
            .First(c => (long)c!["classId"]! == classId)!["gradeLevel"]!;
        var today = EduDing.Api.Hosting.ShanghaiTime.Today(TimeProvider.System);
        var program = (await (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", new
        {
            name = "托管", kind = "holiday", startsOn = today.AddDays(-3), endsOn = today.AddDays(10), signupOpensAt = DateTime.UtcNow.AddDays(-5),
            signupClosesAt = DateTime.UtcNow.AddDays(-4), gradeLevels = new[] { grade }, terms = "条款", feeUnit = "day",
            sessions = Enumerable.Range(1, 7).Select(d => new { weekday = d, startsAt = "15:30", endsAt = "17:30" }).ToArray(),
            offerings = new object[]
            {
                new { kind = "elective", name = "围棋", contentType = "club", capacity = 1 },
                new { kind = "elective", name = "书法", contentType = "arts", capacity = 1 },
            },
        })).Content.ReadFromJsonAsync<JsonObject>())!;
        var programId = (long)program["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/open", null)).StatusCode);
        var (go, calligraphy) = ((long)program["offerings"]![0]!["id"]!, (long)program["offerings"]![1]!["id"]!);

        var families = roster.Relations.GroupBy(r => r.StudentUserId).Take(2).Select(g => (Student: g.Key, Guardian: g.First().GuardianUserId)).ToList();
        var applications = new List<(HttpClient Client, long Id)>();
        foreach (var (student, guardianId) in families)
        {
            var guardian = live.Client(await live.SignInAsync(school.CorpId, guardianId));
            var response = await guardian.PostAsJsonAsync("/api/me/care/applications", new
            {
                programId, corpId = school.CorpId, studentUserId = student, offeringIds = new[] { go }, weekdays = new[] { 1, 2, 3, 4, 5 },
                pickup = new[] { new { name = "王奶奶", relation = "祖母", phone = "13800000000" } }, termsVersion = 1,
            });
            // The window closed four days ago: a mid-term join, still accepted and reviewed.
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            applications.Add((guardian, (long)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!));
        }

        var switched = await applications[0].Client.PostAsJsonAsync($"/api/me/care/applications/{applications[0].Id}/switch",
            new { fromOfferingId = go, toOfferingId = calligraphy });
        Assert.Equal(HttpStatusCode.OK, switched.StatusCode);
        var places = (await switched.Content.ReadFromJsonAsync<JsonObject>())!["places"]!.AsArray();
        Assert.Equal("released", places.First(p => (long)p!["offeringId"]! == go)!["status"]!.ToString());
        Assert.Equal("held", places.First(p => (long)p!["offeringId"]! == calligraphy)!["status"]!.ToString());
        var second = (await applications[1].Client.GetFromJsonAsync<JsonArray>("/api/me/care/applications"))!
            .First(a => (long)a!["id"]! == applications[1].Id)!;
        // The freed place is offered to the next in line, held once they claim it.
        Assert.Equal("offered", second["places"]!.AsArray().First(p => (long)p!["offeringId"]! == go)!["status"]!.ToString());
        Assert.Equal(HttpStatusCode.OK,
            (await applications[1].Client.PostAsync($"/api/me/care/applications/{applications[1].Id}/offers/{go}/claim", null)).StatusCode);
        second = (await applications[1].Client.GetFromJsonAsync<JsonArray>("/api/me/care/applications"))!
            .First(a => (long)a!["id"]! == applications[1].Id)!;
        Assert.Equal("held", second["places"]!.AsArray().First(p => (long)p!["offeringId"]! == go)!["status"]!.ToString());
        Assert.Equal(HttpStatusCode.BadRequest, (await applications[1].Client.PostAsJsonAsync($"/api/me/care/applications/{applications[1].Id}/switch",
            new { fromOfferingId = go, toOfferingId = 999999L })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await applications[1].Client.PostAsJsonAsync($"/api/me/care/applications/{applications[0].Id}/switch",
            new { fromOfferingId = calligraphy, toOfferingId = go })).StatusCode);
    }
}
