namespace EduDing.DingTalk;

/// <summary>Where DingTalk is and how politely to call it (contract §0, §1d, §10).</summary>
public sealed class DingTalkClientOptions
{
    public const string Section = "DingTalk:Client";

    /// <summary>The legacy family's host (topapi/*, gettoken, call_back/*).</summary>
    public Uri OapiBaseUrl { get; set; } = new("https://oapi.dingtalk.com/");

    /// <summary>The v1.0 family's host (oauth2, workflow, gateway).</summary>
    public Uri ApiBaseUrl { get; set; } = new("https://api.dingtalk.com/");

    /// <summary>Calls per second per app per API; DingTalk's standard-edition limit is 20 (§10c).</summary>
    public double MaxCallsPerSecondPerApi { get; set; } = 20;

    /// <summary>
    /// Calls per second of this instance, all apps and APIs together; 0 is unlimited. DingTalk bans an egress IP for
    /// 5 minutes above 10,000 calls in 20 s (§10c), and instances behind one egress IP share that: give each its share
    /// (the default, 450, keeps one instance clear of the ban with room for the token calls of a cold start).
    /// </summary>
    public double MaxCallsPerSecond { get; set; } = 450;

    /// <summary>Work-notice recipients per app per minute; above 5,000 DingTalk drops messages silently (§5a).</summary>
    public int WorkNoticeRecipientsPerMinute { get; set; } = 5000;

    /// <summary>A token is refreshed this long before it expires (§1d recommends 10 minutes).</summary>
    public TimeSpan TokenRefreshMargin { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Retries after 90018 / QpsLimitForAppkeyAndApi (per-app QPS), each after about a second.</summary>
    public int AppQpsRetries { get; set; } = 5;

    /// <summary>Retries after 90002 / QpsLimitForApi (global QPS), backing off 1, 2, 4, 8 s.</summary>
    public int GlobalQpsRetries { get; set; } = 4;

    /// <summary>Retries after -1 (系统繁忙) and transport failures.</summary>
    public int BusyRetries { get; set; } = 3;

    /// <summary>
    /// The wait after 90018 / QpsLimitForAppkeyAndApi. DingTalk counts calls per one-second window, so this stays about
    /// a second whatever <see cref="RetryBaseDelay"/> is.
    /// </summary>
    public TimeSpan AppQpsRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>First delay of the global-QPS and busy backoffs; tests shrink it.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long to stop calling after an IP ban reply (DingTalk bans for 5 minutes, §10c).</summary>
    public TimeSpan IpBanPause { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one attempt (one HTTP exchange) may take before it counts as a transport failure.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one call may take in all, its retries and waits included. Past it the call fails with a
    /// <see cref="TimeoutException"/>, so that no caller (a sign-in, a sync run, a worker) waits on DingTalk for ever.
    /// Callers with a tighter budget (sign-in) cancel sooner through their own token.
    /// </summary>
    public TimeSpan CallDeadline { get; set; } = TimeSpan.FromSeconds(45);
}
