using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Tests.Features.Org;
using EduDing.DingTalk.Sandbox.Model;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Identity;

/// <summary>The sandbox as one developer account for every corp (one unionId per person everywhere).</summary>
public sealed class SharedAccountLiveOrgFixture : IAsyncLifetime
{
    internal LiveOrg Live { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var options = LiveOrg.DefaultSandboxOptions();
        options.SharedDeveloperAccount = true;
        Live = await LiveOrg.StartAsync(Api.Features.DingTalk.EventDelivery.Http, options);
        await Live.WaitForInitialSyncAsync();
    }

    public ValueTask DisposeAsync() => Live.DisposeAsync();
}

/// <summary>
/// One person across school corps, written once and run with the sandbox in both modes: each school its own developer
/// account (a different unionId per school: linked only by an explicit act) and one shared account (one unionId).
/// </summary>
public abstract class CrossCorpIdentityTests
{
    private readonly LiveOrg live;

    private protected CrossCorpIdentityTests(LiveOrg live) => this.live = live;

    protected abstract bool SharedUnionIds { get; }

    /// <summary>A guardian with children in two schools: the person's account in each.</summary>
    private ((SandboxCorp Corp, string UserId) A, (SandboxCorp Corp, string UserId) B) GuardianInTwoSchools()
    {
        var world = live.Sandbox.World;
        var accounts = world.Schools.SelectMany(s => s.Classes.Values.SelectMany(r => r.Guardians)
                .Where(g => g.UnionId.Length > 0).Select(g => (Corp: s, g.UserId, Person: world.PersonOf(s.CorpId, g.UnionId))))
            .DistinctBy(a => (a.Corp.CorpId, a.UserId)).ToList();
        var person = accounts.GroupBy(a => a.Person).First(g => g.Select(a => a.Corp.CorpId).Distinct().Count() >= 2).ToList();
        var a = person.First();
        var b = person.First(x => x.Corp.CorpId != a.Corp.CorpId);
        return ((a.Corp, a.UserId), (b.Corp, b.UserId));
    }

    private static List<(string, string)> ChildrenOf(SandboxCorp corp, string guardianUserId) =>
        corp.Classes.Values.SelectMany(r => r.Relations.Where(x => x.GuardianUserId == guardianUserId).Select(x => (corp.CorpId, x.StudentUserId)))
            .Distinct().ToList();

