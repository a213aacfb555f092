using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk.Callbacks;

namespace EduDing.Api.Tests.Features.Org;

/// <summary>The org API and the DingTalk callback over HTTP, after the service's own initial reconcile.</summary>
public sealed class OrgApiTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private readonly LiveOrg _live = fixture.Live;

    private HttpClient Client(string? token = null) => _live.Client(token);

    [Fact]
    public async Task Corps_AsSystemAdmin_ListsEverySyncedCorp()
    {
        var corps = await Client(TestTokens.SystemAdmin()).GetFromJsonAsync<JsonArray>("/api/org/corps");

        Assert.Equal(_live.Sandbox.World.Corps.Count, corps!.Count);
        Assert.All(corps, c => Assert.NotNull(c!["lastFullSyncAt"]));

        // This month's metered calls against the budget: each school's 家校 reads are metered, the bureau's 通讯录 reads are not.
        Assert.All(corps, c => Assert.Equal(1_000_000, (long)c!["monthlyCallBudget"]!));
        Assert.All(corps.Where(c => c!["kind"]!.ToString() == "School"), c => Assert.True((long)c!["meteredCallsThisMonth"]! > 0, c!.ToJsonString()));
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("teacher", HttpStatusCode.Forbidden)]
    public async Task Corps_WithoutTheSystemAdminRole_IsRefused(string? role, HttpStatusCode expected)
    {
        var token = role is null ? null : TestTokens.Create(role: role);

        var response = await Client(token).GetAsync("/api/org/corps");

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Roster_ListsStudentsWithTheirGuardiansAndTheTeachers()
    {
        var corp = _live.Sandbox.World.Schools.First();
        var classId = corp.Classes.Keys.First();

        var roster = await Client(TestTokens.SystemAdmin()).GetFromJsonAsync<JsonObject>($"/api/org/corps/{corp.CorpId}/classes/{classId}/roster");

        var expected = corp.Classes[classId];
        Assert.Equal(expected.Students.Count, roster!["students"]!.AsArray().Count);
        Assert.Single(roster["teachers"]!.AsArray(), t => t!["isAdviser"]!.GetValue<bool>());
        var first = roster["students"]!.AsArray().First(s => s!["userId"]!.ToString() == expected.Relations[0].StudentUserId)!;
        Assert.Contains(first["guardians"]!.AsArray(), g => g!["userId"]!.ToString() == expected.Relations[0].GuardianUserId);
    }

    [Theory]
    [InlineData("/api/org/corps/no-such-corp/departments")]
    [InlineData("/api/org/corps/{school}/classes/42/roster")]
    [InlineData("/api/org/sync-runs/999999")]
    [InlineData("/api/org/persons/no-such-union-id")]
    public async Task UnknownIds_Are404Problems(string path)
    {
        var response = await Client(TestTokens.SystemAdmin()).GetAsync(path.Replace("{school}", _live.Sandbox.World.Schools.First().CorpId));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("pageSize=500", "pageSize")]
    [InlineData("page=0", "page")]
    [InlineData("pageSize=ten", "pageSize")]
    public async Task SyncRuns_BadPaging_Is400NamingTheField(string query, string field)
    {
        var response = await Client(TestTokens.SystemAdmin()).GetAsync($"/api/org/sync-runs?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SyncRuns_ArePagedNewestFirstWithCountsAndCalls()
    {
        var page = await Client(TestTokens.SystemAdmin()).GetFromJsonAsync<JsonObject>("/api/org/sync-runs?pageSize=2");

        Assert.Equal(2, page!["items"]!.AsArray().Count);
        Assert.True(page["total"]!.GetValue<int>() >= _live.Sandbox.World.Corps.Count);
        var run = page["items"]![0]!;
        Assert.Equal("succeeded", run["status"]!.ToString());
        Assert.True(run["calls"]!.AsObject().Count > 0);
    }

    [Fact]
    public async Task Person_GuardianInTwoSchools_IsFoundByEachSchoolsOwnUnionId()
    {
        // Each school its own developer account (the sandbox's default): one person, a different unionId in each school.
        var schools = _live.Sandbox.World.Schools.ToList();
        var guardian = schools[0].Classes.Values.First().Guardians[0];
        var other = schools[1];
        var classId = other.Classes.Keys.First();
        var person = _live.Sandbox.World.PersonOf(schools[0].CorpId, guardian.UnionId);
        var there = _live.Sandbox.Mutate.AddGuardian(other.CorpId, classId, other.Classes[classId].Students[0].UserId, guardian.Name, "M", person);
        Assert.Null(await _live.WaitUntilMirroredAsync(TimeSpan.FromSeconds(60)));

        async Task<HashSet<string>> GuardianCorpsAsync(string unionId) =>
            (await Client(TestTokens.SystemAdmin()).GetFromJsonAsync<JsonObject>($"/api/org/persons/{unionId}"))!["roles"]!.AsArray()
            .Where(r => r!["role"]!.ToString() == "guardian").Select(r => r!["corpId"]!.ToString()).ToHashSet();

        Assert.NotEqual(guardian.UnionId, there.UnionId);
        Assert.Equal([schools[0].CorpId], await GuardianCorpsAsync(guardian.UnionId));
        Assert.Equal([other.CorpId], await GuardianCorpsAsync(there.UnionId));
    }

    [Fact]
    public async Task RequestSync_Is202AndAWorkerRunsIt()
    {
        var corp = _live.Sandbox.World.Schools.Last();

        var response = await Client(TestTokens.SystemAdmin()).PostAsync($"/api/org/corps/{corp.CorpId}/sync", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var until = DateTime.UtcNow.AddSeconds(60);
        JsonArray runs;
        do
        {
            await Task.Delay(200);
            runs = (await Client(TestTokens.SystemAdmin()).GetFromJsonAsync<JsonObject>($"/api/org/sync-runs?corpId={corp.CorpId}"))!["items"]!.AsArray();
        }
        while (!runs.Any(r => r!["trigger"]!.ToString() == "requested" && r["status"]!.ToString() == "succeeded") && DateTime.UtcNow < until);

        Assert.Contains(runs, r => r!["trigger"]!.ToString() == "requested" && r["status"]!.ToString() == "succeeded");
    }

    [Fact]
    public async Task Callback_CheckUrl_IsAnsweredWithTheEncryptedSuccess()
    {
        var corp = _live.Sandbox.World.Schools.First();
        var crypto = new DingTalkCallbackCrypto(corp.CallbackToken, corp.CallbackAesKey, corp.AppKey);

        var response = await PostPushAsync(corp.CorpId, crypto, """{"EventType":"check_url"}""");
        var reply = await response.Content.ReadFromJsonAsync<EncryptedReply>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("success", crypto.Decrypt(reply!.MsgSignature, reply.TimeStamp, reply.Nonce, reply.Encrypt));
    }

    [Fact]
    public async Task Callback_SameEventTwice_IsStoredOnce()
    {
        var corp = _live.Sandbox.World.Schools.Skip(1).First();
        var crypto = new DingTalkCallbackCrypto(corp.CallbackToken, corp.CallbackAesKey, corp.AppKey);
        var payload = $$"""{"EventType":"user_modify_org","CorpId":"{{corp.CorpId}}","eventId":"evt-dup-1","userId":["{{corp.Users.Keys.First()}}"]}""";

        var first = await PostPushAsync(corp.CorpId, crypto, payload);
        var second = await PostPushAsync(corp.CorpId, crypto, payload);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.False(await _live.Inbox.TryAddAsync(corp.CorpId, "evt-dup-1", "user_modify_org", payload, "test", default));
    }

    [Fact]
    public async Task Callback_TamperedSignature_Is401AndNothingIsStored()
    {
        var corp = _live.Sandbox.World.Schools.First();
        var crypto = new DingTalkCallbackCrypto(corp.CallbackToken, corp.CallbackAesKey, corp.AppKey);
        var encrypt = crypto.Encrypt("""{"EventType":"user_add_org","eventId":"evt-forged"}""");

        var response = await Client().PostAsync($"/api/dingtalk/callback/{corp.CorpId}?msg_signature=0000&timestamp=1&nonce=abc",
            new StringContent(JsonSerializer.Serialize(new { encrypt }), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.True(await _live.Inbox.TryAddAsync(corp.CorpId, "evt-forged", "user_add_org", "{}", "test", default));
    }

    [Theory]
    [InlineData("{\"encrypt\": ")]
    [InlineData("[]")]
    [InlineData("")]
    public async Task Callback_MalformedBody_Is400(string body)
    {
        var corp = _live.Sandbox.World.Schools.First();

        var response = await Client().PostAsync($"/api/dingtalk/callback/{corp.CorpId}?signature=a&timestamp=1&nonce=b",
            new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Callback_UnknownCorp_Is404()
    {
        var response = await Client().PostAsync("/api/dingtalk/callback/ding-unknown?signature=a&timestamp=1&nonce=b",
            new StringContent("{\"encrypt\":\"x\"}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private Task<HttpResponseMessage> PostPushAsync(string corpId, DingTalkCallbackCrypto crypto, string payload)
    {
        var encrypt = crypto.Encrypt(payload);
        var signature = crypto.Sign("1700000000000", "n0nce", encrypt);
        return Client().PostAsync($"/api/dingtalk/callback/{corpId}?signature={signature}&msg_signature={signature}&timestamp=1700000000000&nonce=n0nce",
            new StringContent(JsonSerializer.Serialize(new { encrypt }), Encoding.UTF8, "application/json"));
    }
}
