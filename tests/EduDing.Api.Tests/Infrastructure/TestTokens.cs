using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EduDing.Api.Tests.Infrastructure;

/// <summary>Session tokens signed the way the service checks them, and deliberately wrong ones.</summary>
public static class TestTokens
{
    public static string SystemAdmin() => Create("operator", role: "system-admin");

    /// <summary>A session token of a person of the mirror with the given roles ("school-admin@corp"), as sign-in would issue.</summary>
    public static string Person(string corpId, string userId, params string[] roles)
    {
        var now = DateTime.UtcNow;
        var claims = new List<Claim> { new("sub", $"{corpId}:{userId}"), new("corp", corpId), new("uid", userId) };
        claims.AddRange(roles.Select(r => new Claim("role", r)));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = "eduding",
            Audience = "eduding-miniapp",
            IssuedAt = now.AddMinutes(-1),
            NotBefore = now.AddMinutes(-1),
            Expires = now.AddMinutes(30),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(SigningKeyBase64)), SecurityAlgorithms.HmacSha256),
        });
    }

    public const string SigningKeyBase64 = "ZWR1ZGluZy10ZXN0cy1zaWduaW5nLWtleS0zMi1ieXRlcyE=";

    /// <summary>The master key (id test1) every test's service and database share, so that two instances read each other's values.</summary>
    public const string MasterKeyBase64 = "ZWR1ZGluZy10ZXN0cy1tYXN0ZXIta2V5LTMyYnl0ZXM=";

    public static string Create(string subject = "test-user", string issuer = "eduding",
        string audience = "eduding-miniapp", DateTime? expires = null, string signingKeyBase64 = SigningKeyBase64,
        string? role = null)
    {
        var now = DateTime.UtcNow;
        var notBefore = expires is { } e && e < now ? e.AddMinutes(-10) : now.AddMinutes(-1);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(role is null ? [new Claim("sub", subject)] : [new Claim("sub", subject), new Claim("role", role)]),
            Issuer = issuer,
            Audience = audience,
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires ?? now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Convert.FromBase64String(signingKeyBase64)), SecurityAlgorithms.HmacSha256),
        });
    }
}
