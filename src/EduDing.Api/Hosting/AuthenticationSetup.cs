using System.Security.Cryptography;
using EduDing.Api.Data;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace EduDing.Api.Hosting;

/// <summary>The key that signs and checks session tokens; one per deployment, shared by every instance.</summary>
internal sealed class TokenSigningKey
{
    public TokenSigningKey(IOptions<AuthOptions> options, ILogger<TokenSigningKey> log)
    {
        var configured = options.Value.SigningKey;
        if (configured.Length > 0)
        {
            Key = new SymmetricSecurityKey(Convert.FromBase64String(configured));
            return;
        }

        log.LogWarning("Auth:SigningKey is not set; using a random key for this process. Sessions end on restart.");
        Key = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
    }

    public SymmetricSecurityKey Key { get; }
}

internal static class AuthenticationSetup
{
    /// <summary>
    /// Bearer session tokens, and a fallback policy so that an endpoint without an explicit policy still demands
    /// a signed-in caller. Every endpoint should nevertheless say what it requires (a test enforces it).
    /// </summary>
    public static IServiceCollection AddEduDingAuthentication(this IServiceCollection services)
    {
        services.AddValidatedOptions<AuthOptions>()
            // On MySQL several instances serve the same users, and each must accept the others' tokens.
            .Validate<IOptions<DatabaseOptions>>(
                (auth, database) => auth.SigningKey.Length > 0 || database.Value.ProviderKind != DatabaseProvider.MySql,
                $"{AuthOptions.Section}:{nameof(AuthOptions.SigningKey)}: is required with Database:Provider=MySql " +
                "(set the environment variable Auth__SigningKey to base64 of 32 random bytes)");
        services.AddSingleton<TokenSigningKey>();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>, TokenSigningKey>((jwt, auth, key) =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = auth.Value.Issuer,
                    ValidAudience = auth.Value.Audience,
                    IssuerSigningKey = key.Key,
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    ClockSkew = TimeSpan.FromSeconds(30),
                    NameClaimType = "sub",
                };
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.SystemAdmin, p => p.RequireAuthenticatedUser().RequireClaim(Policies.RoleClaim, Policies.SystemAdmin))
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder()
                .RequireAuthenticatedUser().Build());
        return services;
    }
}
