using System.Data.Common;
using Dapper;

namespace EduDing.Api.Data;

/// <summary>
/// INSERT of many rows as a few multi-row statements (both providers accept VALUES (…), (…)): one round trip per
/// chunk where Dapper's list form makes one per row, which is what a 100,000-recipient notice needs on MySQL.
/// </summary>
internal static class MultiRowInsert
{
    /// <summary>Well under SQLite's 32,766 and MySQL's 65,535 parameters per statement.</summary>
    private const int MaxParameters = 30_000;

    public static async Task<int> ExecuteAsync<T>(DbTransaction tx, string table, string[] columns, IReadOnlyList<T> rows,
        Func<T, object?[]> values, CancellationToken ct, string? tail = null)
    {
        var rowsPerStatement = Math.Max(1, Math.Min(1000, MaxParameters / columns.Length));
        var written = 0;
        for (var start = 0; start < rows.Count; start += rowsPerStatement)
        {
            var count = Math.Min(rowsPerStatement, rows.Count - start);
            var parameters = new DynamicParameters();
            var tuples = new string[count];
            for (var r = 0; r < count; r++)
            {
                var row = values(rows[start + r]);
                var names = new string[columns.Length];
                for (var c = 0; c < columns.Length; c++)
                {
                    names[c] = $"@p{r}_{c}";
                    parameters.Add(names[c], row[c]);
                }

                tuples[r] = $"({string.Join(", ", names)})";
            }

            var sql = $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES {string.Join(", ", tuples)} {tail}";
            written += await tx.Connection!.ExecuteAsync(new CommandDefinition(sql, parameters, tx, cancellationToken: ct));
        }

        return written;
    }
}
