using EduDing.DingTalk;
using EduDing.DingTalk.Callbacks;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.DingTalk;

/// <summary>
/// A served corp: its app, how its events arrive, its own mini-app (null: Notices:MiniAppId), and the unionId space it
/// shares with other corps (their apps belong to one developer account); docs/deployment-models.md.
/// </summary>
internal sealed record CorpConfig(string CorpId, CorpKind Kind, string Name, DingTalkApp App, EventDelivery Delivery,
    string CallbackToken, string CallbackAesKey, string? MiniAppId = null, string? UnionIdSpace = null, string Edition = "standard")
{
    /// <summary>This corp's monthly DingTalk push quota by its edition.</summary>
    public DingTalkEditions Quotas => DingTalkEditions.For(Edition) ?? DingTalkEditions.Standard;

    /// <summary>Corps with the same space see one person with one unionId; a corp without one shares it with nobody.</summary>
    public string Space => string.IsNullOrWhiteSpace(UnionIdSpace) ? "corp:" + CorpId : UnionIdSpace;

    public DingTalkCallbackCrypto Crypto() => new(CallbackToken, CallbackAesKey, App.AppKey);
}

/// <summary>The corps this deployment serves: from configuration, or the sandbox's when none are configured.</summary>
internal sealed class CorpDirectory(IOptions<DingTalkOptions> options, SandboxHost sandbox)
{
    private IReadOnlyList<CorpConfig>? _corps;

    public IReadOnlyList<CorpConfig> All => _corps ??= Load();

    public CorpConfig? Find(string corpId) => All.FirstOrDefault(c => c.CorpId == corpId);

    /// <summary>The corps whose apps share a unionId space with <paramref name="corpId"/> (itself included).</summary>
    public IReadOnlyList<string> SameUnionIdSpace(string corpId) =>
        Find(corpId) is { } corp ? All.Where(c => c.Space == corp.Space).Select(c => c.CorpId).ToList() : [corpId];

    public CorpConfig Get(string corpId) =>
        Find(corpId) ?? throw new Hosting.NotFoundException($"Corp {corpId} is not served by this deployment.");

    private IReadOnlyList<CorpConfig> Load()
    {
        var o = options.Value;
        if (!o.UseSandbox)
        {
            return o.Corps.Select(c => new CorpConfig(c.CorpId, Enum.Parse<CorpKind>(c.Kind, true), c.Name.Length > 0 ? c.Name : c.CorpId,
                new DingTalkApp(c.CorpId, c.AppKey, c.AppSecret, c.AgentId), Enum.Parse<EventDelivery>(c.Delivery, true),
                c.CallbackToken, c.CallbackAesKey, string.IsNullOrWhiteSpace(c.MiniAppId) ? null : c.MiniAppId.Trim(),
                string.IsNullOrWhiteSpace(c.UnionIdSpace) ? null : c.UnionIdSpace.Trim(), c.Edition)).ToList();
        }

        var delivery = Enum.Parse<EventDelivery>(o.Sandbox.Delivery, true);
        return sandbox.Sandbox.World.Corps.Select(c => new CorpConfig(c.CorpId,
            c.Kind == EduDing.DingTalk.Sandbox.Model.CorpKind.Bureau ? CorpKind.Bureau : CorpKind.School, c.Name, c.App,
            delivery, c.CallbackToken, c.CallbackAesKey, c.MiniAppId, o.Sandbox.SharedDeveloperAccount ? "sandbox" : null)).ToList();
    }
}
