using EduDing.DingTalk.Models;
using EduDing.DingTalk.Tests.Infrastructure;

namespace EduDing.DingTalk.Tests;

/// <summary>Every error class of contract §10, as the sandbox produces it and the client must treat it.</summary>
public sealed class ClientErrorMappingTests(SandboxFixture fx) : IClassFixture<SandboxFixture>, IDisposable
{
    public void Dispose()
    {
        var o = fx.Sandbox.Options;
        o.QpsPerApi = 0;
        o.TransientErrorRate = 0;
        o.GlobalQpsErrorRate = 0;
        o.MonthlyQuota = null;
        fx.Sandbox.Limits.LiftIpBan();
        fx.Sandbox.Limits.ResetCounters();
    }

    [Fact]
    public async Task AppQpsLimit_Exceeded_IsRetriedSoNoCallerSeesIt()
    {
        fx.Sandbox.Options.QpsPerApi = 3;
        var log = new CallLog();
        using var client = fx.NewClient(o => o.AppQpsRetries = 20, log);

        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ =>
            client.ListSubDepartmentIdsAsync(fx.School.App, 1, default)));

        Assert.Equal(12, results.Length);
        Assert.True(log.Count(DingTalkApis.ListSubDepartmentIds, "90018") > 0, "the sandbox throttled some calls");
        Assert.Equal(12, log.Count(DingTalkApis.ListSubDepartmentIds, "ok"));
    }

    [Fact]
    public async Task AppQpsLimit_OnV1Api_IsQpsLimitForAppkeyAndApiAndRetried()
    {
        fx.Sandbox.Options.QpsPerApi = 2;
        var log = new CallLog();
        using var client = fx.NewClient(o => o.AppQpsRetries = 20, log);
        var corp = fx.School;
        var id = await client.CreateProcessInstanceAsync(corp.App, new CreateProcessInstanceRequest(corp.Users.Keys.First(),
            "PROC-EDUDING-NOTICE", [new FormComponentValue("标题", "春游通知")]), default);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.GetProcessInstanceAsync(corp.App, id, default)));

        Assert.True(log.Count(DingTalkApis.GetProcessInstance, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi") > 0);
        Assert.Equal(8, log.Count(DingTalkApis.GetProcessInstance, "ok"));
    }

    [Fact]
    public async Task TransientErrors_AreRetriedWithinBounds()
    {
        fx.Sandbox.Options.TransientErrorRate = 0.3;
        var log = new CallLog();
        using var client = fx.NewClient(o => o.BusyRetries = 8, log);

        for (var i = 0; i < 20; i++)
        {
            await client.ListSubDepartmentIdsAsync(fx.School.App, 1, default);
        }

        Assert.True(log.Count(DingTalkApis.ListSubDepartmentIds, "-1") > 0);
        Assert.Equal(20, log.Count(DingTalkApis.ListSubDepartmentIds, "ok"));
    }

    [Fact]
    public async Task TransientErrors_BeyondTheRetryBudget_ReachTheCallerAsBusy()
    {
        fx.Sandbox.Options.TransientErrorRate = 1;
        var log = new CallLog();
        using var client = fx.NewClient(o => o.BusyRetries = 2, log);

        var error = await Assert.ThrowsAsync<DingTalkException>(() => client.ListSubDepartmentIdsAsync(fx.School.App, 1, default));

        Assert.Equal(-1, error.ErrCode);
        Assert.Equal(3, log.Count(DingTalkApis.ListSubDepartmentIds));
    }

    [Fact]
    public async Task GlobalQpsLimit_IsBackedOffAndRetried()
    {
        fx.Sandbox.Options.GlobalQpsErrorRate = 0.3;
        var log = new CallLog();
        using var client = fx.NewClient(o => o.GlobalQpsRetries = 12, log);

        // 40 calls at a 30% error rate: no 90002 at all has a chance of 0.7^40 (6e-7); a call refused 13 times running, 0.3^13 each.
        for (var i = 0; i < 40; i++)
        {
            await client.GetDepartmentAsync(fx.School.App, 1, default);
        }

        Assert.True(log.Count(DingTalkApis.GetDepartment, "90002") > 0);
        Assert.Equal(40, log.Count(DingTalkApis.GetDepartment, "ok"));
    }

    [Fact]
    public async Task MonthlyQuota_Exhausted_Is90020AndNeverRetried()
    {
        fx.Sandbox.Options.MonthlyQuota = 3;
        var log = new CallLog();
        using var client = fx.NewClient(log: log);
        var corp = fx.Sandbox.World.Schools.Last();
        var classId = corp.Classes.Keys.First();
        for (var i = 0; i < 3; i++)
        {
            await client.GetEduDeptAsync(corp.App, classId, default);
        }

        var error = await Assert.ThrowsAsync<DingTalkException>(() => client.GetEduDeptAsync(corp.App, classId, default));
        var exemptStillWorks = await client.ListSubDepartmentIdsAsync(corp.App, 1, default);

        Assert.Equal(90020, error.ErrCode);
        Assert.Equal(1, log.Count(DingTalkApis.EduGetDept, "90020"));
        Assert.NotEmpty(exemptStillWorks);
    }

    [Fact]
    public async Task IpBan_BothReplyShapes_PauseEveryCallForTheWindow()
    {
        var log = new CallLog();
        using var first = fx.NewClient(o => o.IpBanPause = TimeSpan.FromMinutes(5), log);
        using var second = fx.NewClient(o => o.IpBanPause = TimeSpan.FromMinutes(5), log);
        await first.ListSubDepartmentIdsAsync(fx.School.App, 1, default);
        await second.ListSubDepartmentIdsAsync(fx.School.App, 1, default);
        fx.Sandbox.Limits.BanIpNow();

        // The sandbox alternates the HTML page and the status 1111 JSON; each client sees one of them.
        var htmlOrJson1 = await Assert.ThrowsAsync<DingTalkIpBannedException>(() => first.ListSubDepartmentIdsAsync(fx.School.App, 1, default));
        var htmlOrJson2 = await Assert.ThrowsAsync<DingTalkIpBannedException>(() => second.ListSubDepartmentIdsAsync(fx.School.App, 1, default));
        var callsBefore = log.Calls.Count;
        var paused = await Assert.ThrowsAsync<DingTalkIpBannedException>(() => first.GetDepartmentAsync(fx.School.App, 1, default));

        Assert.Equal(2, log.Count(DingTalkApis.ListSubDepartmentIds, "IpBanned"));
        Assert.Equal(callsBefore, log.Calls.Count);
        Assert.NotNull(first.IpBannedUntil);
        Assert.True(htmlOrJson1.PausedUntil > DateTimeOffset.UtcNow.AddMinutes(4));
        Assert.NotNull(htmlOrJson2.Message);
        Assert.Equal("IpBanned", paused.Code);
    }

    [Fact]
    public async Task ExpiredToken_OnV1Api_IsInvalidAuthenticationThenRefreshedAndRetried()
    {
        var log = new CallLog();
        using var client = fx.NewClient(log: log);
        var corp = fx.School;
        var id = await client.CreateProcessInstanceAsync(corp.App, new CreateProcessInstanceRequest(corp.Users.Keys.First(),
            "PROC-EDUDING-NOTICE", [new FormComponentValue("标题", "家长会")]), default);
        fx.Sandbox.World.ExpireAllTokens();

        var instance = await client.GetProcessInstanceAsync(corp.App, id, default);

        Assert.Equal("RUNNING", instance.Status);
        Assert.Equal(1, log.Count(DingTalkApis.GetProcessInstance, "InvalidAuthentication"));
    }

    [Fact]
    public async Task Sandbox_AcceptsNumbersAsStrings_AsDingTalkDoes()
    {
        using var http = new HttpClient { BaseAddress = fx.Server.BaseUrl };
        using var client = fx.NewClient();
        await client.ListSubDepartmentIdsAsync(fx.School.App, 1, default);
        var (token, _) = fx.Sandbox.World.IssueToken(fx.School);

        var reply = await http.PostAsync($"topapi/v2/department/listsubid?access_token={token}",
            new StringContent("""{"dept_id":"1"}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Contains("\"errcode\":0", await reply.Content.ReadAsStringAsync());
    }
}
