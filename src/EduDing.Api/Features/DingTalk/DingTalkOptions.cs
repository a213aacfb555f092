using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.DingTalk;

internal enum CorpKind
{
    Bureau,
    School,
}

/// <summary>How DingTalk delivers a corp's events: HTTP push to our callback URL, or Stream mode (no public URL).</summary>
internal enum EventDelivery
{
    Stream,
    Http,
}

/// <summary>
/// The corps EduDing serves, one internal app each. With none configured the service runs against the built-in
/// DingTalk sandbox (a generated org), which is what the default run and the tests use.
/// </summary>
internal sealed class DingTalkOptions : IValidatedOptions
{
    public static string Section => "DingTalk";

    public List<CorpSettings> Corps { get; set; } = [];

    public SandboxSettings Sandbox { get; set; } = new();

    public bool UseSandbox => Corps.Count == 0;

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        for (var i = 0; i < Corps.Count; i++)
        {
            foreach (var (key, reason) in Corps[i].Validate())
            {
                yield return ($"{nameof(Corps)}:{i}:{key}", reason);
            }
        }

        if (Corps.GroupBy(c => c.CorpId).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            yield return (nameof(Corps), $"corp {duplicate.Key} is listed twice");
        }

        if (Corps.Count > 0 && Sandbox.Enabled == true)
        {
            yield return ($"{nameof(Sandbox)}:{nameof(SandboxSettings.Enabled)}",
                "the sandbox runs only where no corps are configured: remove the corps or this setting");
        }

        if (Corps.Count == 0 && Sandbox.Enabled == false)
        {
            yield return (nameof(Corps), "no corps are configured and the sandbox is turned off: there is nothing to serve");
        }

        if (UseSandbox && !IsLoopback(Sandbox.Url))
        {
            yield return ($"{nameof(Sandbox)}:{nameof(SandboxSettings.Url)}",
                "the sandbox is a development tool and listens on loopback only (127.0.0.1, [::1] or localhost)");
        }

        if (UseSandbox && !Enum.TryParse<EventDelivery>(Sandbox.Delivery, true, out _))
        {
            yield return ($"{nameof(Sandbox)}:{nameof(SandboxSettings.Delivery)}", "must be Stream or Http");
        }
    }

    private static bool IsLoopback(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) &&
        (uri.IsLoopback || System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));
}

internal sealed class CorpSettings
{
    public string CorpId { get; set; } = "";

    public string Kind { get; set; } = nameof(CorpKind.School);

    public string Name { get; set; } = "";

    public string AppKey { get; set; } = "";

    /// <summary>Secret: set through the environment (DingTalk__Corps__0__AppSecret).</summary>
    public string AppSecret { get; set; } = "";

    public long AgentId { get; set; }

    /// <summary>
    /// The MiniAppId of this corp's app: work-notice links open it. Each school that creates its own app has its own;
    /// empty uses Notices:MiniAppId (one app delivered to every corp).
    /// </summary>
    public string MiniAppId { get; set; } = "";

    /// <summary>
    /// Corps whose apps belong to one developer account (one provider builds every school's app) give one person one
    /// unionId: give them the same space name. Empty: this corp shares unionIds with no other, as when each school
    /// creates its own app; people are then linked across corps only by an explicit act (docs/deployment-models.md).
    /// </summary>
    public string UnionIdSpace { get; set; } = "";

    /// <summary>The org's DingTalk edition, for its monthly push quota: standard (3,000), professional (50,000), addon (500,000).</summary>
    public string Edition { get; set; } = "standard";

    public string Delivery { get; set; } = nameof(EventDelivery.Stream);

    /// <summary>The event subscription's token; needed for HTTP delivery.</summary>
    public string CallbackToken { get; set; } = "";

    /// <summary>Secret: the 43-character EncodingAESKey; needed for HTTP delivery.</summary>
    public string CallbackAesKey { get; set; } = "";

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (string.IsNullOrWhiteSpace(CorpId))
        {
            yield return (nameof(CorpId), "is required");
        }

        if (!Enum.TryParse<CorpKind>(Kind, true, out _))
        {
            yield return (nameof(Kind), "must be Bureau or School");
        }

        if (string.IsNullOrWhiteSpace(AppKey))
        {
            yield return (nameof(AppKey), "is required");
        }

        if (string.IsNullOrWhiteSpace(AppSecret))
        {
            yield return (nameof(AppSecret), "is required (set it in the environment)");
        }

        if (AgentId <= 0)
        {
            yield return (nameof(AgentId), "must be the app's AgentId");
        }

        if (DingTalkEditions.For(Edition) is null)
        {
            yield return (nameof(Edition), "must be standard, professional or addon");
        }

        if (!Enum.TryParse<EventDelivery>(Delivery, true, out var delivery))
        {
            yield return (nameof(Delivery), "must be Stream or Http");
        }
        else if (delivery == EventDelivery.Http)
        {
            if (CallbackToken.Length is < 3 or > 32)
            {
                yield return (nameof(CallbackToken), "must be 3 to 32 characters for HTTP delivery");
            }

            if (CallbackAesKey.Length != 43)
            {
                yield return (nameof(CallbackAesKey), "must be 43 characters for HTTP delivery");
            }
        }
    }
}

/// <summary>
/// In Production the service serves real corps: with none configured it refuses to start unless the sandbox is asked
/// for explicitly (DingTalk:Sandbox:Enabled=true), so that a deployment missing its corps never serves the fake demo org.
/// </summary>
internal sealed class ProductionCorpsValidator(IHostEnvironment environment) : IValidateOptions<DingTalkOptions>
{
    public ValidateOptionsResult Validate(string? name, DingTalkOptions options) =>
        environment.IsProduction() && options.Corps.Count == 0 && options.Sandbox.Enabled != true
            ? ValidateOptionsResult.Fail(
                $"{DingTalkOptions.Section}:{nameof(DingTalkOptions.Corps)}: no corps are configured; in Production the service serves real " +
                "DingTalk corps (docs/operations.md). To run the DingTalk sandbox's generated organization instead, set DingTalk:Sandbox:Enabled=true.")
            : ValidateOptionsResult.Success;
}

internal sealed class SandboxSettings
{
    /// <summary>
    /// Unset: the sandbox runs where no corps are configured, except in Production, which needs true to run it. True
    /// with corps, or false without, is a start-up error.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>demo (a bureau and 5 schools) or haining (100 schools).</summary>
    public string Preset { get; set; } = "demo";

    public int Seed { get; set; } = 20260901;

    /// <summary>
    /// Once the sandbox's org is mirrored, give it some life (an open screening round with records, a sent notice, a notice
    /// awaiting approval) so that a first run shows more than empty lists. On in Development (appsettings.Development.json).
    /// </summary>
    public bool DemoData { get; set; }

    /// <summary>Where the in-process sandbox listens; port 0 picks a free one (logged at start).</summary>
    public string Url { get; set; } = "http://127.0.0.1:0";

    /// <summary>How the sandbox delivers events to this service: Stream (default) or Http.</summary>
    public string Delivery { get; set; } = nameof(EventDelivery.Stream);

    /// <summary>
    /// Whether the sandbox's corps share one developer account (one unionId per person everywhere). False, the default,
    /// emulates schools that each created their own app: a person's unionId differs from corp to corp.
    /// </summary>
    public bool SharedDeveloperAccount { get; set; }
}
