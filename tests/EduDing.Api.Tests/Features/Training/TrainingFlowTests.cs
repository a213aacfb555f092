using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Tests.Features.Org;

namespace EduDing.Api.Tests.Features.Training;

/// <summary>
/// A teacher claims credits through the app (hours only: the school's admin sets the credits), the school approves through
/// the approvals platform, records a 校本研修 result and an appraisal, and the teacher's and the school's views follow.
/// </summary>
public sealed class TrainingFlowTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private LiveOrg Live => fixture.Live;

    private async Task<HttpClient> AsAsync(string corpId, string userId) => Live.Client(await Live.SignInAsync(corpId, userId));

    /// <summary>The n-th pair of the school's teachers outside its first class (whose teachers the other tests use).</summary>
    private static List<string> TwoTeachersOfTheirOwn(EduDing.DingTalk.Sandbox.Model.SandboxCorp school, int pair)
    {
        var firstClass = school.Classes.First(c => c.Value.Relations.Count > 0).Value.Teachers.Select(t => t.UserId).ToHashSet();
        return school.Classes.Values.SelectMany(c => c.Teachers).Select(t => t.UserId).Distinct().Where(t => !firstClass.Contains(t))
            .Reverse().Skip(2 * pair).Take(2).ToList();
    }

    [Fact]
    public async Task ClaimsReviewedBySchool_RecordsAndAppraisals_DriveTheTeachersStanding()
    {
        var school = Live.Sandbox.World.Schools.First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var (_, roster) = school.Classes.First(c => c.Value.Relations.Count > 0);
        var teacherId = roster.Teachers[0].UserId;
        var teacher = await AsAsync(school.CorpId, teacherId);

        var bad = await teacher.PostAsJsonAsync("/api/me/training/claims", new { corpId = school.CorpId, title = "", kind = "other", domain = 9 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("title") && errors.ContainsKey("kind") && errors.ContainsKey("domain") && errors.ContainsKey("credits"));
        var guardian = await AsAsync(school.CorpId, roster.Relations[0].GuardianUserId);
        Assert.Equal(HttpStatusCode.Forbidden, (await guardian.PostAsJsonAsync("/api/me/training/claims", new { corpId = school.CorpId })).StatusCode);

        // Hours only: the reviewer sets the credits, then approves.
        var claimed = await teacher.PostAsJsonAsync("/api/me/training/claims", new
        {
            corpId = school.CorpId, title = "嘉兴市小学数学骨干教师研修", organiser = "嘉兴市教育研究院", earnedOn = new DateOnly(2024, 5, 10),
            kind = "regular", source = "city", domain = 3, level = "intermediate", hours = 24, evidenceUrl = "https://example.org/cert/123",
        });
        Assert.Equal(HttpStatusCode.Created, claimed.StatusCode);
        var claim = (await claimed.Content.ReadFromJsonAsync<JsonObject>())!;
        var creditId = (long)claim["credit"]!["id"]!;
        Assert.Equal("pending", claim["credit"]!["status"]!.ToString());
        Assert.Equal(0m, (decimal)(await teacher.GetFromJsonAsync<JsonObject>("/api/me/training"))!["compliance"]!["total"]!);

        Assert.Equal(HttpStatusCode.Forbidden, (await teacher.PutAsJsonAsync($"/api/corps/{school.CorpId}/training/claims/{creditId}/credits",
            new { credits = 100 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/training/claims/{creditId}/credits",
            new { credits = 0 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/training/claims/{creditId}/credits",
            new { credits = 12 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/approvals/{(long)claim["approvalRequestId"]!}/approve",
            new { comment = "证书属实" })).StatusCode);
        var mine = (await teacher.GetFromJsonAsync<JsonObject>("/api/me/training"))!;
        Assert.Equal("approved", mine["credits"]!.AsArray().Single(c => (long)c!["id"]! == creditId)!["status"]!.ToString());
        Assert.Equal(12m, (decimal)mine["compliance"]!["total"]!);
        // Decided: the credits no longer change.
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/training/claims/{creditId}/credits",
            new { credits = 50 })).StatusCode);

        // The school records a 校本研修 result and a failed appraisal.
        var recorded = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/training/credits", new
        {
            userId = teacherId, title = "校本研修：作业设计", organiser = school.Name, earnedOn = new DateOnly(2023, 12, 20), kind = "regular",
            source = "school-based", domain = 4, level = "basic", credits = 30,
        });
        Assert.Equal(HttpStatusCode.Created, recorded.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync(
            $"/api/corps/{school.CorpId}/training/teachers/{teacherId}/appraisals/2023", new { passed = false })).StatusCode);

        var standing = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/training/teachers"))!
            .Single(t => t!["userId"]!.ToString() == teacherId)!;
        Assert.Equal(42m, (decimal)standing["total"]!);
        Assert.Equal("deferred", standing["registration"]!.ToString());
        Assert.Contains(standing["reasons"]!.AsArray(), r => r!.ToString().Contains("appraisal"));
        var record = (await admin.GetFromJsonAsync<JsonObject>($"/api/corps/{school.CorpId}/training/teachers/{teacherId}"))!;
        Assert.Equal(2, record["credits"]!.AsArray().Count);

        // Another school's admin sees none of it.
        var other = Live.Sandbox.World.Schools.Skip(1).First();
        var otherAdmin = await AsAsync(other.CorpId, other.Users.Values.First(u => u.Admin).UserId);
        Assert.Equal(HttpStatusCode.Forbidden, (await otherAdmin.GetAsync($"/api/corps/{school.CorpId}/training/teachers")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await teacher.GetAsync($"/api/corps/{school.CorpId}/training/teachers")).StatusCode);
    }

    [Fact]
    public async Task ATeacherWhoMovesSchool_KeepsTheirCredits_OnceTheNewSchoolLinksTheFormerAccount()
    {
        var world = Live.Sandbox.World;
        var (from, to) = (world.Schools.Skip(1).First(), world.Schools.Skip(2).First());
        var teacher = from.Users.Values.First(u => !u.Admin && u.UnionId.Length > 0);
        var fromAdmin = await AsAsync(from.CorpId, from.Users.Values.First(u => u.Admin).UserId);
        Assert.Equal(HttpStatusCode.Created, (await fromAdmin.PostAsJsonAsync($"/api/corps/{from.CorpId}/training/credits", new
        {
            userId = teacher.UserId, title = "校本研修：大单元教学", organiser = from.Name, earnedOn = new DateOnly(2024, 6, 30), kind = "regular",
            source = "school-based", domain = 4, level = "intermediate", credits = 36,
        })).StatusCode);

        // The teacher leaves one school and joins another: a new account there, the same person.
        Live.Sandbox.Mutate.RemoveUser(from.CorpId, teacher.UserId);
        var joined = Live.Sandbox.Mutate.AddUser(to.CorpId, teacher.Name, [to.Departments.Keys.First(d => d != 1)], "教师",
            world.PersonOf(from.CorpId, teacher.UnionId));
        Assert.Null(await Live.WaitUntilMirroredAsync(TimeSpan.FromSeconds(60)));
        var moved = await AsAsync(to.CorpId, joined.UserId);
        Assert.Equal(0m, (decimal)(await moved.GetFromJsonAsync<JsonObject>("/api/me/training"))!["compliance"]!["total"]!);

        var toAdmin = await AsAsync(to.CorpId, to.Users.Values.First(u => u.Admin).UserId);
        Assert.Equal(HttpStatusCode.Created, (await toAdmin.PostAsJsonAsync($"/api/corps/{to.CorpId}/person-links",
            new { userId = joined.UserId, otherCorpId = from.CorpId, otherUserId = teacher.UserId, evidence = "人事调动通知（海教人〔2026〕12号）" })).StatusCode);
        var mine = (await moved.GetFromJsonAsync<JsonObject>("/api/me/training"))!;
        Assert.Equal(36m, (decimal)mine["compliance"]!["total"]!);
        Assert.Equal(36m, (decimal)(await toAdmin.GetFromJsonAsync<JsonArray>($"/api/corps/{to.CorpId}/training/teachers"))!
            .Single(t => t!["userId"]!.ToString() == joined.UserId)!["total"]!);
    }

    [Fact]
    public async Task EvidenceFile_PdfPngOrJpegWithinTheLimit_ForTheClaimUnderReview_SeenByTheTeacherAndTheSchool()
    {
        var school = Live.Sandbox.World.Schools.First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var teachers = TwoTeachersOfTheirOwn(school, 0);
        var teacher = await AsAsync(school.CorpId, teachers[0]);
        var colleague = await AsAsync(school.CorpId, teachers[1]);
        var claimed = await teacher.PostAsJsonAsync("/api/me/training/claims", new
        {
            corpId = school.CorpId, title = "心理健康教育C证培训", organiser = "浙江省教育厅", earnedOn = new DateOnly(2025, 4, 1), kind = "regular",
            source = "city", domain = 7, level = "basic", credits = 16,
        });
        var claim = (await claimed.Content.ReadFromJsonAsync<JsonObject>())!;
        var id = (long)claim["credit"]!["id"]!;
        static MultipartFormDataContent File(byte[] bytes, string name) => new() { { new ByteArrayContent(bytes), "file", name } };
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4 };

        // Recognised by its bytes, not its name; within the limit; only by the claim's teacher.
        Assert.Equal(HttpStatusCode.UnsupportedMediaType,
            (await teacher.PutAsync($"/api/me/training/claims/{id}/evidence", File("not a certificate"u8.ToArray(), "cert.pdf"))).StatusCode);
        var tooLarge = new byte[(5 * 1024 * 1024) + 1];
        "%PDF-"u8.CopyTo(tooLarge);
        Assert.Equal(HttpStatusCode.BadRequest, (await teacher.PutAsync($"/api/me/training/claims/{id}/evidence", File(tooLarge, "big.pdf"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await colleague.PutAsync($"/api/me/training/claims/{id}/evidence", File(png, "x.png"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await teacher.PutAsync($"/api/me/training/claims/{id}/evidence", File(png, "证书.png"))).StatusCode);

        foreach (var reader in new[] { teacher, admin })
        {
            var file = await reader.GetAsync($"/api/training/claims/{id}/evidence");
            Assert.Equal("image/png", file.Content.Headers.ContentType!.MediaType);
            Assert.Equal(png, await file.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await colleague.GetAsync($"/api/training/claims/{id}/evidence")).StatusCode);
        var guardian = await AsAsync(school.CorpId, school.Classes.Values.First(c => c.Relations.Count > 0).Relations[0].GuardianUserId);
        Assert.Equal(HttpStatusCode.Forbidden, (await guardian.GetAsync($"/api/training/claims/{id}/evidence")).StatusCode);

        // Decided: the evidence no longer changes.
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/approvals/{(long)claim["approvalRequestId"]!}/approve",
            new { comment = "证书属实" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await teacher.PutAsync($"/api/me/training/claims/{id}/evidence", File(png, "again.png"))).StatusCode);
    }

    [Fact]
    public async Task NonVettedInstitution_CountsOnlyWithThePriorApprovalOfTheSchool_NamedByOneClaim()
    {
        var school = Live.Sandbox.World.Schools.First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var teachers = TwoTeachersOfTheirOwn(school, 1);
        var teacher = await AsAsync(school.CorpId, teachers[0]);
        var colleague = await AsAsync(school.CorpId, teachers[1]);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeBySystemTimeZoneId(DateTime.UtcNow, "Asia/Shanghai"));
        object Claim(long? priorApprovalId) => new
        {
            corpId = school.CorpId, title = "STEAM 课程设计工作坊", organiser = "杭州某教育科技有限公司", earnedOn = today, kind = "regular",
            source = "non-vetted", domain = 2, level = "basic", credits = 8, priorApprovalId,
        };

        var without = await teacher.PostAsJsonAsync("/api/me/training/claims", Claim(null));
        Assert.Equal(HttpStatusCode.BadRequest, without.StatusCode);
        Assert.True((await without.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().ContainsKey("priorApprovalId"));

        // Asked beforehand: a start date in the past is refused.
        var late = await teacher.PostAsJsonAsync("/api/me/training/prior-approvals",
            new { corpId = school.CorpId, title = "STEAM 课程设计工作坊", organiser = "杭州某教育科技有限公司", startsOn = today.AddDays(-1) });
        Assert.Equal(HttpStatusCode.BadRequest, late.StatusCode);
        Assert.True((await late.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().ContainsKey("startsOn"));
        var asked = await teacher.PostAsJsonAsync("/api/me/training/prior-approvals",
            new { corpId = school.CorpId, title = "STEAM 课程设计工作坊", organiser = "杭州某教育科技有限公司", startsOn = today });
        Assert.Equal(HttpStatusCode.Created, asked.StatusCode);
        var prior = (await asked.Content.ReadFromJsonAsync<JsonObject>())!;
        var priorId = (long)prior["priorApproval"]!["id"]!;
        Assert.Equal("pending", prior["priorApproval"]!["status"]!.ToString());

        // Still pending: not yet a basis for a claim.
        Assert.Equal(HttpStatusCode.BadRequest, (await teacher.PostAsJsonAsync("/api/me/training/claims", Claim(priorId))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await teacher.PostAsJsonAsync($"/api/approvals/{(long)prior["approvalRequestId"]!}/approve",
            new { comment = "自己批准" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/approvals/{(long)prior["approvalRequestId"]!}/approve",
            new { comment = "同意参加" })).StatusCode);

        // Someone else's approval does not count for a colleague.
        Assert.Equal(HttpStatusCode.BadRequest, (await colleague.PostAsJsonAsync("/api/me/training/claims", Claim(priorId))).StatusCode);
        var claimed = await teacher.PostAsJsonAsync("/api/me/training/claims", Claim(priorId));
        Assert.Equal(HttpStatusCode.Created, claimed.StatusCode);
        Assert.Equal("pending", (await claimed.Content.ReadFromJsonAsync<JsonObject>())!["credit"]!["status"]!.ToString());
        // One training, one claim.
        Assert.Equal(HttpStatusCode.Conflict, (await teacher.PostAsJsonAsync("/api/me/training/claims", Claim(priorId))).StatusCode);
    }
}
