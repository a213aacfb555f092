using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EduDing.Api.Tests.Features.Org;

namespace EduDing.Api.Tests.Features.Identity;

/// <summary>Signing in through the sandbox's 免登 codes as each kind of person, and what the session allows.</summary>
public sealed class SignInTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private readonly LiveOrg _live = fixture.Live;

    private HttpClient Client(string? token = null) => _live.Client(token);

    private async Task<JsonObject> SignInAsync(string corpId, string userId)
    {
        var code = _live.Sandbox.World.IssueAuthCode(corpId, userId);
        var response = await Client().PostAsJsonAsync("/api/auth/dingtalk", new { corpId, authCode = code });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private async Task<JsonObject> MeAsync(JsonObject signedIn) =>
        (await Client(signedIn["accessToken"]!.ToString()).GetFromJsonAsync<JsonObject>("/api/me"))!;

    private static IEnumerable<string> Roles(JsonObject me) => me["roles"]!.AsArray().Select(r => $"{r!["role"]}@{r["corpId"]}");

    [Fact]
    public async Task Guardian_SeesExactlyTheirChildrenInEverySchool()
    {
        var world = _live.Sandbox.World;
        var school = world.Schools.First();
        var guardian = school.Classes.Values.SelectMany(r => r.Guardians).First();
        var expected = world.Schools.SelectMany(s => s.Classes.Values.SelectMany(r =>
                r.Relations.Where(x => r.Guardians.Any(g => g.UserId == x.GuardianUserId && g.UnionId == guardian.UnionId))
                    .Select(x => (s.CorpId, x.StudentUserId))))
            .Distinct().Order().ToList();

        var me = await MeAsync(await SignInAsync(school.CorpId, guardian.UserId));

        Assert.Contains($"guardian@{school.CorpId}", Roles(me));
        Assert.Equal(expected, me["children"]!.AsArray().Select(c => (c!["corpId"]!.ToString(), c["studentUserId"]!.ToString())).Distinct().Order());
        Assert.Empty(me["classesTaught"]!.AsArray());
    }

    [Fact]
    public async Task Adviser_IsTeacherAndAdviserOfTheirClass()
    {
        var school = _live.Sandbox.World.Schools.Skip(1).First();
        var (classId, adviser) = school.Classes.Select(c => (c.Key, c.Value.Teachers.First(t => t.IsAdviser))).First();

        var me = await MeAsync(await SignInAsync(school.CorpId, adviser.UserId));

        Assert.Superset(new[] { $"teacher@{school.CorpId}", $"adviser@{school.CorpId}", $"school-staff@{school.CorpId}" }.ToHashSet(),
            Roles(me).ToHashSet());
        Assert.Contains(me["classesTaught"]!.AsArray(), c => c!["classId"]!.GetValue<long>() == classId && c["isAdviser"]!.GetValue<bool>());
        Assert.DoesNotContain($"school-admin@{school.CorpId}", Roles(me));
    }

    [Fact]
    public async Task SchoolAdminAndBureauAdmin_GetTheirAdminRoles()
    {
        var world = _live.Sandbox.World;
        var school = world.Schools.Last();
        var schoolAdmin = school.Users.Values.First(u => u.Admin);
        var bureauAdmin = world.Bureau.Users.Values.First(u => u.Admin);

        var schoolMe = await MeAsync(await SignInAsync(school.CorpId, schoolAdmin.UserId));
        var bureauMe = await MeAsync(await SignInAsync(world.Bureau.CorpId, bureauAdmin.UserId));

        Assert.Contains($"school-admin@{school.CorpId}", Roles(schoolMe));
        Assert.Contains($"bureau-admin@{world.Bureau.CorpId}", Roles(bureauMe));
        Assert.Contains($"bureau-staff@{world.Bureau.CorpId}", Roles(bureauMe));
    }

    [Fact]
    public async Task ReusedCode_Is401WithDingTalksReason()
    {
        var school = _live.Sandbox.World.Schools.First();
        var user = school.Users.Keys.First();
        var code = _live.Sandbox.World.IssueAuthCode(school.CorpId, user);
        await Client().PostAsJsonAsync("/api/auth/dingtalk", new { corpId = school.CorpId, authCode = code });

        var again = await Client().PostAsJsonAsync("/api/auth/dingtalk", new { corpId = school.CorpId, authCode = code });

        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        Assert.Contains("40078", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PersonNotInTheSyncedOrg_Is403SayingWhy()
    {
        var school = _live.Sandbox.World.Schools.First();
        var student = school.Classes.Values.First().Students[0].UserId;
        var code = _live.Sandbox.World.IssueAuthCode(school.CorpId, student);

        var response = await Client().PostAsJsonAsync("/api/auth/dingtalk", new { corpId = school.CorpId, authCode = code });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("not in the synced organization", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("{}", "corpId")]
    [InlineData("{\"corpId\":\"x\"}", "authCode")]
    [InlineData("{\"corpId\":\"no-such-corp\",\"authCode\":\"abc\"}", "corpId")]
    [InlineData("{\"corpId\": 42, \"authCode\": \"abc\"}", "$.corpId")]
    [InlineData("{\"corpId\": \"x\", ", "$")]
    public async Task BadSignInRequest_Is400NamingTheField(string body, string field)
    {
        var response = await Client().PostAsync("/api/auth/dingtalk", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(problem!["errors"]!.AsObject().Any(e => e.Key == field || e.Key.StartsWith(field, StringComparison.Ordinal)),
            problem.ToJsonString());
    }

    [Theory]
    [InlineData("{}", HttpStatusCode.BadRequest)]
    [InlineData("{\"refreshToken\": \"no-dot-here\"}", HttpStatusCode.Unauthorized)]
    [InlineData("{\"refreshToken\": \"unknown-session.secret\"}", HttpStatusCode.Unauthorized)]
    public async Task BadRefreshRequest_Is400Or401(string body, HttpStatusCode expected)
    {
        var response = await Client().PostAsync("/api/auth/refresh", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Refresh_RotatesTheSecret_AndAReusedOneEndsTheSession()
    {
        var school = _live.Sandbox.World.Schools.First();
        var first = await SignInAsync(school.CorpId, school.Users.Keys.Skip(3).First());
        var oldRefresh = first["refreshToken"]!.ToString();

        var refreshed = await Client().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = oldRefresh });
        var newRefresh = (await refreshed.Content.ReadFromJsonAsync<JsonObject>())!["refreshToken"]!.ToString();
        var reused = await Client().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = oldRefresh });
        var afterTheft = await Client().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = newRefresh });

        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        Assert.NotEqual(oldRefresh, newRefresh);
        Assert.Equal(HttpStatusCode.Unauthorized, reused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, afterTheft.StatusCode);
    }

    [Fact]
    public async Task SignOut_EndsTheSession()
    {
        var school = _live.Sandbox.World.Schools.Skip(2).First();
        var signedIn = await SignInAsync(school.CorpId, school.Users.Keys.First());

        var signOut = await Client(signedIn["accessToken"]!.ToString()).PostAsync("/api/auth/sign-out", null);
        var refresh = await Client().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = signedIn["refreshToken"]!.ToString() });

        Assert.Equal(HttpStatusCode.NoContent, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        // The access token, though not expired, ends with its session.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client(signedIn["accessToken"]!.ToString()).GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task Refresh_WithAWrongSecret_IsRefused_AndLeavesTheSessionAlone()
    {
        var school = _live.Sandbox.World.Schools.Skip(1).First();
        var signedIn = await SignInAsync(school.CorpId, school.Users.Keys.Skip(4).First());
        var sessionId = signedIn["refreshToken"]!.ToString().Split('.')[0];

        var forged = await Client().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = $"{sessionId}.not-the-secret" });
        var genuine = await Client().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = signedIn["refreshToken"]!.ToString() });

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
    }

    [Fact]
    public async Task AccessToken_DoesNotCarryThePersonsName()
    {
        var school = _live.Sandbox.World.Schools.First();
        var user = school.Users.Values.Skip(5).First();
        var signedIn = await SignInAsync(school.CorpId, user.UserId);

        var payload = signedIn["accessToken"]!.ToString().Split('.')[1];
        var json = Encoding.UTF8.GetString(Convert.FromBase64String(payload.Replace('-', '+').Replace('_', '/').PadRight((payload.Length + 3) / 4 * 4, '=')));

        Assert.DoesNotContain("\"name\"", json);
        Assert.DoesNotContain(user.Name, System.Text.RegularExpressions.Regex.Unescape(json));
    }

    [Fact]
    public async Task Me_WithoutToken_Is401()
    {
        var response = await Client().GetAsync("/api/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
