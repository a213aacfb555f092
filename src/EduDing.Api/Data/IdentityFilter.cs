using Dapper;

namespace EduDing.Api.Data;

/// <summary>
/// "Any of one person's accounts": <c>(corp = @c0 AND user = @u0) OR …</c> over the given columns, with its parameters;
/// <c>1 = 0</c> for no accounts.
/// </summary>
internal static class IdentityFilter
{
    public static (string Sql, DynamicParameters Args) Of(IReadOnlyList<(string CorpId, string UserId)> identities, string corpColumn,
        string userColumn, DynamicParameters? args = null)
    {
        args ??= new DynamicParameters();
        var parts = new List<string>();
        for (var i = 0; i < identities.Count; i++)
        {
            parts.Add($"({corpColumn} = @ic{i} AND {userColumn} = @iu{i})");
            args.Add($"ic{i}", identities[i].CorpId);
            args.Add($"iu{i}", identities[i].UserId);
        }

        return (parts.Count == 0 ? "1 = 0" : string.Join(" OR ", parts), args);
    }
}
