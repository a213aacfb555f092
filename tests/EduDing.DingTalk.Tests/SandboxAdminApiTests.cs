using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.DingTalk.Models;
using EduDing.DingTalk.Tests.Infrastructure;

namespace EduDing.DingTalk.Tests;

/// <summary>The sandbox's /sandbox API over HTTP, as demos and the README use it.</summary>
public sealed class SandboxAdminApiTests(SandboxFixture fx) : IClassFixture<SandboxFixture>
{
    private HttpClient Http() => new() { BaseAddress = fx.Server.BaseUrl };

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Corps_ListEveryAppsCredentialsAndSampleUsers()
    {
        using var http = Http();

        var corps = await http.GetFromJsonAsync<JsonArray>("sandbox/corps");

        Assert.Equal(6, corps!.Count);
        var school = corps.First(c => c!["kind"]!.ToString() == "School")!;
        Assert.Equal(43, school["callbackAesKey"]!.ToString().Length);
        Assert.NotNull(school["sampleUsers"]!["adviser"]);
    }

    [Fact]
    public async Task AuthCode_FromTheApi_LogsTheUserInOnce()
    {
        using var http = Http();
        using var client = fx.NewClient();
        var corp = fx.School;
        var guardian = corp.Classes.Values.First().Guardians[0].UserId;

        var reply = await http.PostAsJsonAsync("sandbox/auth-codes", new { corpId = corp.CorpId, userId = guardian });
        var body = await reply.Content.ReadFromJsonAsync<JsonObject>();
        var info = await client.GetUserInfoAsync(corp.App, body!["authCode"]!.ToString(), default);

        Assert.Equal(guardian, info.UserId);
        Assert.Equal(300, body["expiresIn"]!.GetValue<int>());
    }

    [Fact]
    public async Task Mutations_OverHttp_ChangeWhatTheClientReads()
    {
        using var http = Http();
        using var client = fx.NewClient();
        var corp = fx.Sandbox.World.Schools.Skip(1).First();
        var classes = corp.Classes.Keys.Take(2).ToList();
        var student = corp.Classes[classes[0]].Students[0].UserId;

        var added = await http.PostAsJsonAsync($"sandbox/corps/{corp.CorpId}/users", new { name = "新来的老师", deptIds = new[] { 1L }, title = "教师" });
        var userId = (await added.Content.ReadFromJsonAsync<JsonObject>())!["userId"]!.ToString();
        var moved = await http.PostAsJsonAsync($"sandbox/corps/{corp.CorpId}/edu/students/{student}/move",
            new { fromClassId = classes[0], toClassId = classes[1] });
        var badMove = await http.PostAsJsonAsync($"sandbox/corps/{corp.CorpId}/edu/students/nobody/move",
            new { fromClassId = classes[0], toClassId = classes[1] });

        Assert.Equal(HttpStatusCode.NoContent, moved.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badMove.StatusCode);
        Assert.Contains(await client.ListUserIdsAsync(corp.App, 1, default), u => u == userId);
        Assert.Contains(await client.ListAllEduUsersAsync(corp.App, classes[1], EduRoles.Student, default), s => s.UserId == student);
        Assert.DoesNotContain(await client.ListAllEduUsersAsync(corp.App, classes[0], EduRoles.Student, default), s => s.UserId == student);
        Assert.Contains(await client.ListAllEduRelationsAsync(corp.App, classes[1], default), r => r.ToUserId == student);
    }

    [Fact]
    public async Task Graduate_OverHttp_RemovesTheClassAndItsPeople()
    {
        using var http = Http();
        using var client = fx.NewClient();
        var corp = fx.Sandbox.World.Schools.Skip(2).First();
        var classId = corp.Classes.Keys.Last();

        var reply = await http.PostAsync($"sandbox/corps/{corp.CorpId}/edu/classes/{classId}/graduate", null);
        var gone = await Assert.ThrowsAsync<DingTalkException>(() => client.GetEduDeptAsync(corp.App, classId, default));

        Assert.Equal(HttpStatusCode.NoContent, reply.StatusCode);
        Assert.Equal(60003, gone.ErrCode);
    }

    [Fact]
    public async Task Approval_DecidedOverHttp_EmitsTaskAndInstanceEvents()
    {
        using var http = Http();
        using var client = fx.NewClient();
        var corp = fx.Sandbox.World.Schools.Last();
        await using var receiver = await CallbackReceiver.StartAsync(corp);
        await http.PutAsJsonAsync($"sandbox/corps/{corp.CorpId}/callback", new { url = receiver.Url, verify = true });
        var admin = corp.Users.Values.First(u => u.Admin).UserId;
        var id = await client.CreateProcessInstanceAsync(corp.App, new CreateProcessInstanceRequest(
            corp.Users.Values.First(u => !u.Admin).UserId, "PROC-EDUDING-CREDIT", [new FormComponentValue("学分", "2")]), default);

        var approved = await http.PostAsJsonAsync($"sandbox/approvals/{id}/approve", new { userId = admin, remark = "同意" });
        await WaitUntilAsync(() => receiver.Received.Count(e => e["EventType"]!.ToString().StartsWith("bpms_")) >= 4);
        corp.CallbackUrl = null;

        Assert.Equal(HttpStatusCode.NoContent, approved.StatusCode);
        var bpms = receiver.Received.Where(e => e["processInstanceId"]?.ToString() == id)
            .Select(e => $"{e["EventType"]}:{e["type"]}:{e["result"]}").Order().ToList();
        Assert.Equal(["bpms_instance_change:finish:agree", "bpms_instance_change:start:", "bpms_task_change:finish:agree", "bpms_task_change:start:"], bpms);
    }

    [Fact]
    public async Task FaultsAndCounters_AreSetAndReadOverHttp()
    {
        using var http = Http();
        // The faults are random: 30 calls at 0.3 see at least one (all clean: 0.7^30 ≈ 2e-5) and none exhausts 12 retries
        // (0.3^13 ≈ 2e-7 a call); at 0.5 with 10 retries one CI run in about 200 failed.
        using var client = fx.NewClient(o => o.BusyRetries = 12);

        await http.PostAsJsonAsync("sandbox/faults", new { transientErrorRate = 0.3 });
        for (var i = 0; i < 30; i++)
        {
            await client.GetDepartmentAsync(fx.Bureau.App, 1, default);
        }

        await http.PostAsJsonAsync("sandbox/faults", new { transientErrorRate = 0.0 });
        var counters = await http.GetFromJsonAsync<JsonObject>("sandbox/counters");

        Assert.True(counters!["faults"]!["Transient"]!.GetValue<long>() > 0);
        Assert.True(counters["callsPerApi"]!["department/get"]!.GetValue<long>() >= 30);
        Assert.Equal(0, fx.Sandbox.Options.TransientErrorRate);
    }
}
