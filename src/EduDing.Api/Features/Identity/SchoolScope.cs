using System.Security.Claims;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Identity;

internal static class SchoolScope
{
    /// <summary>
    /// The caller, when they administer the school <paramref name="corpId"/>: 404 for a corp that is not a school here,
    /// 403 (saying <paramref name="why"/> it is the school's decision) for anyone else.
    /// </summary>
    public static async Task<Caller> RequireAdminAsync(string corpId, ClaimsPrincipal user, IdentityRepository identity, CorpDirectory corps,
        string why, CancellationToken ct)
    {
        if (corps.Get(corpId).Kind != CorpKind.School)
        {
            throw new NotFoundException($"Corp {corpId} is not a school.");
        }

        var caller = await Caller.FromAsync(user, identity, ct);
        return caller.Has("school-admin", corpId) ? caller : throw new ForbiddenException($"Missing scope: admin of this school ({why}).");
    }
}
