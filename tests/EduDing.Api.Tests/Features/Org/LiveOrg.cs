using System.Net.Http.Json;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk.Sandbox;
using EduDing.DingTalk.Sandbox.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Org;

/// <summary>
/// The whole service (workers running) against a sandbox on a loopback port. HTTP pushes from the sandbox reach the
/// in-memory server through a forwarding handler; Stream uses the sandbox's real WebSocket endpoint.
/// </summary>
internal sealed class LiveOrg : IAsyncDisposable
{
    private LiveOrg(SandboxServer server, ApiFactory factory)
    {
        Server = server;
        Factory = factory;
    }

    public SandboxServer Server { get; }

    public DingTalkSandbox Sandbox => Server.Sandbox;

    public ApiFactory Factory { get; }

    public OrgRepository Org => Factory.Services.GetRequiredService<OrgRepository>();

    public EventInbox Inbox => Factory.Services.GetRequiredService<EventInbox>();

    /// <summary>
    /// The configured child-data officer: the bureau's last section chief, who is no DingTalk admin (and not the first
    /// non-admin, whom tests use as an ordinary bureau person).
    /// </summary>
    public static (string CorpId, string UserId) ChildDataOfficer(SandboxWorld world) =>
        (world.Bureau.CorpId, world.Bureau.Users.Values.Last(u => !u.Admin && u.Title == "科长").UserId);

    /// <summary>The demo org, no QPS limit (the client's own pacing is tested elsewhere), quick push retries.</summary>
    public static SandboxOptions DefaultSandboxOptions() => new()
    {
        Preset = "demo", Seed = 21, QpsPerApi = 0,
        PushRetryDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500)],
        StreamAckTimeout = TimeSpan.FromSeconds(2), StreamRedeliveryDelay = TimeSpan.FromMilliseconds(100),
        StreamDisconnectGrace = TimeSpan.FromSeconds(1),
    };

    public static async Task<LiveOrg> StartAsync(EventDelivery delivery, SandboxOptions? options = null,
        IReadOnlyDictionary<string, string>? extraSettings = null, Action<IServiceCollection>? services = null,
        Func<DingTalkSandbox, IReadOnlyDictionary<string, string>>? settingsOf = null)
    {
        var forward = new ForwardingHandler();
        var server = await SandboxServer.StartAsync(options ?? DefaultSandboxOptions(), pushHandler: forward);
        var factory = new ApiFactory { ExtraServices = services };
        var settings = factory.Settings;
        settings["DingTalk:Client:OapiBaseUrl"] = server.BaseUrl.ToString();
        settings["DingTalk:Client:ApiBaseUrl"] = server.BaseUrl.ToString();
        settings["DingTalk:Client:MaxCallsPerSecondPerApi"] = "1000";
        settings["DingTalk:Client:RetryBaseDelay"] = "00:00:00.020";
        settings["OrgSync:RunWorkers"] = "true";
        settings["OrgSync:EventPollInterval"] = "00:00:00.100";
        settings["OrgSync:SchedulerInterval"] = "00:00:00.500";
        settings["OrgSync:FailedPushDrainInterval"] = "00:00:01";
        settings["OrgSync:MonthlyCallBudget"] = "1000000";
        settings["Identity:SchoolAdminTitles:0"] = "主任";
        var officer = ChildDataOfficer(server.Sandbox.World);
        settings["Identity:ChildDataOfficers:0"] = $"{officer.CorpId}:{officer.UserId}";
        settings["Notices:RunWorkers"] = "true";
        settings["Notices:PollInterval"] = "00:00:00.100";
        settings["Notices:ResultCheckDelay"] = "00:00:00.200";
        foreach (var (key, value) in (extraSettings ?? new Dictionary<string, string>()).Concat(settingsOf?.Invoke(server.Sandbox) ?? new Dictionary<string, string>()))
        {
            settings[key] = value;
        }

        var corps = OrgHarness.CorpSettingsFor(server.Sandbox, delivery);
        for (var i = 0; i < corps.Count; i++)
        {
            foreach (var (key, value) in new Dictionary<string, string>
                     {
                         ["CorpId"] = corps[i].CorpId, ["Kind"] = corps[i].Kind, ["Name"] = corps[i].Name, ["AppKey"] = corps[i].AppKey,
                         ["AppSecret"] = corps[i].AppSecret, ["AgentId"] = corps[i].AgentId.ToString(), ["Delivery"] = corps[i].Delivery,
                         ["CallbackToken"] = corps[i].CallbackToken, ["CallbackAesKey"] = corps[i].CallbackAesKey, ["MiniAppId"] = corps[i].MiniAppId,
                         ["UnionIdSpace"] = corps[i].UnionIdSpace,
                     })
            {
                settings[$"DingTalk:Corps:{i}:{key}"] = value;
            }
        }

        forward.Target = factory.Server.CreateHandler();
        var live = new LiveOrg(server, factory);
        if (delivery == EventDelivery.Http)
        {
            // The service's first request waits for its start (migrations, the sandbox's corps); the console's URL check
            // gives up after 5 s, which a loaded machine can exceed: answer one request first, and check again once.
            using (var warmUp = live.Client())
            {
                (await warmUp.GetAsync("/healthz")).EnsureSuccessStatusCode();
            }

            foreach (var corp in server.Sandbox.World.Corps)
            {
                var url = new Uri($"http://localhost/api/dingtalk/callback/{corp.CorpId}");
                try
                {
                    await server.Sandbox.RegisterCallbackAsync(corp.CorpId, url, verify: true, CancellationToken.None);
                }
                catch (SandboxRequestException)
                {
                    await server.Sandbox.RegisterCallbackAsync(corp.CorpId, url, verify: true, CancellationToken.None);
                }
            }
        }

        return live;
    }

    /// <summary>A client of the service, with a bearer token when one is given.</summary>
    public HttpClient Client(string? token = null)
    {
        var client = Factory.CreateClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        }

        return client;
    }

    /// <summary>Signs in through the sandbox's 免登 code, as the mini-app would; the access token.</summary>
    public async Task<string> SignInAsync(string corpId, string userId)
    {
        using var client = Client();
        var response = await client.PostAsJsonAsync("/api/auth/dingtalk", new { corpId, authCode = Sandbox.World.IssueAuthCode(corpId, userId) });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["accessToken"]!.ToString();
    }

    /// <summary>Waits until every corp has had its first full reconcile.</summary>
    public async Task WaitForInitialSyncAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            var corps = await Org.ListCorpsAsync(default);
            if (corps.Count == Sandbox.World.Corps.Count && corps.All(c => c.LastFullSyncAt is not null))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("The initial reconcile did not finish.");
    }

    /// <summary>Waits until nothing is in flight and the mirror equals the sandbox; the last difference if it never does.</summary>
    public async Task<string?> WaitUntilMirroredAsync(TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        string? difference = "not checked";
        while (DateTime.UtcNow < until)
        {
            if (Sandbox.EventsDrained && Sandbox.World.Corps.All(c => Sandbox.Push.FailedCount(c.CorpId) == 0)
                                      && await Inbox.PendingCountAsync(default) == 0)
            {
                difference = null;
                foreach (var corp in Sandbox.World.Corps)
                {
                    difference = OrgSnapshot.FromSandbox(Sandbox, corp).Difference(await OrgSnapshot.FromDatabaseAsync(Org, corp.CorpId));
                    if (difference is not null)
                    {
                        break;
                    }
                }

                if (difference is null)
                {
                    return null;
                }
            }

            await Task.Delay(200);
        }

        return difference;
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Server.DisposeAsync();
    }

    private sealed class ForwardingHandler : HttpMessageHandler
    {
        public HttpMessageHandler? Target { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            new HttpMessageInvoker(Target ?? throw new InvalidOperationException("No target yet"), disposeHandler: false)
                .SendAsync(request, cancellationToken);
    }
}

