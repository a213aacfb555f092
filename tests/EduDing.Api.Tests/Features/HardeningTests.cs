using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EduDing.Api.Tests.Features.Notices;
using EduDing.Api.Tests.Features.Org;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features;

/// <summary>Regressions for the defects acceptance testing found (issue 14), each as the caller met it.</summary>
public sealed class HardeningTests(NoticeFixture fixture) : IClassFixture<NoticeFixture>
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));

    private readonly LiveOrg _live = fixture.Live;

    private async Task<HttpClient> AsAsync(string corpId, string userId) => _live.Client(await _live.SignInAsync(corpId, userId));

    [Theory]
    [InlineData("text/plain", "hello")]
    [InlineData("application/x-www-form-urlencoded", "encrypt=abc")]
    [InlineData(null, "")]
    [InlineData("application/json", "[1,2]")]
    public async Task Callback_WithABodyThatIsNotThePushJson_Is400_AndStoresNothing(string? contentType, string body)
    {
        var corp = _live.Sandbox.World.Schools.First().CorpId;
        var before = await _live.Inbox.ListAsync(corp, null, 0, 1, default);
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null)
        {
            content.Headers.ContentType = new(contentType);
        }

        var response = await _live.Client().PostAsync($"/api/dingtalk/callback/{corp}?msg_signature=x&timestamp=1&nonce=n", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before.Total, (await _live.Inbox.ListAsync(corp, null, 0, 1, default)).Total);
    }

    [Theory]
    [InlineData("[1, 2, 3]")]
    [InlineData("\"just text\"")]
    [InlineData("{\"eventId\": \"e-1\"}")]
    [InlineData("{\"EventType\": \"  \"}")]
    [InlineData("not json at all")]
    public async Task Callback_VerifiedButNotAnEventObject_Is400_AndStoresNothing(string plaintext)
    {
        var corp = _live.Factory.Services.GetRequiredService<EduDing.Api.Features.DingTalk.CorpDirectory>().Get(_live.Sandbox.World.Schools.First().CorpId);
        var crypto = corp.Crypto();
        var (timestamp, nonce) = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(), EduDing.DingTalk.Callbacks.DingTalkCallbackCrypto.NewNonce());
        var encrypt = crypto.Encrypt(plaintext);
        var before = await _live.Inbox.ListAsync(corp.CorpId, null, 0, 1, default);

        var response = await _live.Client().PostAsJsonAsync(
            $"/api/dingtalk/callback/{corp.CorpId}?msg_signature={crypto.Sign(timestamp, nonce, encrypt)}&timestamp={timestamp}&nonce={nonce}",
            new { encrypt });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before.Total, (await _live.Inbox.ListAsync(corp.CorpId, null, 0, 1, default)).Total);
    }

    [Fact]
    public async Task Paging_PastTheEnd_IsAnEmptyPage_AndAnAbsurdPageIsRefused()
    {
        var school = _live.Sandbox.World.Schools.First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);

        var past = await admin.GetFromJsonAsync<JsonObject>("/api/audit?page=1000000&pageSize=200");
        var overflow = await admin.GetAsync("/api/audit?page=2147483647&pageSize=200");

        Assert.Empty(past!["items"]!.AsArray());
        Assert.Equal(HttpStatusCode.BadRequest, overflow.StatusCode);
        Assert.Contains("page", await overflow.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Notice_WithScriptAndJavascriptLinks_IsStoredAndServedSanitized_AndAnOversizedAudienceIs400()
    {
        var school = _live.Sandbox.World.Schools.First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var body = "通知<script>alert(1)</script> **重要** [点我](javascript:alert(1)) [官网](https://example.com) <img src=x onerror=alert(1)>";

        var created = await admin.PostAsJsonAsync("/api/notices", new
        {
            corpId = school.CorpId, title = "安全测试", body,
            audience = new[] { new { roles = new[] { "staff" } } }, sendAt = DateTime.UtcNow.AddDays(3),
        });
        var oversized = await admin.PostAsJsonAsync("/api/notices", new
        {
            corpId = school.CorpId, title = "太多", body = "x",
            audience = new[] { new { roles = new[] { "guardians" }, classIds = Enumerable.Range(1, 40_000).ToArray() } },
        });

        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var served = (await created.Content.ReadFromJsonAsync<JsonObject>())!["body"]!.ToString();
        Assert.DoesNotContain("<script", served);
        Assert.DoesNotContain("javascript:", served);
        Assert.DoesNotContain("onerror", served);
        Assert.Contains("[官网](https://example.com)", served);
        Assert.Contains("**重要**", served);
        Assert.Equal(HttpStatusCode.BadRequest, oversized.StatusCode);
        Assert.Contains("audience[0].classIds", await oversized.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ApprovingOrRejectingATeachersNotice_IsAudited()
    {
        var school = _live.Sandbox.World.Schools.Skip(1).First();
        var (classId, roster) = school.Classes.Skip(1).First();
        var adviser = await AsAsync(school.CorpId, roster.Teachers.First(t => t.IsAdviser).UserId);
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        async Task<long> ComposeAsync(string title) => (long)(await (await adviser.PostAsJsonAsync("/api/notices", new
        {
            corpId = school.CorpId, title, body = "内容", sendAt = DateTime.UtcNow.AddDays(2),
            audience = new[] { new { roles = new[] { "guardians" }, classIds = new[] { classId } } },
        })).Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var approved = await ComposeAsync("春游通知");
        var rejected = await ComposeAsync("错别字通知");

        (await admin.PostAsJsonAsync($"/api/notices/{approved}/approve", new { comment = "同意" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/api/notices/{rejected}/reject", new { comment = "请改错字" })).EnsureSuccessStatusCode();
        var audit = (await admin.GetFromJsonAsync<JsonObject>($"/api/audit?corpId={school.CorpId}&pageSize=200"))!["items"]!.AsArray();

        Assert.Contains(audit, e => e!["action"]!.ToString() == "approval.approve" && e["reason"]!.ToString().Contains($"notice {approved}"));
        Assert.Contains(audit, e => e!["action"]!.ToString() == "approval.reject" && e["reason"]!.ToString().Contains("请改错字"));
    }

    [Fact]
    public async Task SchoolAdmin_MayNotOpenTheBureausRounds_NorRescreenAnotherSchoolsRound()
    {
        var school = _live.Sandbox.World.Schools.Skip(1).First();
        var other = _live.Sandbox.World.Schools.Skip(2).First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var otherAdmin = await AsAsync(other.CorpId, other.Users.Values.First(u => u.Admin).UserId);
        var otherRound = await otherAdmin.PostAsJsonAsync("/api/vision/rounds",
            new { kind = "ad-hoc", schoolYear = 2026, opensOn = Today, closesOn = Today.AddDays(5), corpId = other.CorpId });
        var otherRoundId = (long)(await otherRound.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        var bureauKind = await admin.PostAsJsonAsync("/api/vision/rounds",
            new { kind = "winter-leave", schoolYear = 2026, opens = Today, opensOn = Today, closesOn = Today.AddDays(5), corpId = school.CorpId });
        var foreignRescreen = await admin.PostAsJsonAsync("/api/vision/rounds",
            new { kind = "rescreen", schoolYear = 2026, opensOn = Today, closesOn = Today.AddDays(5), corpId = school.CorpId, rescreenOf = otherRoundId });

        Assert.Equal(HttpStatusCode.Created, otherRound.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, bureauKind.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, foreignRescreen.StatusCode);
        Assert.Contains("rescreenOf", await foreignRescreen.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Records_TwiceForOneStudent_Is400_AndAGuardianLearnsNothingAboutUserIds()
    {
        var school = _live.Sandbox.World.Schools.Skip(3).First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var round = await admin.PostAsJsonAsync("/api/vision/rounds",
            new { kind = "ad-hoc", schoolYear = 2026, opensOn = Today.AddDays(-1), closesOn = Today.AddDays(5), corpId = school.CorpId });
        var roundId = (long)(await round.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var roster = school.Classes.Values.First();
        var student = roster.Students[0].UserId;
        object Record(string id) => new
        {
            studentUserId = id, sex = "male", birthDate = Today.AddYears(-9), screenedOn = Today, glasses = "none",
            ucvaRight = 5.0m, ucvaLeft = 5.0m, sphereRight = 0m, cylinderRight = 0m, sphereLeft = 0m, cylinderLeft = 0m,
        };

        var twice = await admin.PutAsJsonAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/records", new { records = new[] { Record(student), Record(student) } });
        var guardian = await AsAsync(school.CorpId, roster.Relations[0].GuardianUserId);
        var probeReal = await guardian.PutAsJsonAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/records", new { records = new[] { Record(student) } });
        var probeFake = await guardian.PutAsJsonAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/records", new { records = new[] { Record("nobody") } });
        using var notXlsx = new MultipartFormDataContent { { new ByteArrayContent("a,b\n1,2"u8.ToArray()), "file", "筛查.csv" } };
        var import = await admin.PostAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/imports", notXlsx);

        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.Contains("records[1].studentUserId", await twice.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, probeReal.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, probeFake.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, import.StatusCode);
    }

    [Fact]
    public async Task ReferralReminders_OnlyPublished_OncePerDay_ByAdvisersOrAdmins_AndUnpublishedReferralsAreNotTheGuardians()
    {
        var school = _live.Sandbox.World.Schools.Skip(4).First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var (classId, roster) = school.Classes.First();
        var advisers = school.Classes.Values.SelectMany(c => c.Teachers.Where(t => t.IsAdviser).Select(t => t.UserId)).ToHashSet();
        var subjectTeacher = await AsAsync(school.CorpId, school.Classes.Values.SelectMany(c => c.Teachers).First(t => !advisers.Contains(t.UserId)).UserId);
        var adviser = await AsAsync(school.CorpId, roster.Teachers.First(t => t.IsAdviser).UserId);
        var child = roster.Relations[0].StudentUserId;
        var guardian = await AsAsync(school.CorpId, roster.Relations[0].GuardianUserId);
        var roundId = await AdHocRoundAsync(admin, school.CorpId);
        (await admin.PutAsJsonAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/records", new { records = new[] { Myopic(child) } }))
            .EnsureSuccessStatusCode();
        var referral = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/vision/referrals?roundId={roundId}"))!.Single()!;
        var referralId = (long)referral["id"]!;

        // Not published: no reminder, and the guardian cannot act on (or see) the referral.
        var beforePublication = await RemindAsync(admin, school.CorpId, new { roundId });
        var acknowledgeEarly = await guardian.PostAsync($"/api/me/vision/referrals/{referralId}/acknowledge", null);
        (await admin.PostAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/publish", null)).EnsureSuccessStatusCode();
        var bySubjectTeacher = await subjectTeacher.PostAsJsonAsync($"/api/corps/{school.CorpId}/vision/referrals/remind", new { classId, roundId });
        var first = await RemindAsync(adviser, school.CorpId, new { classId, roundId });
        var second = await RemindAsync(admin, school.CorpId, new { roundId });

        Assert.Equal(0, beforePublication);
        Assert.Equal(HttpStatusCode.NotFound, acknowledgeEarly.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, bySubjectTeacher.StatusCode);
        Assert.True(first > 0);
        Assert.Equal(0, second);
    }

    [Fact]
    public async Task CorrectionAfterPublication_IsAudited_TheGuardianIsToldAndSeesWhatChanged_AndTheReferralReasonFollows()
    {
        var school = _live.Sandbox.World.Schools.Skip(3).First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var roster = school.Classes.Values.Skip(1).First();
        var child = roster.Relations[0].StudentUserId;
        var guardian = await AsAsync(school.CorpId, roster.Relations[0].GuardianUserId);
        var roundId = await AdHocRoundAsync(admin, school.CorpId);

        // Poor vision with no refraction: the parent is not told "no myopic change", but that refraction was not measured.
        (await admin.PutAsJsonAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/records", new { records = new[] { PoorVisionNoRefraction(child) } }))
            .EnsureSuccessStatusCode();
        (await admin.PostAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/publish", null)).EnsureSuccessStatusCode();
        var beforeView = await ResultOfRoundAsync(guardian, school.CorpId, child, roundId);
        var reasonBefore = await ReferralReasonAsync(admin, school.CorpId, roundId);

        (await admin.PutAsJsonAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/records", new { records = new[] { Myopic(child) } }))
            .EnsureSuccessStatusCode();
        var afterView = await ResultOfRoundAsync(guardian, school.CorpId, child, roundId);
        var reasonAfter = await ReferralReasonAsync(admin, school.CorpId, roundId);
        var audit = (await admin.GetFromJsonAsync<JsonObject>($"/api/audit?corpId={school.CorpId}&pageSize=200"))!["items"]!.AsArray();

        Assert.Contains("尚不能判断是否为近视", beforeView["words"]!["summary"]!.ToString());
        Assert.DoesNotContain("暂未发现近视性屈光改变", beforeView["words"]!["summary"]!.ToString());
        Assert.Empty(beforeView["corrections"]!.AsArray());
        Assert.Equal("poor-vision", reasonBefore);
        Assert.Equal("screening-myopia", reasonAfter);
        var correction = Assert.Single(afterView["corrections"]!.AsArray())!;
        Assert.Contains(correction["changes"]!.AsArray(), c => c!.ToString().StartsWith("等效球镜右眼", StringComparison.Ordinal));
        Assert.Contains(audit, e => e!["action"]!.ToString() == "vision.record.correct-after-publication");
        await using var connection = await _live.Factory.Services.GetRequiredService<EduDing.Api.Data.Database>().OpenConnectionAsync(default);
        Assert.Equal(1, await Dapper.SqlMapper.ExecuteScalarAsync<int>(connection,
            "SELECT COUNT(*) FROM notices WHERE category = 'vision-result-corrected' AND sender_corp_id = @corpId", new { corpId = school.CorpId }));
    }

    [Fact]
    public async Task BureauStatistics_WithholdGroupsOfFewerThanFiveChildren_TheSchoolSeesThem()
    {
        var school = _live.Sandbox.World.Schools.Skip(2).First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var bureau = await AsAsync(_live.Sandbox.World.Bureau.CorpId, _live.Sandbox.World.Bureau.Users.Values.First(u => u.Admin).UserId);
        var roundId = await AdHocRoundAsync(admin, school.CorpId);
        var children = school.Classes.Values.First().Students.Take(3).Select(s => Myopic(s.UserId)).ToArray();
        (await admin.PutAsJsonAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/records", new { records = children })).EnsureSuccessStatusCode();

        var asBureau = (await bureau.GetFromJsonAsync<JsonObject>($"/api/vision/rounds/{roundId}/statistics?by=class&corpId={school.CorpId}"))!;
        var asSchool = (await admin.GetFromJsonAsync<JsonObject>($"/api/vision/rounds/{roundId}/statistics?by=class&corpId={school.CorpId}"))!;

        var withheld = asBureau["rows"]!.AsArray().Single(r => r!["suppressed"]!.GetValue<bool>())!;
        Assert.Null(withheld["screened"]);
        Assert.Null(withheld["myopiaRate"]);
        Assert.True(asBureau["total"]!["suppressed"]!.GetValue<bool>());
        Assert.Equal(3, (int)asSchool["rows"]!.AsArray().Single(r => (int?)r!["screened"] > 0)!["screened"]!);
        Assert.Equal(100.00m, (decimal)asSchool["total"]!["myopiaRate"]!);
        var referrals = (await bureau.GetFromJsonAsync<JsonArray>($"/api/vision/referrals/summary?roundId={roundId}&corpId={school.CorpId}"))!;
        Assert.All(referrals, r => Assert.True(r!["suppressed"]!.GetValue<bool>() && r["referred"] is null));
    }

    private static async Task<long> AdHocRoundAsync(HttpClient admin, string corpId)
    {
        var round = await admin.PostAsJsonAsync("/api/vision/rounds",
            new { kind = "ad-hoc", schoolYear = 2026, opensOn = Today.AddDays(-1), closesOn = Today.AddDays(5), corpId });
        Assert.True(round.StatusCode == HttpStatusCode.Created, await round.Content.ReadAsStringAsync());
        return (long)(await round.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
    }

    private static object Myopic(string child) => new
    {
        studentUserId = child, sex = "female", birthDate = Today.AddYears(-9), screenedOn = Today, glasses = "none",
        ucvaRight = 4.6m, ucvaLeft = 4.6m, sphereRight = -2.00m, cylinderRight = 0m, sphereLeft = -2.00m, cylinderLeft = 0m,
    };

    private static object PoorVisionNoRefraction(string child) => new
    {
        studentUserId = child, sex = "female", birthDate = Today.AddYears(-9), screenedOn = Today, glasses = "none", ucvaRight = 4.6m, ucvaLeft = 4.6m,
    };

    private static async Task<int> RemindAsync(HttpClient client, string corpId, object request)
    {
        var response = await client.PostAsJsonAsync($"/api/corps/{corpId}/vision/referrals/remind", request);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (int)(await response.Content.ReadFromJsonAsync<JsonObject>())!["guardians"]!;
    }

    private static async Task<JsonNode> ResultOfRoundAsync(HttpClient guardian, string corpId, string child, long roundId) =>
        (await guardian.GetFromJsonAsync<JsonObject>($"/api/me/vision/{corpId}/{child}"))!["results"]!.AsArray()
        .Single(r => (long)r!["round"]!["id"]! == roundId)!;

    private static async Task<string> ReferralReasonAsync(HttpClient admin, string corpId, long roundId) =>
        (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{corpId}/vision/referrals?roundId={roundId}"))!.Single()!["reason"]!.ToString();
}
