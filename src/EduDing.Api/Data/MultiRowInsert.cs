using System.Data;
using System.Data.Common;

namespace EduDing.Api.Data;

/// <summary>
/// INSERT of many rows as multi-row statements (both providers accept VALUES (…), (…)): one round trip per chunk where
/// Dapper's list form makes one per row, which a 100,000-recipient notice or a 100,000-row import needs on MySQL.
/// Parameters are built directly: Dapper looks each name up in the command's collection, which is a list scan on
/// SQLite and made large statements quadratic.
/// </summary>
internal static class MultiRowInsert
{
    /// <summary>
    /// Inserts <paramref name="rows"/> into <paramref name="columns"/> of <paramref name="table"/>, as many per statement as
    /// the provider's parameter limit allows; <paramref name="shared"/> are values the same for every row (a source, a
    /// status, who and when), bound once per statement. The number of rows written.
    /// </summary>
    public static async Task<int> ExecuteAsync<T>(DbTransaction tx, SqlDialect dialect, string table, string[] columns,
        IReadOnlyList<T> rows, Func<T, object?[]> values, CancellationToken ct, string? tail = null,
        IReadOnlyList<(string Column, object? Value)>? shared = null)
    {
        shared ??= [];
        var rowsPerStatement = Math.Max(1, Math.Min(1000, (dialect.MaxParametersPerStatement - shared.Count) / columns.Length));
        var written = 0;
        Task<int>? running = null;
        try
        {
            for (var start = 0; start < rows.Count; start += rowsPerStatement)
            {
                // The next statement is built while the server stores the previous one (on MySQL the execution awaits the
                // server; SQLite's completes before it returns): the values, their sealing and the parameters cost as much
                // as the insert itself.
                var command = Statement(tx, table, columns, rows, start, Math.Min(rowsPerStatement, rows.Count - start), values, tail, shared);
                if (running is not null)
                {
                    written += await running;
                    running = null;
                }

                running = ExecuteAndDisposeAsync(command, ct);
            }

            if (running is not null)
            {
                written += await running;
                running = null;
            }
        }
        finally
        {
            // A statement may still run when building the next one failed: the connection is not free until it ends,
            // and the failure already on its way out is the one to report.
            if (running is not null)
            {
                await running.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }

        return written;
    }

    private static DbCommand Statement<T>(DbTransaction tx, string table, string[] columns, IReadOnlyList<T> rows, int start, int count,
        Func<T, object?[]> values, string? tail, IReadOnlyList<(string Column, object? Value)> shared)
    {
        var command = tx.Connection!.CreateCommand();
        try
        {
            command.Transaction = tx;
            for (var i = 0; i < shared.Count; i++)
            {
                command.Parameters.Add(Parameter(command, $"@s{i}", shared[i].Value));
            }

            var sharedNames = string.Concat(shared.Select((_, i) => $", @s{i}"));
            var tuples = new string[count];
            var names = new string[columns.Length];
            for (var r = 0; r < count; r++)
            {
                var row = values(rows[start + r]);
                for (var c = 0; c < columns.Length; c++)
                {
                    names[c] = $"@p{(r * columns.Length) + c}";
                    command.Parameters.Add(Parameter(command, names[c], row[c]));
                }

                tuples[r] = $"({string.Join(", ", names)}{sharedNames})";
            }

            var allColumns = columns.Concat(shared.Select(s => s.Column));
            command.CommandText = $"INSERT INTO {table} ({string.Join(", ", allColumns)}) VALUES {string.Join(", ", tuples)} {tail}";
            return command;
        }
        catch
        {
            command.Dispose();
            throw;
        }
    }

    private static async Task<int> ExecuteAndDisposeAsync(DbCommand command, CancellationToken ct)
    {
        await using (command)
        {
            return await command.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>As the Dapper type handlers bind them: instants as UTC, dates as dates, null as DBNull.</summary>
    private static DbParameter Parameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        switch (value)
        {
            case null:
                parameter.Value = DBNull.Value;
                break;
            case DateTime instant:
                parameter.DbType = DbType.DateTime;
                parameter.Value = instant.Kind == DateTimeKind.Local ? instant.ToUniversalTime() : DateTime.SpecifyKind(instant, DateTimeKind.Utc);
                break;
            case DateOnly date:
                parameter.DbType = DbType.Date;
                parameter.Value = date;
                break;
            default:
                parameter.Value = value;
                break;
        }

        return parameter;
    }
}
