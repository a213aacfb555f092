using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EduDing.DingTalk;

/// <summary>
/// Access tokens per app (v1.0 oauth2/accessToken, §1): cached, refreshed ahead of expiry, one refresh at a time per
/// app (callers share the one in flight), and dropped when DingTalk says a token is no longer valid. If a refresh fails while the cached token has not
/// yet expired, the cached token keeps serving.
/// </summary>
internal sealed class AccessTokenCache(
    Func<DingTalkApp, CancellationToken, Task<AccessTokenCache.AccessTokenResponse>> fetch,
    IOptions<DingTalkClientOptions> options, TimeProvider time, ILogger<AccessTokenCache> log)
{
    // A token is never cached for less than this, so that a zero or tiny expireIn cannot cause a refetch loop.
    private static readonly TimeSpan MinimumLifetime = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, Entry> _entries = new();

    public async ValueTask<string> GetAsync(DingTalkApp app, CancellationToken ct)
    {
        var entry = _entries.GetOrAdd(app.AppKey, _ => new Entry());
        var current = entry.Current;
        if (current is not null && time.GetUtcNow() < current.RefreshAt)
        {
            return current.Token;
        }

        // Single flight: every caller of this app waits on the same fetch, each only as long as its own token allows.
        // The fetch itself is bounded by the transport's request timeout and belongs to no caller, so one caller giving
        // up cancels nothing for the others, and callers of other apps never wait on it.
        Task<string> refresh;
        lock (entry)
        {
            refresh = entry.Refresh ??= RefreshAsync(app, entry);
        }

        return await refresh.WaitAsync(ct);
    }

    private async Task<string> RefreshAsync(DingTalkApp app, Entry entry)
    {
        await Task.Yield();
        var current = entry.Current;
        var now = time.GetUtcNow();
        try
        {
            if (current is not null && now < current.RefreshAt)
            {
                return current.Token;
            }

            var response = await fetch(app, CancellationToken.None);
            var lifetime = TimeSpan.FromSeconds(Math.Max(response.ExpireIn, MinimumLifetime.TotalSeconds));
            var margin = options.Value.TokenRefreshMargin < lifetime / 2 ? options.Value.TokenRefreshMargin : lifetime / 2;
            entry.Current = new CachedToken(response.AccessToken, now + lifetime, now + lifetime - margin);
            Interlocked.Increment(ref entry.Fetches);
            return response.AccessToken;
        }
        catch (Exception ex) when (current is not null && now < current.ExpiresAt)
        {
            log.LogWarning("Refreshing the access token of {App} failed ({Reason}); the cached one is valid until {ExpiresAt}",
                app, ex.Message, current.ExpiresAt);
            return current.Token;
        }
        finally
        {
            lock (entry)
            {
                entry.Refresh = null;
            }
        }
    }

    /// <summary>Drops <paramref name="token"/> if it is still the cached one (another caller may have refreshed it).</summary>
    public void Invalidate(DingTalkApp app, string token)
    {
        if (_entries.TryGetValue(app.AppKey, out var entry) && entry.Current?.Token == token)
        {
            entry.Current = null;
        }
    }

    /// <summary>How many tokens were fetched for the app (for tests of the single flight).</summary>
    public int FetchCount(DingTalkApp app) => _entries.TryGetValue(app.AppKey, out var e) ? e.Fetches : 0;

    private sealed record CachedToken(string Token, DateTimeOffset ExpiresAt, DateTimeOffset RefreshAt);

    private sealed class Entry
    {
        public volatile CachedToken? Current;
        public Task<string>? Refresh;
        public int Fetches;
    }

    internal sealed record AccessTokenResponse(string AccessToken, long ExpireIn);
}
