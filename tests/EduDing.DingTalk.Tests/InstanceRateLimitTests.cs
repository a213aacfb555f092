using EduDing.DingTalk.Sandbox;
using EduDing.DingTalk.Tests.Infrastructure;

namespace EduDing.DingTalk.Tests;

/// <summary>
/// DingTalk's per-IP limit (§10c) scaled down: the sandbox bans its one caller above 60 calls in 2 s. Calls spread over
/// every app and two APIs, so that only the instance-wide pacing (MaxCallsPerSecond) can keep them under it.
/// </summary>
public sealed class InstanceRateLimitTests
{
    private static Task<SandboxServer> StartAsync() => SandboxServer.StartAsync(new SandboxOptions
    {
        Preset = "demo", Seed = 7, QpsPerApi = 0, IpBanThreshold = 60, IpBanWindow = TimeSpan.FromSeconds(2),
    });

    private static DingTalkClient Client(SandboxServer server, CallLog log, Action<DingTalkClientOptions> configure) =>
        DingTalkClient.Create(new HttpClient(), server.ClientOptions(configure), observers: [log]);

    private static async Task CallEveryAppAsync(SandboxServer server, DingTalkClient client, int calls)
    {
        var apps = server.Sandbox.World.Corps.Select(c => c.App).ToList();
        await Task.WhenAll(Enumerable.Range(0, calls).Select(async i =>
        {
            var app = apps[i % apps.Count];
            try
            {
                if (i % 2 == 0)
                {
                    await client.ListSubDepartmentIdsAsync(app, 1, default);
                }
                else
                {
                    await client.GetDepartmentAsync(app, 1, default);
                }
            }
            catch (DingTalkIpBannedException)
            {
                // Counted by the log; the test reads it there.
            }
        }));
    }

    [Fact]
    public async Task CallsOfManyAppsAndApis_PacedForTheInstance_StayUnderTheIpLimit()
    {
        await using var server = await StartAsync();
        var log = new CallLog();
        // 20/s: at most 40 and a portion in any 2 s, against the ban's 60.
        using var client = Client(server, log, o =>
        {
            o.MaxCallsPerSecondPerApi = 1000;
            o.MaxCallsPerSecond = 20;
        });

        await CallEveryAppAsync(server, client, 80);

        Assert.Equal(0, log.Calls.Count(c => c.Outcome == "IpBanned"));
        Assert.Null(client.IpBannedUntil);
        Assert.Equal(80, log.Calls.Count(c => c.Outcome == "ok" && !c.Api.Name.Contains("token", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task CallsQueuedByTheInstanceLimit_StillKeepEachApisSpacing()
    {
        // Three apps at 4/s each want 12/s; the instance allows 6/s, so calls queue for it. A per-API limiter followed by
        // an instance limiter let a queue's calls of one API leave together when the queue drained (90018 from DingTalk's
        // per-second count; 2,091 of them in the city-scale bench); one send slot for both spacings does not.
        await using var server = await SandboxServer.StartAsync(new SandboxOptions { Preset = "demo", Seed = 7, QpsPerApi = 5 });
        var log = new CallLog();
        using var client = Client(server, log, o =>
        {
            o.MaxCallsPerSecondPerApi = 4;
            o.MaxCallsPerSecond = 6;
            o.AppQpsRetries = 10;
        });
        var apps = server.Sandbox.World.Corps.Take(3).Select(c => c.App).ToList();

        await Task.WhenAll(Enumerable.Range(0, 36).Select(i => client.ListSubDepartmentIdsAsync(apps[i % 3], 1, default)));

        Assert.Equal(0, log.Count(DingTalkApis.ListSubDepartmentIds, "90018"));
        Assert.Equal(36, log.Count(DingTalkApis.ListSubDepartmentIds, "ok"));
    }

    [Fact]
    public async Task CallsOfManyAppsAndApis_Unpaced_AreBanned()
    {
        // The control: the same calls without the instance's pacing cross the limit.
        await using var server = await StartAsync();
        var log = new CallLog();
        using var client = Client(server, log, o =>
        {
            o.MaxCallsPerSecondPerApi = 1000;
            o.MaxCallsPerSecond = 0;
        });

        await CallEveryAppAsync(server, client, 200);

        Assert.NotNull(client.IpBannedUntil);
        Assert.True(log.Calls.Count(c => c.Outcome == "IpBanned") > 0);
    }
}
