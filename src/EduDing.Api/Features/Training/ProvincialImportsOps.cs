using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Training;

/// <summary>One finished import of the provincial platform's export, as operators see it: what came in and what it did.</summary>
internal sealed record ProvincialImportOpsDto(long Id, string CorpId, string FileName, string FileSha256, int TotalRows, int GoodRows,
    int Created, int Updated, int Unchanged, int Superseded, string ImportedByCorpId, string ImportedByUserId, DateTime ImportedAt);

/// <summary>The provincial imports, newest first, for operators (system-admin).</summary>
internal static class ProvincialImportsOps
{
    /// <summary>
    /// The provincial platform imports, newest first, optionally of one corp (a school, or the bureau for the city's file).
    /// An import runs within its upload request and is listed once it has stored its rows (docs/operations.md).
    /// </summary>
    public static async Task<Ok<Paged<ProvincialImportOpsDto>>> ListAsync(string? corpId, int? page, int? pageSize, Database db,
        CancellationToken ct)
    {
        var request = PageRequest.From(page, pageSize);
        var filter = corpId is null ? "1 = 1" : "corp_id = @corpId";
        await using var connection = await db.OpenConnectionAsync(ct);
        var items = (await connection.QueryAsync<ProvincialImportOpsDto>(new CommandDefinition($"""
            SELECT id, corp_id, file_name, file_sha256, total_rows, good_rows, created, updated, unchanged, superseded,
                   imported_by_corp_id, imported_by_user_id, imported_at
            FROM training_imports WHERE {filter} ORDER BY id DESC LIMIT @take OFFSET @skip
            """, new { corpId, take = request.PageSize, skip = request.Skip }, cancellationToken: ct))).ToList();
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT COUNT(*) FROM training_imports WHERE {filter}", new { corpId }, cancellationToken: ct));
        return TypedResults.Ok(new Paged<ProvincialImportOpsDto>(items, request.Page, request.PageSize, total));
    }
}
