using System.Collections.Concurrent;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Identity;

/// <summary>
/// An access token ends with its session: after sign-out, a detected refresh-token reuse or a departure, a token that
/// is still within its 15 minutes is refused. Each session's state is read from the database at most once per
/// Identity:SessionCheckInterval per instance, so a revocation takes effect within seconds at the cost of about one
/// small query per active session and interval. Tokens without a session (operators) are not checked.
/// </summary>
internal sealed class ActiveSessions(IdentityRepository identity, IOptions<IdentityOptions> options, TimeProvider time)
{
    private const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, (bool Active, DateTimeOffset CheckedAt)> _checked = new(StringComparer.Ordinal);

    public async Task<bool> IsActiveAsync(string sessionId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_checked.TryGetValue(sessionId, out var known) && now - known.CheckedAt < options.Value.SessionCheckInterval)
        {
            return known.Active;
        }

        var active = await identity.IsSessionActiveAsync(sessionId, now.UtcDateTime, ct);
        if (_checked.Count >= MaxEntries)
        {
            _checked.Clear();
        }

        _checked[sessionId] = (active, now);
        return active;
    }

    /// <summary>Forgets what this instance knew of a session it just ended, so its own next request is refused at once.</summary>
    public void Forget(string sessionId) => _checked.TryRemove(sessionId, out _);

    /// <summary>Hooks the check into bearer authentication: a token of an ended session fails as if it had expired.</summary>
    public static void Configure(JwtBearerOptions jwt) =>
        jwt.Events = new JwtBearerEvents
        {
            OnTokenValidated = async context =>
            {
                if (context.Principal?.FindFirst(SessionService.SessionClaim)?.Value is { } sessionId &&
                    !await context.HttpContext.RequestServices.GetRequiredService<ActiveSessions>()
                        .IsActiveAsync(sessionId, context.HttpContext.RequestAborted))
                {
                    context.Fail("The session of this token has ended.");
                }
            },
        };
}