/// <summary>One live service and sandbox for a whole test class, after the initial reconcile (HTTP delivery).</summary>
public sealed class LiveOrgFixture : IAsyncLifetime
{
    internal LiveOrg Live { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Live = await LiveOrg.StartAsync(Api.Features.DingTalk.EventDelivery.Http);
        await Live.WaitForInitialSyncAsync();
    }

    public ValueTask DisposeAsync() => Live.DisposeAsync();
}

/// <summary>The live org on a test database of either provider; skipped tests see <see cref="Db"/> unavailable and no org.</summary>
public abstract class LiveOrgOnDbFixture<TDb> : IAsyncLifetime where TDb : TestDb, new()
{
    public TDb Db { get; } = new();

    internal LiveOrg Live { get; private set; } = null!;

    /// <summary>Settings beyond the database's.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    /// <summary>The sandbox's options; null: <see cref="LiveOrg.DefaultSandboxOptions"/>.</summary>
    protected virtual SandboxOptions? SandboxOptions => null;

    protected virtual void AddServices(IServiceCollection services)
    {
    }

    public async ValueTask InitializeAsync()
    {
        await Db.InitializeAsync();
        if (!Db.Available)
        {
            return;
        }

        Live = await LiveOrg.StartAsync(EventDelivery.Http, SandboxOptions, extraSettings: new Dictionary<string, string>(Settings)
        {
            ["Database:Provider"] = Db.Provider.ToString(),
            ["Database:ConnectionString"] = Db.ConnectionString,
        }, services: AddServices);
        await Live.WaitForInitialSyncAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Live is not null)
        {
            await Live.DisposeAsync();
        }

        await Db.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
