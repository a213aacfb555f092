using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;
using System.ComponentModel;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>An outside provider a school whitelisted for its electives (机构白名单): whitelisted or revoked.</summary>
internal sealed record CareProvider(long Id, string CorpId, string Name, string CreditCode, string Contact, string Phone, string? Qualifications,
    [property: CodeValues(typeof(CareProviders))] string Status, DateTime CreatedAt, string CreatedByUserId, DateTime UpdatedAt);

[RequestSchema("name", "creditCode", "contact", "phone")]
internal sealed record ProviderRequest(string? Name, string? CreditCode, string? Contact, string? Phone, string? Qualifications);

/// <summary>
/// Outside providers (docs/after-school.md): a school admin whitelists an organisation by its unified social credit
/// code (统一社会信用代码) with a contact and its qualifications, and may revoke it; an elective may be run by a
/// whitelisted provider's staff, and their hours are counted as outside staff. Every change audited.
/// </summary>
internal sealed class CareProviders(Database db, AccessPolicy access, AuditLog audit, TimeProvider time)
{
    [Description("白名单内")]
    public const string Whitelisted = "whitelisted";
    [Description("已移出白名单")]
    public const string Revoked = "revoked";

    private const string Columns = "id, corp_id, name, credit_code, contact, phone, qualifications, status, created_at, created_by_user_id, updated_at";

    public async Task<CareProvider> WhitelistAsync(Caller caller, string corpId, ProviderRequest request, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school whitelists its after-school providers");
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            errors["name"] = ["is required, at most 100 characters"];
        }

        // 18 characters: digits and capital letters other than I, O, S, V, Z (GB 32100-2015).
        if (request.CreditCode is null || !System.Text.RegularExpressions.Regex.IsMatch(request.CreditCode, "^[0-9A-HJ-NPQRTUWXY]{18}$"))
        {
            errors["creditCode"] = ["must be the 18-character unified social credit code (统一社会信用代码)"];
        }

        if (!PickupPerson.IsValid(new PickupPerson(request.Contact ?? "", "contact", request.Phone ?? "")))
        {
            errors["contact"] = ["a contact name (≤ 50) and phone number are required"];
        }

        if (request.Qualifications is { Length: > 500 })
        {
            errors["qualifications"] = ["at most 500 characters"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var now = time.UtcNowForDatabase();
        await using var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO care_providers (corp_id, name, credit_code, contact, phone, qualifications, status, created_at, created_by_user_id, updated_at)
                VALUES (@corpId, @name, @code, @contact, @phone, @qualifications, 'whitelisted', @now, @by, @now)
                """, new
            {
                corpId, name = request.Name!.Trim(), code = request.CreditCode, contact = request.Contact!.Trim(), phone = request.Phone,
                qualifications = request.Qualifications?.Trim(), now, by = caller.UserIdIn(corpId),
            }, cancellationToken: ct));
        }
        catch (System.Data.Common.DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            throw new ConflictException($"Provider {request.CreditCode} is already on the school's list.", "该机构已在学校的白名单中。", reason: "provider_listed");
        }

        var provider = (await ListAsync(corpId, ct)).Single(p => p.CreditCode == request.CreditCode);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "care.provider.whitelist", corpId, [],
            $"{provider.Name} ({provider.CreditCode})", AuditLog.Allowed, ct);
        return provider;
    }

    public async Task<CareProvider> RevokeAsync(Caller caller, string corpId, long id, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school whitelists its after-school providers");
        await using var connection = await db.OpenConnectionAsync(ct);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE care_providers SET status = 'revoked', updated_at = @now WHERE id = @id AND corp_id = @corpId AND status = 'whitelisted'",
            new { id, corpId, now = time.UtcNowForDatabase() }, cancellationToken: ct));
        var provider = (await ListAsync(corpId, ct)).SingleOrDefault(p => p.Id == id) ?? throw new NotFoundException($"No provider {id} in {corpId}.");
        if (changed == 1)
        {
            await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "care.provider.revoke", corpId, [],
                $"{provider.Name} ({provider.CreditCode})", AuditLog.Allowed, ct);
        }

        return provider;
    }

    public async Task<IReadOnlyList<CareProvider>> ListAsync(string corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CareProvider>(new CommandDefinition(
            $"SELECT {Columns} FROM care_providers WHERE corp_id = @corpId ORDER BY name, id", new { corpId }, cancellationToken: ct))).ToList();
    }
}
