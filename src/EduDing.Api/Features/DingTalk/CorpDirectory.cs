using EduDing.DingTalk;
using EduDing.DingTalk.Callbacks;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.DingTalk;

/// <summary>A served corp: its app, how its events arrive, and its own mini-app (null: Notices:MiniAppId).</summary>
internal sealed record CorpConfig(string CorpId, CorpKind Kind, string Name, DingTalkApp App, EventDelivery Delivery,
    string CallbackToken, string CallbackAesKey, string? MiniAppId = null)
{
    public DingTalkCallbackCrypto Crypto() => new(CallbackToken, CallbackAesKey, App.AppKey);
}

/// <summary>The corps this deployment serves: from configuration, or the sandbox's when none are configured.</summary>
internal sealed class CorpDirectory(IOptions<DingTalkOptions> options, SandboxHost sandbox)
{
    private IReadOnlyList<CorpConfig>? _corps;

    public IReadOnlyList<CorpConfig> All => _corps ??= Load();

    public CorpConfig? Find(string corpId) => All.FirstOrDefault(c => c.CorpId == corpId);

    public CorpConfig Get(string corpId) =>
        Find(corpId) ?? throw new Hosting.NotFoundException($"Corp {corpId} is not served by this deployment.");

    private IReadOnlyList<CorpConfig> Load()
    {
        var o = options.Value;
        if (!o.UseSandbox)
        {
            return o.Corps.Select(c => new CorpConfig(c.CorpId, Enum.Parse<CorpKind>(c.Kind, true), c.Name.Length > 0 ? c.Name : c.CorpId,
                new DingTalkApp(c.CorpId, c.AppKey, c.AppSecret, c.AgentId), Enum.Parse<EventDelivery>(c.Delivery, true),
                c.CallbackToken, c.CallbackAesKey, string.IsNullOrWhiteSpace(c.MiniAppId) ? null : c.MiniAppId.Trim())).ToList();
        }

        var delivery = Enum.Parse<EventDelivery>(o.Sandbox.Delivery, true);
        return sandbox.Sandbox.World.Corps.Select(c => new CorpConfig(c.CorpId,
            c.Kind == EduDing.DingTalk.Sandbox.Model.CorpKind.Bureau ? CorpKind.Bureau : CorpKind.School, c.Name, c.App,
            delivery, c.CallbackToken, c.CallbackAesKey, c.MiniAppId)).ToList();
    }
}