    private static async Task<List<(string, string)>> MyChildrenAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonObject>("/api/me"))!["children"]!.AsArray()
        .Select(c => (c!["corpId"]!.ToString(), c["studentUserId"]!.ToString())).Distinct().Order().ToList();

    [Fact]
    public async Task GuardianInTwoSchools_SeesBothOnlyWhenTheSamePerson_LinkByTwoCodes_UnlinkAtOnce_Audited()
    {
        var (a, b) = GuardianInTwoSchools();
        var client = live.Client(await live.SignInAsync(a.Corp.CorpId, a.UserId));
        var one = ChildrenOf(a.Corp, a.UserId);
        var both = one.Concat(ChildrenOf(b.Corp, b.UserId)).Distinct().Order().ToList();

        var before = await MyChildrenAsync(client);
        var link = await client.PostAsJsonAsync("/api/me/links", new { corpId = b.Corp.CorpId, authCode = live.Sandbox.World.IssueAuthCode(b.Corp.CorpId, b.UserId) });

        if (SharedUnionIds)
        {
            // One developer account: the same unionId is the same person already; there is nothing to link.
            Assert.Equal(both, before);
            Assert.Equal(HttpStatusCode.Conflict, link.StatusCode);
            return;
        }

        Assert.Equal(one.Order().ToList(), before);
        Assert.Equal(HttpStatusCode.Created, link.StatusCode);
        var linkId = (long)(await link.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var linked = await MyChildrenAsync(client);
        var unlink = await client.DeleteAsync($"/api/me/links/{linkId}");
        var after = await MyChildrenAsync(client);

        Assert.Equal(both, linked);
        Assert.Equal(HttpStatusCode.NoContent, unlink.StatusCode);
        Assert.Equal(one.Order().ToList(), after);
        var actions = await AuditActionsAsync();
        Assert.Contains(actions, x => x.Action == "person.link" && x.Reason.Contains($"link #{linkId}"));
        Assert.Contains(actions, x => x.Action == "person.unlink" && x.Reason.Contains($"link #{linkId}"));
    }

    [Fact]
    public async Task NamesakeInAnotherSchool_IsNeverTheSamePerson()
    {
        var world = live.Sandbox.World;
        var (home, elsewhere) = (world.Schools.Skip(4).First(), world.Schools.Skip(1).First());
        var (classId, roster) = home.Classes.First();
        var guardian = roster.Guardians.First(g => g.UnionId.Length > 0);
        var otherClass = elsewhere.Classes.Keys.Last();
        live.Sandbox.Mutate.AddGuardian(elsewhere.CorpId, otherClass, elsewhere.Classes[otherClass].Students[0].UserId, guardian.Name, "F");
        Assert.Null(await live.WaitUntilMirroredAsync(TimeSpan.FromSeconds(60)));

        var children = await MyChildrenAsync(live.Client(await live.SignInAsync(home.CorpId, guardian.UserId)));

        Assert.DoesNotContain(children, c => c.Item1 == elsewhere.CorpId && c.Item2 == elsewhere.Classes[otherClass].Students[0].UserId);
    }

    [Fact]
    public async Task SchoolAdmin_LinksAfterChecking_WithEvidence_AndUnlinks_NobodyElseMay()
    {
        var (a, b) = GuardianInTwoSchools();
        var admin = live.Client(await live.SignInAsync(a.Corp.CorpId, a.Corp.Users.Values.First(u => u.Admin).UserId));
        var guardian = live.Client(await live.SignInAsync(a.Corp.CorpId, a.UserId));
        var request = new { userId = a.UserId, otherCorpId = b.Corp.CorpId, otherUserId = b.UserId, evidence = "家长到校出示两校的孩子学籍信息，班主任核对" };

        var byGuardian = await guardian.PostAsJsonAsync($"/api/corps/{a.Corp.CorpId}/person-links", request);
        var withoutEvidence = await admin.PostAsJsonAsync($"/api/corps/{a.Corp.CorpId}/person-links", request with { evidence = "" });
        var created = await admin.PostAsJsonAsync($"/api/corps/{a.Corp.CorpId}/person-links", request);
        var linkId = (long)(await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var linked = await MyChildrenAsync(guardian);
        var unlinked = await admin.DeleteAsync($"/api/corps/{a.Corp.CorpId}/person-links/{linkId}");
        var after = await MyChildrenAsync(guardian);

        Assert.Equal(HttpStatusCode.Forbidden, byGuardian.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, withoutEvidence.StatusCode);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var both = ChildrenOf(a.Corp, a.UserId).Concat(ChildrenOf(b.Corp, b.UserId)).Distinct().Order().ToList();
        Assert.Equal(both, linked);
        Assert.Equal(HttpStatusCode.NoContent, unlinked.StatusCode);
        Assert.Equal(SharedUnionIds ? both : ChildrenOf(a.Corp, a.UserId).Order().ToList(), after);
    }

    [Fact]
    public async Task TeacherWhoMovesSchool_KeepsTheirHistory_OnceTheNewSchoolLinksTheFormerAccount()
    {
        var world = live.Sandbox.World;
        var (from, to) = (world.Schools.Skip(2).First(), world.Schools.Skip(3).First());
        var teacher = from.Users.Values.First(u => !u.Admin && u.UnionId.Length > 0);
        var fromAdmin = live.Client(await live.SignInAsync(from.CorpId, from.Users.Values.First(u => u.Admin).UserId));
        var composed = await fromAdmin.PostAsJsonAsync("/api/notices", new
        {
            corpId = from.CorpId, title = "期末教研安排", body = "全体教师周三教研。", audience = new[] { new { roles = new[] { "staff" } } },
        });
        var noticeId = (long)(await composed.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        await WaitAsync(async () => (await fromAdmin.GetFromJsonAsync<JsonObject>($"/api/notices/{noticeId}"))!["notice"]!["status"]!.ToString() == "sent");

        // The teacher leaves one school and joins another: a new account there, the same person.
        live.Sandbox.Mutate.RemoveUser(from.CorpId, teacher.UserId);
        var joined = live.Sandbox.Mutate.AddUser(to.CorpId, teacher.Name, [to.Departments.Keys.First(d => d != 1)], "教师",
            world.PersonOf(from.CorpId, teacher.UnionId));
        Assert.Null(await live.WaitUntilMirroredAsync(TimeSpan.FromSeconds(60)));
        var moved = live.Client(await live.SignInAsync(to.CorpId, joined.UserId));
        var before = await MyNoticeIdsAsync(moved);

        var toAdmin = live.Client(await live.SignInAsync(to.CorpId, to.Users.Values.First(u => u.Admin).UserId));
        var link = await toAdmin.PostAsJsonAsync($"/api/corps/{to.CorpId}/person-links",
            new { userId = joined.UserId, otherCorpId = from.CorpId, otherUserId = teacher.UserId, evidence = "人事调动通知（海教人〔2026〕12号）" });
        var after = await MyNoticeIdsAsync(moved);

        Assert.DoesNotContain(noticeId, before);
        Assert.Equal(HttpStatusCode.Created, link.StatusCode);
        Assert.Contains(noticeId, after);
    }

    private static async Task<List<long>> MyNoticeIdsAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonObject>("/api/me/notices?pageSize=200"))!["items"]!.AsArray().Select(n => (long)n!["id"]!).ToList();

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "not reached in 90 s");
            await Task.Delay(100);
        }
    }

    private async Task<List<(string Action, string Reason)>> AuditActionsAsync()
    {
        await using var connection = await live.Factory.Services.GetRequiredService<EduDing.Api.Data.Database>().OpenConnectionAsync(default);
        return (await Dapper.SqlMapper.QueryAsync<(string, string)>(connection, "SELECT action, reason FROM audit_log")).ToList();
    }
}

public sealed class SeparateAccountsCrossCorpIdentityTests(LiveOrgFixture fixture)
    : CrossCorpIdentityTests(fixture.Live), IClassFixture<LiveOrgFixture>
{
    protected override bool SharedUnionIds => false;
}

public sealed class SharedAccountCrossCorpIdentityTests(SharedAccountLiveOrgFixture fixture)
    : CrossCorpIdentityTests(fixture.Live), IClassFixture<SharedAccountLiveOrgFixture>
{
    protected override bool SharedUnionIds => true;
}
