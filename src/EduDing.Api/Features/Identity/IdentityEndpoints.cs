using System.Security.Claims;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EduDing.Api.Features.Identity;

[RequestSchema("corpId", "authCode")]
internal sealed record DingTalkSignInRequest(string? CorpId, string? AuthCode);

[RequestSchema("refreshToken")]
internal sealed record RefreshRequest(string? RefreshToken);

internal sealed record RoleDto([property: CodeValues(typeof(Roles))] string Role, string CorpId);

internal sealed record SignedInDto(string AccessToken, DateTime AccessTokenExpiresAt, string RefreshToken, DateTime SessionExpiresAt,
    IReadOnlyList<RoleDto> Roles)
{
    public static SignedInDto From(SignedIn s) => new(s.AccessToken, s.AccessTokenExpiresAt, s.RefreshToken, s.SessionExpiresAt,
        s.Roles.Select(r => new RoleDto(r.Role, r.CorpId)).ToList());
}

internal sealed record MeRoleDto([property: CodeValues(typeof(Roles))] string Role, string CorpId, string CorpName);

internal sealed record MeClassDto(string CorpId, long ClassId, string ClassName, bool IsAdviser);

internal sealed record MeChildDto(string CorpId, string StudentUserId, string Name, string? StudentNumber, long ClassId, string ClassName,
    string RelationCode);

internal sealed record MeDto(string CorpId, string UserId, string Name, string? UnionId, IReadOnlyList<MeRoleDto> Roles,
    IReadOnlyList<MeRoleDto> Schools, IReadOnlyList<MeClassDto> ClassesTaught, IReadOnlyList<MeChildDto> Children);

internal static class IdentityEndpoints
{
    public static IServiceCollection AddIdentity(this IServiceCollection services)
    {
        services.AddValidatedOptions<IdentityOptions>();
        services.AddSingleton<IdentityRepository>();
        services.AddSingleton<SessionService>();
        services.AddSingleton<ActiveSessions>();
        services.AddOptions<Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerOptions>(
            Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerDefaults.AuthenticationScheme).Configure(ActiveSessions.Configure);
        services.TryAddSingleton<AuditLog>();
        services.AddValidatedOptions<AuditOptions>();
        services.AddSingleton<AuditChainVerifier>();
        services.AddSingleton<AccessGrantRepository>();
        services.AddSingleton<AccessPolicy>();
        return services;
    }

    public static IEndpointRouteBuilder MapIdentityEndpoints(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Auth");
        // Sign-in and refresh are how a caller gets a token, so they cannot require one.
        auth.MapPost("/dingtalk", SignInAsync).RequireAudience(Audience.Anonymous).WithName("Auth_SignInWithDingTalk");
        auth.MapPost("/refresh", RefreshAsync).RequireAudience(Audience.Anonymous).WithName("Auth_Refresh");
        auth.MapPost("/sign-out", SignOutAsync).RequireAudience(Audience.SignedIn).WithName("Auth_SignOut");
        app.MapGet("/api/me", GetMeAsync).RequireAudience(Audience.Person).WithTags("Me").RequireAudience(Audience.Person).WithName("Me_Get");
        app.MapAuditEndpoints();
        app.MapAccessGrantEndpoints();
        app.MapPersonLinkEndpoints();
        return app;
    }

    /// <summary>Exchanges the mini-app's dd.getAuthCode code for a session. 401 for a used or expired code, 403 for someone not in the org.</summary>
    private static async Task<Ok<SignedInDto>> SignInAsync(DingTalkSignInRequest request, SessionService sessions, CancellationToken ct)
    {
        RequireCode(request.CorpId, request.AuthCode);
        return TypedResults.Ok(SignedInDto.From(await sessions.SignInAsync(request.CorpId!, request.AuthCode!, ct)));
    }

    /// <summary>A 免登 code and the corp whose app gave it: both required, or a 400 naming what is missing.</summary>
    internal static void RequireCode(string? corpId, string? authCode)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(corpId))
        {
            errors["corpId"] = ["is required: the corp whose app gave the code"];
        }

        if (string.IsNullOrWhiteSpace(authCode))
        {
            errors["authCode"] = ["is required (from dd.getAuthCode in that corp's mini-app)"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }
    }

    private static async Task<Ok<SignedInDto>> RefreshAsync(RefreshRequest request, SessionService sessions, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.RefreshToken))
        {
            throw new RequestValidationException("refreshToken", "is required");
        }

        return TypedResults.Ok(SignedInDto.From(await sessions.RefreshAsync(request.RefreshToken, ct)));
    }

    private static async Task<NoContent> SignOutAsync(ClaimsPrincipal user, SessionService sessions, ActiveSessions active,
        CancellationToken ct)
    {
        if (user.FindFirstValue(SessionService.SessionClaim) is { } sessionId)
        {
            await sessions.SignOutAsync(sessionId, ct);
            active.Forget(sessionId);
        }

        return TypedResults.NoContent();
    }

    /// <summary>Who the caller is: profile, roles per corp, schools, classes taught and (for guardians) their children.</summary>
    private static async Task<Ok<MeDto>> GetMeAsync(Caller caller, IdentityRepository identity, OrgDirectory directory, CorpDirectory corps,
        Microsoft.Extensions.Options.IOptions<IdentityOptions> options, CancellationToken ct)
    {
        var account = caller.Account;
        var identities = caller.Identities;
        var roles = await identity.RolesAsync(identities, options.Value, ct);
        string CorpName(string id) => corps.Find(id)?.Name ?? id;
        var schools = roles.Select(r => r.CorpId).Distinct().Where(id => corps.Find(id)?.Kind == CorpKind.School)
            .Select(id => new MeRoleDto("school", id, CorpName(id))).ToList();
        return TypedResults.Ok(new MeDto(account.CorpId, account.UserId, account.Name, account.UnionId,
            roles.Select(r => new MeRoleDto(r.Role, r.CorpId, CorpName(r.CorpId))).ToList(),
            schools,
            (await directory.ClassesTaughtAsync(identities, ct)).Select(c => new MeClassDto(c.CorpId, c.ClassId, c.ClassName, c.IsAdviser)).ToList(),
            (await directory.ChildrenAsync(identities, ct)).Select(c => new MeChildDto(c.CorpId, c.StudentUserId, c.Name, c.StudentNumber,
                c.ClassId, c.ClassName, c.RelationCode)).ToList()));
    }
}
