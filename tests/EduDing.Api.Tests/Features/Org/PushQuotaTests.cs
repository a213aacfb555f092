using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Features.Org;

/// <summary>
/// A school spends its month's event pushes at term start (家校 changes count, 通讯录 ones do not): DingTalk stops its
/// Stream with 20001. The service notices, goes reconcile-only for that corp, and the mirror equals the sandbox again
/// by the next reconcile; the other corps keep receiving events; operators see the state.
/// </summary>
public sealed class PushQuotaTests
{
    [Fact]
    public async Task PushQuotaRunsOutAtTermStart_TheCorpIsReconciledInstead_NothingIsLost_OperatorsSeeIt()
    {
        var sandbox = LiveOrg.DefaultSandboxOptions();
        sandbox.MonthlyPushQuota = 40;
        await using var live = await LiveOrg.StartAsync(EventDelivery.Stream, sandbox, new Dictionary<string, string>
        {
            ["OrgSync:ReconcileOnlyInterval"] = "00:00:02",
            ["OrgSync:StreamMaxReconnectDelay"] = "00:00:00.500",
        });
        await live.WaitForInitialSyncAsync();
        var school = live.Sandbox.World.Schools.First();
        var other = live.Sandbox.World.Schools.Skip(1).First();

        // Term start: 60 pupils join, each a counted 家校 event; the quota is 40.
        foreach (var i in Enumerable.Range(0, 60))
        {
            live.Sandbox.Mutate.AddStudent(school.CorpId, school.Classes.Keys.ElementAt(i % school.Classes.Count), $"新生{i}", withUnionId: false);
        }

        using var ops = live.Client(TestTokens.SystemAdmin());
        async Task<JsonNode> CorpAsync(string corpId) =>
            (await ops.GetFromJsonAsync<JsonArray>("/api/org/corps"))!.Single(c => c!["corpId"]!.ToString() == corpId)!;
        var until = DateTime.UtcNow.AddSeconds(120);
        while ((await CorpAsync(school.CorpId))["delivery"]!.ToString() != "reconcile-only" && DateTime.UtcNow < until)
        {
            await Task.Delay(200);
        }

        // Another school's events still arrive while the first one is reconcile-only.
        live.Sandbox.Mutate.AddStudent(other.CorpId, other.Classes.Keys.First(), "转学生", withUnionId: false);
        var difference = await live.WaitUntilMirroredAsync(TimeSpan.FromSeconds(120));

        var state = await CorpAsync(school.CorpId);
        Assert.True(live.Sandbox.Counters.Get("events.push_quota_dropped") > 0, "DingTalk dropped events once the quota ran out");
        Assert.Equal("reconcile-only", state["delivery"]!.ToString());
        Assert.Contains("20001", state["deliveryNote"]!.ToString());
        Assert.True((long)state["pushesThisMonth"]! >= 1);
        Assert.Equal("events", (await CorpAsync(other.CorpId))["delivery"]!.ToString());
        Assert.Null(difference);
    }
}
