using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Tests.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk.Sandbox;

namespace EduDing.Api.Tests.Features.Notices;

/// <summary>
/// The fan-out across real service processes over one database: killed mid-send and restarted, and two at once.
/// The sandbox runs in the test, so it outlives the processes and counts every message each person received.
/// </summary>
public abstract class NoticeProcessTests<TDb>(TDb db) where TDb : TestDb
{
    /// <summary>
    /// DingTalk's own limit, per app: each of the district's 12 schools sends its ~1,700 guardians in about 21 s, all
    /// schools at once, which leaves time for three kills. (Scaled up, the schools finish before a killed service is back.)
    /// </summary>
    private const int RecipientsPerMinute = 5_000;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    private Dictionary<string, string> Environment(SandboxServer server)
    {
        var environment = new Dictionary<string, string>
        {
            ["Database__Provider"] = db.Provider.ToString(),
            ["Database__ConnectionString"] = db.ConnectionString,
            ["Auth__SigningKey"] = TestTokens.SigningKeyBase64,
            ["Encryption__MasterKeys__test1"] = TestTokens.MasterKeyBase64,
            ["DingTalk__Client__OapiBaseUrl"] = server.BaseUrl.ToString(),
            ["DingTalk__Client__ApiBaseUrl"] = server.BaseUrl.ToString(),
            ["DingTalk__Client__MaxCallsPerSecondPerApi"] = "1000",
            ["DingTalk__Client__WorkNoticeRecipientsPerMinute"] = RecipientsPerMinute.ToString(),
            ["OrgSync__MonthlyCallBudget"] = "1000000",
            ["Notices__PollInterval"] = "00:00:00.100",
            ["Notices__ResultCheckDelay"] = "00:00:00.200",
            // A killed instance's claims are taken over after this; short, so the test need not wait minutes.
            ["Notices__ClaimTimeout"] = "00:00:05",
            // Queued a few batches at a time, so that a kill can fall between a notice's parts and the parts meet the sends.
            ["Notices__QueuePartSize"] = "300",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in OrgHarness.CorpEnvironmentFor(server.Sandbox, EventDelivery.Http))
        {
            environment[key] = value;
        }

        return environment;
    }

    private static async Task<SandboxServer> StartSandboxAsync() => await SandboxServer.StartAsync(new SandboxOptions
    {
        Preset = "district", Seed = 5, QpsPerApi = 0, RecipientsPerMinute = RecipientsPerMinute,
    });

    private static async Task<ServiceProcess> StartServiceAsync(Dictionary<string, string> environment)
    {
        var service = ServiceProcess.Start(environment);
        Assert.True(await service.WaitUntilOkAsync("/readyz", TimeSpan.FromMinutes(1)), service.Output);
        return service;
    }

