using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Tests.Features.Org;

namespace EduDing.Api.Tests.Features.Identity;

/// <summary>
/// Operators are configured people: staff of a configured DingTalk department, or of a configured unionid. They sign in
/// like everyone and reach the operator endpoints; nobody else does.
/// </summary>
public sealed class SystemAdminTests : IAsyncLifetime
{
    private LiveOrg _live = null!;
    private (string CorpId, string UserId) _byDepartment;
    private (string CorpId, string UserId) _byUnionId;
    private (string CorpId, string UserId) _bureauAdmin;

    public async ValueTask InitializeAsync()
    {
        _live = await LiveOrg.StartAsync(EventDelivery.Http, settingsOf: sandbox =>
        {
            var bureau = sandbox.World.Bureau;
            // A department of the bureau without any of its DingTalk admins.
            var (dept, member) = bureau.Departments.Keys
                .Select(d => (Dept: d, Members: bureau.Users.Values.Where(u => u.DeptIds.Contains(d)).ToList()))
                .Where(x => x.Members.Count > 0 && x.Members.All(m => !m.Admin)).Select(x => (x.Dept, x.Members[0])).First();
            _byDepartment = (bureau.CorpId, member.UserId);
            var teacher = sandbox.World.Schools.First().Users.Values.First(u => !u.Admin);
            _byUnionId = (sandbox.World.Schools.First().CorpId, teacher.UserId);
            _bureauAdmin = (bureau.CorpId, bureau.Users.Values.First(u => u.Admin).UserId);
            return new Dictionary<string, string>
            {
                ["Identity:SystemAdminDepartments:0"] = $"{bureau.CorpId}:{dept}",
                ["Identity:SystemAdminUnionIds:0"] = teacher.UnionId,
            };
        });
        await _live.WaitForInitialSyncAsync();
    }

    public ValueTask DisposeAsync() => _live.DisposeAsync();

    [Fact]
    public async Task ConfiguredDepartmentAndUnionId_AreOperators_OthersAreNot()
    {
        foreach (var (corpId, userId) in new[] { _byDepartment, _byUnionId })
        {
            var client = _live.Client(await _live.SignInAsync(corpId, userId));
            var me = (await client.GetFromJsonAsync<JsonObject>("/api/me"))!;
            Assert.Contains(me["roles"]!.AsArray(), r => r!["role"]!.ToString() == "system-admin");
            var runs = await client.GetAsync("/api/org/sync-runs");
            Assert.Equal(HttpStatusCode.OK, runs.StatusCode);
            Assert.NotEmpty((await runs.Content.ReadFromJsonAsync<JsonObject>())!["items"]!.AsArray());
        }

        // The bureau's DingTalk admin administers the bureau's use of EduDing, not the deployment.
        var admin = _live.Client(await _live.SignInAsync(_bureauAdmin.CorpId, _bureauAdmin.UserId));
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync("/api/org/sync-runs")).StatusCode);
    }
}
