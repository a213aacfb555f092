using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk;
using EduDing.DingTalk.Sandbox;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Tests.Features.Org;

/// <summary>The org services wired by hand over a test database and a real sandbox on a loopback port.</summary>
internal sealed class OrgHarness : IAsyncDisposable
{
    private OrgHarness(SandboxServer server, TestDb db, DingTalkClient client, OrgSyncOptions syncOptions, TimeProvider time)
    {
        Server = server;
        Db = db;
        Client = client;
        Time = time;
        var dingTalk = Options.Create(new DingTalkOptions { Corps = CorpSettingsFor(server.Sandbox, EventDelivery.Http) });
        Corps = new CorpDirectory(dingTalk, new SandboxHost(dingTalk, NullLogger<SandboxHost>.Instance));
        Org = new OrgRepository(db.Database);
        Runs = new SyncRunRepository(db.Database);
        Leases = new LeaseRepository(db.Database, Time);
        Inbox = new EventInbox(db.Database, Time);
        Usage = new CallUsageTracker(db.Database, Time);
        Reader = new DingTalkOrgReader(client);
        var instance = new ServiceInstance();
        SyncOptions = Options.Create(syncOptions);
        Sync = new OrgSyncService(Reader, Corps, Org, Runs, Leases, Usage, instance, SyncOptions, Time, NullLogger<OrgSyncService>.Instance);
        Events = new EventDispatcher(Inbox, [new OrgEventHandler(Reader, Org, Time)], Corps, Leases, instance, SyncOptions,
            NullLogger<EventDispatcher>.Instance);
        Intake = new EventIntake(Inbox, client, NullLogger<EventIntake>.Instance);
    }

    private UsageObserver _observer = null!;

    public SandboxServer Server { get; }

    public DingTalkSandbox Sandbox => Server.Sandbox;

    public TestDb Db { get; }

    public DingTalkClient Client { get; }

    public TimeProvider Time { get; }

    public CorpDirectory Corps { get; }

    public OrgRepository Org { get; }

    public SyncRunRepository Runs { get; }

    public LeaseRepository Leases { get; }

    public EventInbox Inbox { get; }

    public CallUsageTracker Usage { get; }

    public DingTalkOrgReader Reader { get; }

    public IOptions<OrgSyncOptions> SyncOptions { get; }

    public OrgSyncService Sync { get; }

    public EventDispatcher Events { get; }

    public EventIntake Intake { get; }

    public static async Task<OrgHarness> StartAsync(TestDb db, SandboxOptions? sandboxOptions = null,
        Action<DingTalkClientOptions>? client = null, OrgSyncOptions? sync = null, TimeProvider? time = null)
    {
        var server = await SandboxServer.StartAsync(sandboxOptions ?? new SandboxOptions { Preset = "demo", Seed = 11, QpsPerApi = 0 });
        var observer = new UsageObserver();
        var dingTalk = DingTalkClient.Create(new HttpClient(), server.ClientOptions(o =>
        {
            o.MaxCallsPerSecondPerApi = 1000;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            o.AppQpsRetries = 20;
            client?.Invoke(o);
        }), observers: observer);
        var harness = new OrgHarness(server, db, dingTalk, sync ?? new OrgSyncOptions { MonthlyCallBudget = 1_000_000 },
            time ?? TimeProvider.System);
        observer.Usage = harness.Usage;
        harness._observer = observer;
        return harness;
    }

    /// <summary>A second set of services over the same database and sandbox, as another instance would have.</summary>
    public OrgSyncService AnotherInstance() => new(Reader, Corps, Org, Runs, Leases, Usage, new ServiceInstance(), SyncOptions, Time,
        NullLogger<OrgSyncService>.Instance);

    public async Task<SyncRun> FullSyncAsync(string corpId)
    {
        var runId = await Sync.RunFullSyncAsync(corpId, "test", CancellationToken.None);
        Assert.NotNull(runId);
        return (await Runs.FindAsync(runId.Value, CancellationToken.None))!;
    }

    public async Task AssertMirrorsAsync(string corpId)
    {
        var corp = Sandbox.World.GetCorp(corpId);
        var expected = OrgSnapshot.FromSandbox(Sandbox, corp);
        var actual = await OrgSnapshot.FromDatabaseAsync(Org, corpId);
        Assert.Null(expected.Difference(actual));
    }

    /// <summary>The sandbox's corps as a service process reads them from the environment (DingTalk__Corps__N__*).</summary>
    public static Dictionary<string, string> CorpEnvironmentFor(DingTalkSandbox sandbox, EventDelivery delivery)
    {
        var environment = new Dictionary<string, string>();
        var corps = CorpSettingsFor(sandbox, delivery);
        for (var i = 0; i < corps.Count; i++)
        {
            environment[$"DingTalk__Corps__{i}__CorpId"] = corps[i].CorpId;
            environment[$"DingTalk__Corps__{i}__Kind"] = corps[i].Kind;
            environment[$"DingTalk__Corps__{i}__Name"] = corps[i].Name;
            environment[$"DingTalk__Corps__{i}__AppKey"] = corps[i].AppKey;
            environment[$"DingTalk__Corps__{i}__AppSecret"] = corps[i].AppSecret;
            environment[$"DingTalk__Corps__{i}__AgentId"] = corps[i].AgentId.ToString();
            environment[$"DingTalk__Corps__{i}__Delivery"] = corps[i].Delivery;
            environment[$"DingTalk__Corps__{i}__CallbackToken"] = corps[i].CallbackToken;
            environment[$"DingTalk__Corps__{i}__CallbackAesKey"] = corps[i].CallbackAesKey;
            environment[$"DingTalk__Corps__{i}__MiniAppId"] = corps[i].MiniAppId;
            environment[$"DingTalk__Corps__{i}__UnionIdSpace"] = corps[i].UnionIdSpace;
        }

        return environment;
    }

    public static List<CorpSettings> CorpSettingsFor(DingTalkSandbox sandbox, EventDelivery delivery) =>
        sandbox.World.Corps.Select(c => new CorpSettings
        {
            CorpId = c.CorpId,
            Kind = c.Kind.ToString(),
            Name = c.Name,
            AppKey = c.AppKey,
            AppSecret = c.AppSecret,
            AgentId = c.AgentId,
            Delivery = delivery.ToString(),
            CallbackToken = c.CallbackToken,
            CallbackAesKey = c.CallbackAesKey,
            MiniAppId = c.MiniAppId,
            // As the deployment would be told: one space when every app shares a developer account, none otherwise.
            UnionIdSpace = sandbox.Options.SharedDeveloperAccount ? "sandbox" : "",
        }).ToList();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>
    /// Runs once, inside the first call after which <paramref name="when"/> holds, while that caller waits: a way to
    /// change the world at an exact point of a reconcile. The harness's own calls made by <paramref name="action"/> do
    /// not trigger it again.
    /// </summary>
    public void OnceAfterCall(Func<DingTalkCall, bool> when, Func<Task> action) =>
        _observer.Hook = call =>
        {
            if (when(call) && Interlocked.Exchange(ref _observer.Hook, null) is not null)
            {
                Task.Run(action).GetAwaiter().GetResult();
            }
        };

    /// <summary>Forwards calls to the harness's usage tracker once it exists (the client is built before it).</summary>
    private sealed class UsageObserver : IDingTalkCallObserver
    {
        public Action<DingTalkCall>? Hook;

        public CallUsageTracker? Usage { get; set; }

        public void OnCall(DingTalkCall call)
        {
            Usage?.OnCall(call);
            Hook?.Invoke(call);
        }
    }
}
