using EduDing.Api.Data;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Data;

public abstract class MigrationTests<TDb> where TDb : TestDb, new()
{
    private static async Task<TDb> EmptyDbAsync()
    {
        var db = new TDb();
        await db.InitializeAsync();
        db.SkipUnlessAvailable();
        return db;
    }

    [Fact]
    public async Task MigrateAsync_OnEmptyDatabase_ReachesLatestVersion()
    {
        await using var db = await EmptyDbAsync();
        var migrator = db.CreateMigrator();

        var applied = await migrator.MigrateAsync(CancellationToken.None);
        var status = await migrator.GetStatusAsync(CancellationToken.None);

        Assert.Equal(migrator.Migrations.Count, applied);
        Assert.True(status.IsCurrent);
        Assert.Equal(migrator.Migrations[^1].Version, status.Current);
        Assert.Equal(0, await db.QuerySingleAsync<int>("SELECT COUNT(*) FROM leases"));
    }

    [Fact]
    public async Task MigrateAsync_SecondRun_AppliesNothing()
    {
        await using var db = await EmptyDbAsync();
        await db.CreateMigrator().MigrateAsync(CancellationToken.None);

        var appliedAgain = await db.CreateMigrator().MigrateAsync(CancellationToken.None);

        Assert.Equal(0, appliedAgain);
    }

    [Fact]
    public async Task MigrateAsync_FourInstancesAtOnce_ApplyEachScriptOnce()
    {
        await using var db = await EmptyDbAsync();
        // Separate data sources, as separate processes would have.
        var databases = Enumerable.Range(0, 4).Select(_ => db.CreateDatabase(db.ConnectionString)).ToList();

        var applied = await Task.WhenAll(databases.Select(d =>
            Task.Run(() => db.CreateMigrator(d).MigrateAsync(CancellationToken.None))));

        var expected = db.CreateMigrator().Migrations.Count;
        Assert.Equal(expected, applied.Sum());
        Assert.Equal(expected, await db.QuerySingleAsync<int>("SELECT COUNT(*) FROM schema_migrations"));
        foreach (var d in databases)
        {
            await d.DataSource.DisposeAsync();
        }
    }

    [Fact]
    public async Task MigrateAsync_AppliedScriptWasEdited_RefusesToStart()
    {
        await using var db = await EmptyDbAsync();
        await db.CreateMigrator().MigrateAsync(CancellationToken.None);
        await db.ExecuteAsync("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => db.CreateMigrator().MigrateAsync(CancellationToken.None));

        Assert.Contains("0001_leases was edited", error.Message);
    }

    [Fact]
    public async Task GetStatusAsync_OnEmptyDatabase_ListsEveryMigrationAsPending()
    {
        await using var db = await EmptyDbAsync();
        var migrator = db.CreateMigrator();

        var status = await migrator.GetStatusAsync(CancellationToken.None);

        Assert.False(status.IsCurrent);
        Assert.Null(status.Current);
        Assert.Equal(migrator.Migrations.Select(m => m.Version), status.Pending);
    }
}

public sealed class SqliteMigrationTests : MigrationTests<EmptySqliteTestDb>;

public sealed class MySqlMigrationTests : MigrationTests<EmptyMySqlTestDb>;

public sealed class MigrationSetTests
{
    [Fact]
    public void Load_BothProviders_HaveTheSameVersionsAndDescriptions()
    {
        var sqlite = Migrator.Load("sqlite").Select(m => (m.Version, m.Description));
        var mysql = Migrator.Load("mysql").Select(m => (m.Version, m.Description));

        Assert.NotEmpty(sqlite);
        Assert.Equal(sqlite, mysql);
    }
}

public sealed class MySqlAndSqliteMigrationParityTests
{
    [Fact]
    public async Task MigrateAsync_EmptyDatabaseOnEachProvider_BothReachTheSameVersion()
    {
        await using var sqlite = new EmptySqliteTestDb();
        await using var mysql = new EmptyMySqlTestDb();
        await sqlite.InitializeAsync();
        await mysql.InitializeAsync();
        mysql.SkipUnlessAvailable();

        await sqlite.CreateMigrator().MigrateAsync(CancellationToken.None);
        await mysql.CreateMigrator().MigrateAsync(CancellationToken.None);
        var onSqlite = await sqlite.CreateMigrator().GetStatusAsync(CancellationToken.None);
        var onMySql = await mysql.CreateMigrator().GetStatusAsync(CancellationToken.None);

        Assert.True(onSqlite.IsCurrent);
        Assert.True(onMySql.IsCurrent);
        Assert.Equal(onSqlite.Current, onMySql.Current);
    }
}
