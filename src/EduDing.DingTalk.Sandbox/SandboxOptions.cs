namespace EduDing.DingTalk.Sandbox;

/// <summary>
/// The sandbox's data and its faithfulness knobs. Limits default to DingTalk's documented values (contract §5a, §10c);
/// faults default to off. Everything but the preset and seed may be changed while it runs.
/// </summary>
public sealed class SandboxOptions
{
    public string Preset { get; set; } = "demo";

    public int Seed { get; set; } = 20260901;

    /// <summary>
    /// Whether every corp's app belongs to one developer account (one provider building every school's app): then a
    /// person has the same unionId in every corp. False (the default) makes each corp its own developer account, as when
    /// each school creates its own internal app: the same person has a different unionId in each corp (contract §12).
    /// Fixed at generation.
    /// </summary>
    public bool SharedDeveloperAccount { get; set; }

    /// <summary>Calls per second per app per API (90018 / QpsLimitForAppkeyAndApi above it); 0 means unlimited.</summary>
    public double QpsPerApi { get; set; } = 20;

    /// <summary>Work-notice recipients per app in any 60 s; over it messages are dropped with 143104.</summary>
    public int RecipientsPerMinute { get; set; } = 5000;

    /// <summary>Identical messages to one user per day (143106 above it).</summary>
    public int IdenticalMessagesPerUserPerDay { get; set; } = 1;

    /// <summary>Messages per app to one user per day (143105 above it).</summary>
    public int MessagesPerUserPerDay { get; set; } = 500;

    /// <summary>Metered (non-exempt) calls per corp per month (90020 / ApiCountLimitForOrg above it); null is unlimited.</summary>
    public long? MonthlyQuota { get; set; }

    /// <summary>
    /// Event pushes per corp per month (标准版: 3,000); 通讯录 events do not count, 家校 (edu_*) events do (contract §12).
    /// When a corp's pushes run out, nothing more is delivered to it this month: Stream connections are closed and a new
    /// one is refused with 20001, HTTP pushes stop. Null: unlimited.
    /// </summary>
    public long? MonthlyPushQuota { get; set; }

    /// <summary>Share of calls answered with -1 (系统繁忙) / HTTP 500 systemError.</summary>
    public double TransientErrorRate { get; set; }

    /// <summary>Share of calls answered with 90002 / QpsLimitForApi (the global per-API limit).</summary>
    public double GlobalQpsErrorRate { get; set; }

    public TimeSpan Latency { get; set; } = TimeSpan.Zero;

    /// <summary>Calls from one IP in <see cref="IpBanWindow"/> above which the IP is banned (§10c: 10,000 in 20 s).</summary>
    public int IpBanThreshold { get; set; } = 10_000;

    public TimeSpan IpBanWindow { get; set; } = TimeSpan.FromSeconds(20);

    public TimeSpan IpBanDuration { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromSeconds(7200);

    public TimeSpan AuthCodeLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>HTTP push retries after a failed push (§7e: 10 s, then 30 s), then the failed-result list.</summary>
    public TimeSpan[] PushRetryDelays { get; set; } = [TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    /// <summary>Share of HTTP pushes that fail without reaching the receiver.</summary>
    public double PushFailureRate { get; set; }

    /// <summary>Share of successful HTTP pushes delivered a second time.</summary>
    public double PushDuplicateRate { get; set; }

    public TimeSpan StreamTicketLifetime { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>An EVENT frame not ACKed within this is delivered again.</summary>
    public TimeSpan StreamAckTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan StreamRedeliveryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Share of ACKed stream events delivered a second time.</summary>
    public double StreamDuplicateRate { get; set; }

    /// <summary>Every connection is told to reconnect after this long; null never.</summary>
    public TimeSpan? StreamRotationInterval { get; set; }

    /// <summary>After a disconnect notice the server closes the socket this much later (§9e: about 10 s).</summary>
    public TimeSpan StreamDisconnectGrace { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan StreamPingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Corps (by corp id) whose calls, token requests included, are accepted and never answered, as when DingTalk hangs
    /// for one app: for tests that the service keeps serving the other corps.
    /// </summary>
    public HashSet<string> UnresponsiveCorps { get; set; } = [];

    /// <summary>APIs (by name, e.g. "edu/user/list") answered with 60011, as when the app lacks the permission.</summary>
    public HashSet<string> DeniedApis { get; set; } = [];

    /// <summary>The id under which the 家校 root shows in the enterprise tree (a virtual dept that cannot be read); null hides it.</summary>
    public long? VirtualEduRootDeptId { get; set; } = -7;
}
