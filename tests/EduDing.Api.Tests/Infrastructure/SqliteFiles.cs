using Microsoft.Data.Sqlite;

namespace EduDing.Api.Tests.Infrastructure;

public static class SqliteFiles
{
    public static string NewTempPath(string prefix) =>
        Path.Combine(Path.GetTempPath(), "eduding-tests", $"{prefix}-{Guid.NewGuid():N}.db");

    /// <summary>Deletes a database file with its WAL and shared-memory files, after closing pooled connections.</summary>
    public static void Delete(string path)
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(path + suffix);
        }
    }
}
