using System.Security.Claims;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Identity;

/// <summary>
/// The signed-in person making a request: their account, the same person in other corps, and their roles
/// (<see cref="Roles"/>). A handler takes it as a parameter; binding it answers 403 for a token that belongs to no
/// person of the synced organizations (an operator token).
/// </summary>
internal sealed record Caller(Account Account, IReadOnlyList<(string CorpId, string UserId)> Identities, IReadOnlySet<string> Roles)
{
    public bool Has(string role, string corpId) => Roles.Contains($"{role}@{corpId}");

    public bool HasAnywhere(string role) => Roles.Any(r => r.StartsWith(role + "@", StringComparison.Ordinal));

    /// <summary>The corps where the caller holds <paramref name="role"/>.</summary>
    public IReadOnlyList<string> CorpsWith(string role) =>
        Roles.Where(r => r.StartsWith(role + "@", StringComparison.Ordinal)).Select(r => r[(role.Length + 1)..]).ToList();

    /// <summary>The caller's userid in <paramref name="corpId"/> (the same person across corps has one per corp).</summary>
    public string UserIdIn(string corpId) => Identities.FirstOrDefault(i => i.CorpId == corpId).UserId ?? Account.UserId;

    /// <summary>Minimal APIs bind a <see cref="Caller"/> parameter through this.</summary>
    public static async ValueTask<Caller?> BindAsync(HttpContext context) =>
        await FromAsync(context.User, context.RequestServices.GetRequiredService<OrgDirectory>(),
            context.RequestServices.GetRequiredService<IdentityRepository>(), context.RequestAborted);

    /// <summary>The caller, or 403 when the token belongs to no person of the synced organizations (an operator token).</summary>
    public static async Task<Caller> FromAsync(ClaimsPrincipal user, OrgDirectory directory, IdentityRepository identity, CancellationToken ct)
    {
        var corpId = user.FindFirstValue(SessionService.CorpClaim);
        var userId = user.FindFirstValue(SessionService.UserClaim);
        var account = corpId is null || userId is null ? null : await directory.FindAccountAsync(corpId, userId, ct);
        if (account is null)
        {
            throw new ForbiddenException("This token does not belong to a person in the synced organizations.", "您不在已同步的学校或教育局通讯录中。");
        }

        return new Caller(account, await identity.IdentitiesAsync(account, ct),
            user.FindAll(Policies.RoleClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal));
    }
}
