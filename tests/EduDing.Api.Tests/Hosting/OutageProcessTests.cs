using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Tests.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk.Sandbox;

namespace EduDing.Api.Tests.Hosting;

/// <summary>
/// The real service process while DingTalk misbehaves: one corp that never answers from the start, then DingTalk as a
/// TCP black hole, then as a refusing host, then back. Sign-in answers 503 with Retry-After (never hangs), the callback
/// endpoint keeps answering, the healthy corps keep syncing, no run stays running, events that could not be applied
/// are parked and visible, and once DingTalk is back a replay brings the mirror level with the sandbox.
/// </summary>
public sealed class OutageProcessTests(SqliteTestDb db) : IClassFixture<SqliteTestDb>
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task DingTalkHangingOrRefusing_ServiceDegradesAndRecovers()
    {
        await using var server = await SandboxServer.StartAsync(new SandboxOptions { Preset = "demo", Seed = 31, QpsPerApi = 0 });
        var world = server.Sandbox.World;
        var healthy = world.Schools.First();
        var hanging = world.Schools.Last();
        server.Sandbox.Options.UnresponsiveCorps.Add(hanging.CorpId);
        await using var proxy = new FaultyTcpProxy(server.BaseUrl);
        await using var service = ServiceProcess.Start(Environment(server, proxy));
        Assert.True(await service.WaitUntilOkAsync("/readyz", TimeSpan.FromMinutes(1)), service.Output);
        foreach (var corp in world.Corps)
        {
            await server.Sandbox.RegisterCallbackAsync(corp.CorpId, new Uri(service.BaseAddress, $"/api/dingtalk/callback/{corp.CorpId}"),
                verify: false, default);
        }

        using var api = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var ops = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        ops.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.SystemAdmin());

        // One corp hangs from the start: every other corp completes its first sync, the hanging one's runs end as failed.
        await WaitAsync(async () => (await CorpsAsync(ops)).Where(c => c.Id != hanging.CorpId).All(c => c.Synced), "healthy corps synced", service);
        await WaitAsync(async () => (await RunsAsync(ops, hanging.CorpId)).Any(r => r.Status == SyncRunRepository.Failed), "hanging corp's run failed", service);
        Assert.Contains((await RunsAsync(ops, hanging.CorpId)).Where(r => r.Status == SyncRunRepository.Failed), r => r.Error!.Contains("did not answer"));
        var guardian = healthy.Classes.Values.First().Relations[0].GuardianUserId;
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(api, server, healthy.CorpId, guardian)).Status);
        await AssertUnavailableAsync(api, server, hanging.CorpId, hanging.Users.Values.First(u => u.Admin).UserId);

        // DingTalk accepts connections and never answers.
        proxy.Mode = FaultyTcpProxy.Behaviour.BlackHole;
        await AssertUnavailableAsync(api, server, healthy.CorpId, guardian);
        var leaver = healthy.Users.Values.First(u => !u.Admin);
        server.Sandbox.Mutate.RemoveUser(healthy.CorpId, leaver.UserId);
        server.Sandbox.Mutate.AddStudent(healthy.CorpId, healthy.Classes.Keys.First(), "停电日插班生", withUnionId: false);
        using (var garbage = new StringContent("not json", Encoding.UTF8, "text/plain"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsync($"/api/dingtalk/callback/{healthy.CorpId}?msg_signature=a&timestamp=1&nonce=n", garbage)).StatusCode);
        }

        await WaitAsync(async () => (await ParkedAsync(ops, healthy.CorpId)) >= 2, "events parked during the outage", service);

        // DingTalk refuses connections.
        proxy.Mode = FaultyTcpProxy.Behaviour.Refuse;
        await AssertUnavailableAsync(api, server, healthy.CorpId, guardian);
        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsync($"/api/org/corps/{healthy.CorpId}/sync", null)).StatusCode);
        await WaitAsync(async () => (await RunsAsync(ops, healthy.CorpId)).First().Status == SyncRunRepository.Failed, "requested run failed", service);

        // DingTalk is back: parked events replayed, the mirror equals the sandbox, nothing is left running but the hanging corp.
        proxy.Mode = FaultyTcpProxy.Behaviour.Forward;
        var replayed = await (await ops.PostAsync($"/api/org/corps/{healthy.CorpId}/events/replay", null)).Content.ReadFromJsonAsync<JsonObject>();
        Assert.True((int)replayed!["replayed"]! >= 2);
        var org = new OrgRepository(db.Database);
        await WaitAsync(async () => OrgSnapshot.FromSandbox(server.Sandbox, healthy).Difference(await OrgSnapshot.FromDatabaseAsync(org, healthy.CorpId)) is null,
            "mirror level with the sandbox after the replay", service);
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(api, server, healthy.CorpId, guardian)).Status);
        // Corps whose runs failed in the outage are retried within seconds (FailedSyncRetryDelay 1 s), so one may be
        // running right now; none may stay running once those retries have succeeded.
        await WaitAsync(async () => !(await RunsAsync(ops, null)).Any(r => r.Status == SyncRunRepository.Running && r.CorpId != hanging.CorpId),
            "no run left running but the hanging corp's", service);
    }

    private Dictionary<string, string> Environment(SandboxServer server, FaultyTcpProxy proxy)
    {
        var environment = new Dictionary<string, string>
        {
            ["Database__Provider"] = db.Provider.ToString(),
            ["Database__ConnectionString"] = db.ConnectionString,
            ["Auth__SigningKey"] = TestTokens.SigningKeyBase64,
            ["Encryption__MasterKeys__test1"] = TestTokens.MasterKeyBase64,
            ["DingTalk__Client__OapiBaseUrl"] = proxy.BaseUrl.ToString(),
            ["DingTalk__Client__ApiBaseUrl"] = proxy.BaseUrl.ToString(),
            ["DingTalk__Client__MaxCallsPerSecondPerApi"] = "1000",
            ["DingTalk__Client__RetryBaseDelay"] = "00:00:00.100",
            ["DingTalk__Client__RequestTimeout"] = "00:00:01",
            ["DingTalk__Client__CallDeadline"] = "00:00:03",
            ["Identity__SignInDeadline"] = "00:00:02",
            ["OrgSync__MonthlyCallBudget"] = "1000000",
            ["OrgSync__SchedulerInterval"] = "00:00:00.500",
            ["OrgSync__EventPollInterval"] = "00:00:00.200",
            ["OrgSync__FailedPushDrainInterval"] = "00:00:30",
            ["OrgSync__EventRetryDelay"] = "00:00:00.500",
            ["OrgSync__EventRetryMaxDelay"] = "00:00:01",
            ["OrgSync__MaxEventAttempts"] = "2",
            ["OrgSync__FailedSyncRetryDelay"] = "00:00:01",
            ["OrgSync__FailedSyncRetryMaxDelay"] = "00:00:02",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in OrgHarness.CorpEnvironmentFor(server.Sandbox, EventDelivery.Http))
        {
            environment[key] = value;
        }

        return environment;
    }

    private static async Task<(HttpStatusCode Status, HttpResponseMessage Response)> SignInAsync(HttpClient api, SandboxServer server,
        string corpId, string userId)
    {
        var response = await api.PostAsJsonAsync("/api/auth/dingtalk", new { corpId, authCode = server.Sandbox.World.IssueAuthCode(corpId, userId) });
        return (response.StatusCode, response);
    }

    /// <summary>503 with Retry-After and a problem detail, not a hang (the client's own 60 s timeout would fail the test).</summary>
    private static async Task AssertUnavailableAsync(HttpClient api, SandboxServer server, string corpId, string userId)
    {
        var stopwatch = Stopwatch.StartNew();
        var (status, response) = await SignInAsync(api, server, corpId, userId);
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{(int)status} after {stopwatch.Elapsed}: {await response.Content.ReadAsStringAsync()}");
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<IReadOnlyList<(string Id, bool Synced)>> CorpsAsync(HttpClient ops) =>
        (await ops.GetFromJsonAsync<JsonArray>("/api/org/corps"))!.Select(c => (c!["corpId"]!.ToString(), c["lastFullSyncAt"] is not null)).ToList();

    private static async Task<IReadOnlyList<(string CorpId, string Status, string? Error)>> RunsAsync(HttpClient ops, string? corpId) =>
        (await ops.GetFromJsonAsync<JsonObject>($"/api/org/sync-runs?pageSize=200{(corpId is null ? "" : "&corpId=" + corpId)}"))!["items"]!.AsArray()
        .Select(r => (r!["corpId"]!.ToString(), r["status"]!.ToString(), r["error"]?.ToString())).ToList();

    private static async Task<int> ParkedAsync(HttpClient ops, string corpId) =>
        (int)(await ops.GetFromJsonAsync<JsonObject>($"/api/org/events?status=parked&corpId={corpId}"))!["total"]!;

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, ServiceProcess service)
    {
        var until = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < until)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"Not reached within {Patience}: {what}.\n{service.Output}");
    }
}