    private static async Task WaitForOrgAsync(ServiceProcess service, SandboxServer server)
    {
        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.SystemAdmin());
        var until = DateTime.UtcNow + Deadline;
        while (DateTime.UtcNow < until)
        {
            var corps = (await client.GetFromJsonAsync<JsonArray>("/api/org/corps"))!;
            if (corps.Count == server.Sandbox.World.Corps.Count && corps.All(c => c!["lastFullSyncAt"] is not null))
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"The org was not synced in time.\n{service.Output}");
    }

    private static async Task<HttpClient> BureauAdminAsync(ServiceProcess service, SandboxServer server)
    {
        var bureau = server.Sandbox.World.Bureau;
        var client = new HttpClient { BaseAddress = service.BaseAddress };
        var signIn = await client.PostAsJsonAsync("/api/auth/dingtalk", new
        {
            corpId = bureau.CorpId,
            authCode = server.Sandbox.World.IssueAuthCode(bureau.CorpId, bureau.Users.Values.First(u => u.Admin).UserId),
        });
        Assert.True(signIn.IsSuccessStatusCode, service.Output);
        client.DefaultRequestHeaders.Authorization = new("Bearer", (await signIn.Content.ReadFromJsonAsync<JsonObject>())!["accessToken"]!.ToString());
        return client;
    }

    private static async Task<long> ComposeToEveryGuardianAsync(HttpClient bureauAdmin, string bureauCorpId, string title)
    {
        var response = await bureauAdmin.PostAsJsonAsync("/api/notices", new
        {
            corpId = bureauCorpId, title, body = "请各位家长关注孩子的视力健康。",
            audience = new[] { new { roles = new[] { "guardians" } } },
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (long)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
    }

    private async Task WaitUntilCompleteAsync(long noticeId, Func<string> output)
    {
        var until = DateTime.UtcNow + Deadline;
        while (DateTime.UtcNow < until)
        {
            var (status, open) = await db.QuerySingleAsync<(string, int)>("""
                SELECT n.status, (SELECT COUNT(*) FROM notice_recipients r WHERE r.notice_id = n.id AND r.status IN ('pending', 'sent'))
                FROM notices n WHERE n.id = @noticeId
                """, new { noticeId });
            if (status == "sent" && open == 0)
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"Notice {noticeId} did not complete.\n{output()}");
    }

    private static List<(string CorpId, string UserId)> Guardians(SandboxServer server) =>
        server.Sandbox.World.Schools.SelectMany(s => s.Classes.Values.SelectMany(c => c.Guardians).Select(g => (s.CorpId, g.UserId)))
            .Distinct().ToList();

    [Fact]
    public async Task FanOutTo20000_KilledThreeTimes_EveryoneGetsExactlyOneMessage()
    {
        db.SkipUnlessAvailable();
        await using var server = await StartSandboxAsync();
        var environment = Environment(server);
        var guardians = Guardians(server);
        Assert.True(guardians.Count >= 20_000, $"the district preset has {guardians.Count} guardians");
        var outputs = new List<string>();

        var service = await StartServiceAsync(environment);
        await WaitForOrgAsync(service, server);
        var noticeId = await ComposeToEveryGuardianAsync(await BureauAdminAsync(service, server), server.Sandbox.World.Bureau.CorpId, "明眸工程致家长的一封信");
        var composed = System.Diagnostics.Stopwatch.StartNew();

        foreach (var killAt in new[] { 3_000, 8_000, 13_000 })
        {
            // Watched and killed off the test's own context: under a busy parallel run its continuations can wait
            // seconds for a thread, and the fan-out would run on past the point meant for the kill.
            var killed = service;
            var delivered = await Task.Run(async () =>
            {
                var until = DateTime.UtcNow + Deadline;
                while (server.Sandbox.Notices.DeliveredTotal() < killAt && DateTime.UtcNow < until)
                {
                    await Task.Delay(5);
                }

                await killed.DisposeAsync(); // SIGKILL: no graceful shutdown, claims left behind
                return server.Sandbox.Notices.DeliveredTotal();
            });
            Assert.True(delivered < guardians.Count,
                $"the fan-out finished before the kill at {killAt}: {delivered} of {guardians.Count} delivered {composed.Elapsed} after " +
                $"composing\n{string.Join("\n", outputs.Append(killed.Output).Select(o => o.Length > 3000 ? o[^3000..] : o))}");
            outputs.Add(killed.Output);
            service = await StartServiceAsync(environment);
        }

        await WaitUntilCompleteAsync(noticeId, () => service.Output);
        await service.DisposeAsync();

        var counts = guardians.Select(g => server.Sandbox.Notices.DeliveredTo(g.CorpId, g.UserId)).ToList();
        Assert.Equal(guardians.Count, counts.Count(c => c == 1));
        var forbidden = server.Sandbox.Notices.ForbiddenByCode();
        // Only identical-message refusals may appear: a resend of a batch whose first attempt was cut off by the kill.
        Assert.All(forbidden.Keys, code => Assert.Equal("143106", code));
        Assert.Equal(guardians.Count, await db.QuerySingleAsync<int>(
            "SELECT COUNT(*) FROM notice_recipients WHERE notice_id = @noticeId AND status = 'delivered'", new { noticeId }));
    }

    [Fact]
    public async Task TwoInstances_FanOutOneNotice_NobodyGetsTwo()
    {
        db.SkipUnlessAvailable();
        await using var server = await StartSandboxAsync();
        var environment = Environment(server);
        var guardians = Guardians(server);

        await using var first = await StartServiceAsync(environment);
        await WaitForOrgAsync(first, server);
        await using var second = await StartServiceAsync(environment);
        var noticeId = await ComposeToEveryGuardianAsync(await BureauAdminAsync(second, server), server.Sandbox.World.Bureau.CorpId, "两个实例");

        await WaitUntilCompleteAsync(noticeId, () => first.Output + second.Output);

        Assert.All(guardians, g => Assert.Equal(1, server.Sandbox.Notices.DeliveredTo(g.CorpId, g.UserId)));
        Assert.Empty(server.Sandbox.Notices.ForbiddenByCode());
        // Both instances took part: the batches were shared, not all sent by one.
        Assert.Equal(2, await db.QuerySingleAsync<int>(
            "SELECT COUNT(DISTINCT sent_by) FROM notice_batches WHERE notice_id = @noticeId", new { noticeId }));
    }
}

public sealed class SqliteNoticeProcessTests(SqliteTestDb db) : NoticeProcessTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlNoticeProcessTests(MySqlTestDb db) : NoticeProcessTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
