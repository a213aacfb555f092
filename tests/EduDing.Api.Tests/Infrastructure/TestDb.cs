using Dapper;
using EduDing.Api.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MySqlConnector;

namespace EduDing.Api.Tests.Infrastructure;

/// <summary>
/// A freshly migrated database of one provider, shared by the tests of one class. Repository tests are written once
/// against this type and run once per provider (one sealed subclass each).
/// </summary>
public abstract class TestDb : IAsyncLifetime
{
    private Database? _database;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 9, 1, 0, 30, 0, TimeSpan.Zero));

    internal abstract DatabaseProvider Provider { get; }

    /// <summary>The connection string the service would be configured with.</summary>
    public abstract string ConnectionString { get; }

    /// <summary>Whether the database has been created; false only for MySQL when no server is configured.</summary>
    public virtual bool Available => true;

    internal Database Database => _database ?? throw new InvalidOperationException("The test database is not available.");

    internal SqlDialect Dialect => Database.Dialect;

    /// <summary>Skips the calling test when this provider has no server (MySQL without EDUDING_TEST_MYSQL).</summary>
    public abstract void SkipUnlessAvailable();

    /// <summary>Migrate after creation; the two-instance startup test wants an empty database instead.</summary>
    protected virtual bool MigrateOnCreate => true;

    public virtual async ValueTask InitializeAsync()
    {
        await CreateAsync();
        if (!Available)
        {
            return;
        }

        _database = CreateDatabase(ConnectionString);
        if (MigrateOnCreate)
        {
            await CreateMigrator().MigrateAsync(CancellationToken.None);
        }
    }

    /// <summary>The test master key, as the services the tests start have it.</summary>
    internal static FieldKeys TestKeys { get; } = FieldKeys.From(new Dictionary<string, string> { ["test1"] = TestTokens.MasterKeyBase64 }, null, true);

    /// <summary>Another handle on the database, as a second instance would have it (with other keys for a rotation).</summary>
    internal Database CreateDatabase(string connectionString, FieldKeys? keys = null)
    {
        var dialect = SqlDialect.For(Provider);
        return new Database(dialect.CreateDataSource(connectionString, Path.GetTempPath()), dialect,
            NullLogger<Database>.Instance, keys ?? TestKeys);
    }

    internal Migrator CreateMigrator(Database? database = null) => new(database ?? Database,
        Options.Create(new DatabaseOptions { Provider = Provider.ToString(), ConnectionString = ConnectionString }),
        Time, NullLogger<Migrator>.Instance);

    public async Task<T> QuerySingleAsync<T>(string sql, object? args = null)
    {
        await using var connection = await Database.OpenConnectionAsync(CancellationToken.None);
        return await connection.QuerySingleAsync<T>(sql, args);
    }

    public async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var connection = await Database.OpenConnectionAsync(CancellationToken.None);
        await connection.ExecuteAsync(sql, args);
    }

    protected abstract Task CreateAsync();

    public virtual async ValueTask DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DataSource.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

public class SqliteTestDb : TestDb
{
    private readonly string _path = SqliteFiles.NewTempPath("repo");

    internal override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    public override string ConnectionString => $"Data Source={_path}";

    public override void SkipUnlessAvailable()
    {
    }

    protected override Task CreateAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        return Task.CompletedTask;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteFiles.Delete(_path);
    }
}

/// <summary>
/// A uniquely named database on the server that EDUDING_TEST_MYSQL points to (a server-level connection string),
/// dropped afterwards. Without that variable the tests skip, unless EDUDING_TEST_MYSQL_REQUIRED is set (test.sh and
/// CI set both), in which case they fail.
/// </summary>
public class MySqlTestDb : TestDb
{
    public const string ServerVariable = "EDUDING_TEST_MYSQL";
    public const string RequiredVariable = "EDUDING_TEST_MYSQL_REQUIRED";

    private readonly string _name = $"eduding_t_{Guid.NewGuid():N}"[..24];
    private string? _connectionString;

    internal override DatabaseProvider Provider => DatabaseProvider.MySql;

    public static string? ServerConnectionString => Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } cs
        ? cs
        : null;

    public static bool Required => Environment.GetEnvironmentVariable(RequiredVariable) is { Length: > 0 } v && v != "0";

    public override bool Available => _connectionString is not null;

    public override string ConnectionString => _connectionString ?? throw new InvalidOperationException(SkipReason);

    public string DatabaseName => _name;

    private static string SkipReason =>
        $"MySQL tests need {ServerVariable} (a server connection string, e.g. Server=127.0.0.1;Port=3306;User ID=root); ./test.sh sets it.";

    public override void SkipUnlessAvailable() => Assert.SkipUnless(Available, SkipReason);

    protected override async Task CreateAsync()
    {
        if (ServerConnectionString is null)
        {
            if (Required)
            {
                throw new InvalidOperationException($"{RequiredVariable} is set but {ServerVariable} is not.");
            }

            return;
        }

        await using (var server = new MySqlConnection(ServerConnectionString))
        {
            await server.OpenAsync();
            await server.ExecuteAsync($"CREATE DATABASE `{_name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
        }

        _connectionString = new MySqlConnectionStringBuilder(ServerConnectionString) { Database = _name }.ConnectionString;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_connectionString is null)
        {
            return;
        }

        MySqlConnection.ClearAllPools();
        await using var server = new MySqlConnection(ServerConnectionString);
        await server.OpenAsync();
        await server.ExecuteAsync($"DROP DATABASE IF EXISTS `{_name}`");
    }
}

/// <summary>A MySQL database left empty, for tests that migrate it themselves.</summary>
public sealed class EmptyMySqlTestDb : MySqlTestDb
{
    protected override bool MigrateOnCreate => false;
}

/// <summary>A SQLite database left empty, for tests that migrate it themselves.</summary>
public sealed class EmptySqliteTestDb : SqliteTestDb
{
    protected override bool MigrateOnCreate => false;
}
