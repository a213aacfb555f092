using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using EduDing.DingTalk;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EduDing.Api.Features.Identity;

internal sealed record SignedIn(string AccessToken, DateTime AccessTokenExpiresAt, string RefreshToken, DateTime SessionExpiresAt,
    IReadOnlyList<RoleGrant> Roles);

/// <summary>
/// Sign-in through DingTalk's 免登 code, and the session that follows: a short-lived signed access token listing the
/// person's roles, and a refresh token ("{session}.{secret}") whose secret rotates on every use. Roles are derived
/// again at each refresh, so a teacher who left a class loses it within one access-token lifetime.
/// </summary>
internal sealed class SessionService(DingTalkClient client, CorpDirectory corps, IdentityRepository identity, OrgDirectory directory, TokenSigningKey key,
    IOptions<AuthOptions> auth, IOptions<IdentityOptions> options, TimeProvider time, ILogger<SessionService> log)
{
    public const string SessionClaim = "sid";
    public const string CorpClaim = "corp";
    public const string UserClaim = "uid";

    /// <summary>
    /// The account a 免登 code proves, within Identity:SignInDeadline: 400 for a corp not served (naming
    /// <paramref name="corpField"/>), 401 for a used or expired code, 403 for someone not in the synced organization,
    /// 503 when DingTalk does not answer.
    /// </summary>
    public async Task<Account> VerifyCodeAsync(string corpId, string authCode, string corpField, CancellationToken ct)
    {
        var corp = corps.Find(corpId)
                   ?? throw new RequestValidationException(corpField, $"corp {corpId} is not served by this deployment");
        string userId;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.Value.SignInDeadline);
        try
        {
            userId = (await client.GetUserInfoAsync(corp.App, authCode, deadline.Token)).UserId;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException
                                   || (ex is OperationCanceledException && !ct.IsCancellationRequested)
                                   // A connection cut mid-reply reads as an empty or unreadable answer: DingTalk is not answering.
                                   || ex is DingTalkException { Code: "EmptyReply" } or DingTalkException { HttpStatus: >= 500 })
        {
            log.LogWarning("Sign-in to {CorpId} could not reach DingTalk: {Reason}", corpId, ex.Message);
            throw new DependencyUnavailableException("DingTalk is not answering; try again shortly.", ex);
        }
        catch (DingTalkException ex) when (ex.ErrCode == 40078)
        {
            throw new AuthenticationFailedException(
                $"DingTalk refused the code: {ex.DingTalkMessage} ({ex.Code}). A code works once and for 5 minutes; ask dd.getAuthCode for a new one.",
                "登录码已失效，请重新打开应用。");
        }
        catch (DingTalkException ex) when (ex.Kind is DingTalkErrorKind.Busy or DingTalkErrorKind.GlobalQps or DingTalkErrorKind.AppQps
                                               || ex is DingTalkIpBannedException)
        {
            throw new DependencyUnavailableException("DingTalk is not answering; try again shortly.", ex);
        }

        return await directory.FindAccountAsync(corpId, userId, ct)
               ?? throw new ForbiddenException(
                   $"DingTalk user {userId} is not in the synced organization of {corp.Name}: not staff, and not a guardian " +
                   "of any class. If they joined just now, the next sync adds them.",
                   $"您还不在{corp.Name}的通讯录中（既不是教职工，也不是任何班级的家长）。如刚刚加入，请稍后再试。");
    }

    public async Task<SignedIn> SignInAsync(string corpId, string authCode, CancellationToken ct)
    {
        var account = await VerifyCodeAsync(corpId, authCode, "corpId", ct);
        var now = time.UtcNowForDatabase();
        var secret = NewSecret();
        var session = new Session(Guid.NewGuid().ToString("N"), Hash(secret), account.CorpId, account.UserId, account.UnionId, now, now,
            now + options.Value.SessionLifetime, null);
        await identity.CreateSessionAsync(session, ct);
        log.LogInformation("{UserId} of {CorpId} signed in (session {SessionId})", account.UserId, account.CorpId, session.Id);
        return await IssueAsync(account, session.Id, secret, session.ExpiresAt, ct);
    }

    public async Task<SignedIn> RefreshAsync(string refreshToken, CancellationToken ct)
    {
        var parts = refreshToken.Split('.', 2);
        var session = parts.Length == 2 ? await identity.FindSessionAsync(parts[0], ct) : null;
        var now = time.UtcNowForDatabase();
        if (session is null || session.RevokedAt is not null || session.ExpiresAt <= now)
        {
            throw new AuthenticationFailedException("The session has ended; sign in again.");
        }

        var presented = Hash(parts[1]);
        if (!SameHash(presented, session.RefreshHash))
        {
            if (session.PreviousRefreshHash is { } previous && SameHash(presented, previous))
            {
                // The secret before the last rotation: someone kept a copy. End the session for everyone holding it.
                await identity.RevokeAsync(session.Id, "refresh token reused", now, ct);
                log.LogWarning("A used refresh token was presented for session {SessionId}; the session is revoked", session.Id);
                throw new AuthenticationFailedException("This refresh token was already used; the session has ended. Sign in again.", "登录已失效（在别处刷新过），请重新打开应用。");
            }

            // A secret this session never had proves nothing about its holder: refuse it, and leave the session alone.
            throw new AuthenticationFailedException("The session has ended; sign in again.");
        }

        var account = await directory.FindAccountAsync(session.CorpId, session.UserId, ct);
        if (account is null)
        {
            await identity.RevokeAsync(session.Id, "left the organization", now, ct);
            throw new AuthenticationFailedException("You are no longer in the synced organization; the session has ended.", "您已不在学校或教育局的通讯录中，登录已结束。");
        }

        var secret = NewSecret();
        var expiresAt = now + options.Value.SessionLifetime;
        if (!await identity.RotateAsync(session.Id, presented, Hash(secret), now, expiresAt, ct))
        {
            throw new AuthenticationFailedException("The session was refreshed at the same moment elsewhere; sign in again.", "登录已失效，请重新打开应用。");
        }

        return await IssueAsync(account, session.Id, secret, expiresAt, ct);
    }

    public Task SignOutAsync(string sessionId, CancellationToken ct) =>
        identity.RevokeAsync(sessionId, "signed out", time.UtcNowForDatabase(), ct);

    private async Task<SignedIn> IssueAsync(Account account, string sessionId, string secret, DateTime sessionExpiresAt, CancellationToken ct)
    {
        var identities = await identity.IdentitiesAsync(account, ct);
        var roles = await identity.RolesAsync(identities, options.Value, ct);
        var now = time.GetUtcNow().UtcDateTime;
        var expires = now + options.Value.AccessTokenLifetime;
        var claims = new List<Claim>
        {
            new("sub", $"{account.CorpId}:{account.UserId}"),
            new(CorpClaim, account.CorpId),
            new(UserClaim, account.UserId),
            new(SessionClaim, sessionId),
        };
        // Operating the deployment is not held in one corp: that claim is the bare role the system-admin policy asks for.
        claims.AddRange(roles.Select(r => r.Claim).Distinct()
            .Select(role => new Claim(Policies.RoleClaim, role)));
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = auth.Value.Issuer,
            Audience = auth.Value.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = expires,
            SigningCredentials = new SigningCredentials(key.Key, SecurityAlgorithms.HmacSha256),
        });
        return new SignedIn(token, expires, $"{sessionId}.{secret}", sessionExpiresAt, roles);
    }

    private static bool SameHash(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    private static string NewSecret() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
