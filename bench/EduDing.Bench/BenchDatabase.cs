using EduDing.Api.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EduDing.Bench;

/// <summary>A migrated database for one benchmark: the given MySQL database, or a temporary SQLite file deleted afterwards.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string? _sqlitePath;

    private BenchDatabase(Database database, DatabaseProvider provider, string connectionString, string? sqlitePath)
    {
        Database = database;
        Provider = provider;
        ConnectionString = connectionString;
        _sqlitePath = sqlitePath;
    }

    /// <summary>For a service host over the same database.</summary>
    public string ConnectionString { get; }

    public Database Database { get; }

    public DatabaseProvider Provider { get; }

    /// <summary>The master key of every bench database and service host (one per bench process).</summary>
    public static string MasterKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static async Task<BenchDatabase> CreateAsync(string? mySqlConnectionString, bool encrypted = true)
    {
        var provider = mySqlConnectionString is null ? DatabaseProvider.Sqlite : DatabaseProvider.MySql;
        var path = mySqlConnectionString is null ? Path.Combine(Path.GetTempPath(), $"eduding-bench-{Guid.NewGuid():N}.db") : null;
        var connectionString = mySqlConnectionString ?? $"Data Source={path}";
        var dialect = SqlDialect.For(provider);
        var db = new Database(dialect.CreateDataSource(connectionString, Path.GetTempPath()), dialect, NullLogger<Database>.Instance,
            FieldKeys.From(new Dictionary<string, string> { ["bench"] = MasterKey }, null, encrypted));
        await new Migrator(db, Options.Create(new DatabaseOptions { Provider = provider.ToString(), ConnectionString = connectionString }),
            TimeProvider.System, NullLogger<Migrator>.Instance).MigrateAsync(default);
        return new BenchDatabase(db, provider, connectionString, path);
    }

    public ValueTask DisposeAsync()
    {
        if (_sqlitePath is not null)
        {
            foreach (var file in new[] { _sqlitePath, _sqlitePath + "-wal", _sqlitePath + "-shm" })
            {
                File.Delete(file);
            }
        }

        return ValueTask.CompletedTask;
    }
}
