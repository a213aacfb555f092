namespace EduDing.DingTalk;

/// <summary>
/// One enterprise internal app in one corp: what every call is made as. AppKey is also the Client ID, AppSecret the
/// Client Secret, AgentId the id work notices are sent with.
/// </summary>
public sealed record DingTalkApp(string CorpId, string AppKey, string AppSecret, long AgentId)
{
    public override string ToString() => $"{CorpId}/{AppKey}";
}
