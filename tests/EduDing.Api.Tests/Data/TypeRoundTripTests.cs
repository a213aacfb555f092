using Dapper;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Data;

/// <summary>One row of every column type we use, written and read back through Dapper on each provider.</summary>
public abstract class TypeRoundTripTests<TDb>(TDb db) where TDb : TestDb
{
    private sealed record Row(long Id, DateTime HappenedAt, DateTime? ClosedAt, DateOnly ScreenedOn, bool IsActive,
        decimal Credits, string Name, int Grade);

    private async Task CreateTableAsync()
    {
        await db.ExecuteAsync(db.Dialect.Name == "mysql"
            ? """
              CREATE TABLE IF NOT EXISTS type_round_trips (
                  id BIGINT NOT NULL PRIMARY KEY, happened_at DATETIME(6) NOT NULL, closed_at DATETIME(6) NULL,
                  screened_on DATE NOT NULL, is_active BOOL NOT NULL, credits DECIMAL(8,2) NOT NULL,
                  name VARCHAR(100) NOT NULL, grade INT NOT NULL
              ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
              """
            : """
              CREATE TABLE IF NOT EXISTS type_round_trips (
                  id INTEGER NOT NULL PRIMARY KEY, happened_at TEXT NOT NULL, closed_at TEXT NULL,
                  screened_on TEXT NOT NULL, is_active INTEGER NOT NULL, credits TEXT NOT NULL,
                  name TEXT NOT NULL, grade INTEGER NOT NULL
              )
              """);
    }

    private async Task<Row> RoundTripAsync(Row row)
    {
        await CreateTableAsync();
        await db.ExecuteAsync("""
            INSERT INTO type_round_trips (id, happened_at, closed_at, screened_on, is_active, credits, name, grade)
            VALUES (@Id, @HappenedAt, @ClosedAt, @ScreenedOn, @IsActive, @Credits, @Name, @Grade)
            """, row);
        return await db.QuerySingleAsync<Row>("SELECT * FROM type_round_trips WHERE id = @Id", new { row.Id });
    }

    [Fact]
    public async Task InsertThenSelect_EveryColumnType_RoundTripsExactly()
    {
        db.SkipUnlessAvailable();
        var row = new Row(1, new DateTime(2026, 9, 1, 0, 30, 15, DateTimeKind.Utc).AddTicks(1234560), null,
            new DateOnly(2026, 6, 30), true, 12.50m, "王小明（海宁市实验小学）", 3);

        var read = await RoundTripAsync(row);

        Assert.Equal(row, read);
        Assert.Equal(DateTimeKind.Utc, read.HappenedAt.Kind);
    }

    [Fact]
    public async Task InsertThenSelect_LocalTime_IsStoredAsUtc()
    {
        db.SkipUnlessAvailable();
        var utc = new DateTime(2026, 1, 20, 8, 0, 0, DateTimeKind.Utc);
        var row = new Row(2, utc.ToLocalTime(), utc, new DateOnly(2026, 1, 20), false, 0m, "李华", 9);

        var read = await RoundTripAsync(row);

        Assert.Equal(utc, read.HappenedAt);
        Assert.Equal(DateTimeKind.Utc, read.ClosedAt!.Value.Kind);
    }

    [Fact]
    public async Task Where_ComparingInstants_OrdersByTime()
    {
        db.SkipUnlessAvailable();
        await CreateTableAsync();
        var noon = new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);
        foreach (var (id, at) in new[] { (10L, noon.AddTicks(10)), (11L, noon.AddSeconds(1)), (12L, noon.AddDays(-1)) })
        {
            await db.ExecuteAsync("""
                INSERT INTO type_round_trips (id, happened_at, closed_at, screened_on, is_active, credits, name, grade)
                VALUES (@id, @at, NULL, @day, 1, 0, 'x', 1)
                """, new { id, at, day = new DateOnly(2026, 3, 1) });
        }

        await using var connection = await db.Database.OpenConnectionAsync(CancellationToken.None);
        var after = (await connection.QueryAsync<long>(
            "SELECT id FROM type_round_trips WHERE id >= 10 AND happened_at > @noon ORDER BY happened_at",
            new { noon })).ToList();

        Assert.Equal([10L, 11L], after);
    }
}

public sealed class SqliteTypeRoundTripTests(SqliteTestDb db)
    : TypeRoundTripTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlTypeRoundTripTests(MySqlTestDb db)
    : TypeRoundTripTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
