namespace EduDing.DingTalk;

/// <summary>
/// How an app obtains its access token (contract §1, §12). The kind of app decides the request (an internal app's
/// AppKey and AppSecret; later a custom app's key, or a suite's per-corp token from its ticket); the token, its lifetime
/// and everything the client does with it stay the same, so a new kind slots in here without touching any caller.
/// </summary>
public interface IAccessTokenSource
{
    /// <summary>The call that yields a token for <paramref name="app"/>: which API, and its body (made without a token).</summary>
    ValueTask<(DingTalkApi Api, object Body)> TokenRequestAsync(DingTalkApp app, CancellationToken ct);
}

/// <summary>An internal app (企业内部应用): <c>POST v1.0/oauth2/accessToken {appKey, appSecret}</c> (§1a).</summary>
public sealed class InternalAppTokenSource : IAccessTokenSource
{
    public ValueTask<(DingTalkApi Api, object Body)> TokenRequestAsync(DingTalkApp app, CancellationToken ct) =>
        ValueTask.FromResult<(DingTalkApi, object)>((DingTalkApis.AccessToken, new { appKey = app.AppKey, appSecret = app.AppSecret }));
}
