using System.ComponentModel;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Vision;

/// <summary>
/// One finished xlsx import of screening records, as operators see it: what came in and what it did, never its rows or
/// problems (they name children, which operators are not entitled to see).
/// </summary>
/// <summary>What an import does with a file that has bad rows: stores nothing, or stores the valid rows.</summary>
internal static class VisionImportMode
{
    [Description("有错误则整份不导入")]
    public const string Reject = "reject";
    [Description("导入无误的行")]
    public const string ImportValid = "import-valid";
}

internal sealed record VisionImportOpsDto(long Id, long RoundId, string CorpId, string FileName, string FileSha256,
    [property: CodeValues(typeof(VisionImportMode))] string Mode, int TotalRows,
    int BadRows, int Created, int Updated, int Unchanged, string ImportedByUserId, DateTime ImportedAt);

/// <summary>The imports of screening records, newest first, for operators (system-admin).</summary>
internal static class VisionImportsOps
{
    /// <summary>
    /// The screening imports, newest first, optionally of one school. An import runs within its upload request and is
    /// listed once it has finished (docs/operations.md).
    /// </summary>
    public static async Task<Ok<Paged<VisionImportOpsDto>>> ListAsync(string? corpId, int? page, int? pageSize, Database db, CancellationToken ct)
    {
        var request = PageRequest.From(page, pageSize);
        var filter = corpId is null ? "1 = 1" : "corp_id = @corpId";
        await using var connection = await db.OpenConnectionAsync(ct);
        var items = (await connection.QueryAsync<VisionImportOpsDto>(new CommandDefinition($"""
            SELECT id, round_id, corp_id, file_name, file_sha256, mode, total_rows, bad_rows, created, updated, unchanged,
                   imported_by_user_id, imported_at
            FROM vision_imports WHERE {filter} ORDER BY id DESC LIMIT @take OFFSET @skip
            """, new { corpId, take = request.PageSize, skip = request.Skip }, cancellationToken: ct))).ToList();
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT COUNT(*) FROM vision_imports WHERE {filter}", new { corpId }, cancellationToken: ct));
        return TypedResults.Ok(new Paged<VisionImportOpsDto>(items, request.Page, request.PageSize, total));
    }
}
