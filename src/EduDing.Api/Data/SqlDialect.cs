using System.Data;
using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using MySqlConnector;

namespace EduDing.Api.Data;

/// <summary>
/// Every difference between SQLite and MySQL/MariaDB lives here, and only here. Repositories write SQL in the
/// subset all three accept and ask the dialect for the rest. Add a member only when a test needs it.
/// </summary>
internal abstract class SqlDialect
{
    /// <summary>"sqlite" or "mysql"; also the name of the migrations folder.</summary>
    public abstract string Name { get; }

    public abstract DbDataSource CreateDataSource(string connectionString, string contentRoot);

    /// <summary>DDL for the table the migrator records applied versions in.</summary>
    public abstract string CreateSchemaMigrationsTable { get; }

    /// <summary>
    /// Serializes migrations across processes. SQLite: one IMMEDIATE transaction that holds the write lock and
    /// covers every script (SQLite DDL is transactional). MySQL: a named lock for this database (DDL commits
    /// implicitly there, so each script runs on its own and is recorded right after).
    /// </summary>
    public abstract Task<MigrationScope> BeginMigrationScopeAsync(DbConnection connection, TimeSpan timeout,
        CancellationToken ct);

    public abstract bool IsUniqueViolation(DbException ex);

    /// <summary>Errors after which re-running the whole transaction is expected to succeed.</summary>
    public abstract bool IsTransient(DbException ex);

    /// <summary>A transient error in a word, for metrics: deadlock, lock_wait_timeout, busy, locked.</summary>
    public abstract string TransientKind(Exception? ex);

    /// <summary>The query failed because the table does not exist (yet).</summary>
    public abstract bool IsMissingTable(DbException ex);

    /// <summary>Appended to a SQL batch that just inserted a row: selects its generated id.</summary>
    public abstract string SelectLastInsertId { get; }

    /// <summary>
    /// Appended to a SELECT inside a transaction to lock what it reads until commit: " FOR UPDATE" on MySQL; nothing on
    /// SQLite, whose transactions begin IMMEDIATE and so already hold the database's single write lock.
    /// </summary>
    public abstract string ForUpdate { get; }

    /// <summary>
    /// The isolation of transactions that must lock no gaps another writer needs (docs/org-mirror.md "Lock scope"):
    /// READ COMMITTED on MySQL, where a scan or a missed update then locks only the rows it changes, so writers of
    /// different corps (or two instances adding a month's first row) never wait for each other's gaps. Where such a
    /// transaction needs its own turn, it takes a lock row first. SQLite's single writer needs none.
    /// </summary>
    public abstract IsolationLevel GapFreeIsolation { get; }

    /// <summary>
    /// INSERT … VALUES (@column, …) that updates <paramref name="updates"/> when a row with the same
    /// <paramref name="keys"/> exists. Parameters are named after the columns.
    /// </summary>
    public string Upsert(string table, string[] keys, string[] updates) =>
        $"INSERT INTO {table} ({string.Join(", ", keys.Concat(updates))}) " +
        $"VALUES ({string.Join(", ", keys.Concat(updates).Select(c => "@" + c))}) " +
        UpsertTail(keys, updates);

    protected abstract string UpsertTail(string[] keys, string[] updates);

    /// <summary>Appended to a multi-row INSERT: a row whose <paramref name="keys"/> exist replaces that row's <paramref name="updates"/>.</summary>
    public string OnConflictSet(string[] keys, string[] updates) => UpsertTail(keys, updates);

    /// <summary>
    /// Parameters per multi-row statement (<see cref="MultiRowInsert"/>): SQLite finds each parameter by scanning the
    /// statement's names, so its statements stay small; MySQL's large ones save round trips.
    /// </summary>
    public abstract int MaxParametersPerStatement { get; }

    /// <summary>String concatenation of SQL expressions (SQLite's || is logical OR in MySQL).</summary>
    public abstract string Concat(params string[] parts);

    /// <summary>Appended to a multi-row INSERT: adds the new row's <paramref name="column"/> to the existing one's.</summary>
    public abstract string AddOnConflict(string[] keys, string column);

    /// <summary>
    /// Appended to a multi-row INSERT: a row whose <paramref name="keys"/> exist gets <paramref name="assignments"/> instead,
    /// in which a bare column is the existing row's and <see cref="Incoming"/> the value the INSERT brought.
    /// </summary>
    public abstract string OnConflictAssign(string[] keys, string assignments);

    /// <summary>In <see cref="OnConflictAssign"/>: the value of <paramref name="column"/> in the row the INSERT brought.</summary>
    public abstract string Incoming(string column);

    public static SqlDialect For(DatabaseProvider provider) => provider switch
    {
        DatabaseProvider.Sqlite => new SqliteDialect(),
        DatabaseProvider.MySql => new MySqlDialect(),
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, null),
    };
}

/// <summary>Holds the migration lock; <see cref="Transaction"/> is set where the scripts share one transaction.</summary>
internal sealed class MigrationScope(DbTransaction? transaction, Func<Task> release) : IAsyncDisposable
{
    public DbTransaction? Transaction { get; } = transaction;

    public async Task CompleteAsync(CancellationToken ct)
    {
        if (Transaction is not null)
        {
            await Transaction.CommitAsync(ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await release();
        if (Transaction is not null)
        {
            await Transaction.DisposeAsync();
        }
    }
}

internal sealed class SqliteDialect : SqlDialect
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteConstraint = 19;

    public override string Name => "sqlite";

    public override DbDataSource CreateDataSource(string connectionString, string contentRoot)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            ForeignKeys = true,
            Pooling = true,
        };
        // Microsoft.Data.Sqlite retries SQLITE_BUSY inside each command until this many seconds have passed.
        if (!connectionString.Contains("Default Timeout", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("Command Timeout", StringComparison.OrdinalIgnoreCase))
        {
            builder.DefaultTimeout = 15;
        }

        if (builder.Mode != SqliteOpenMode.Memory && !builder.DataSource.StartsWith(':'))
        {
            var path = Path.IsPathRooted(builder.DataSource)
                ? builder.DataSource
                : Path.GetFullPath(Path.Combine(contentRoot, builder.DataSource));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            builder.DataSource = path;
        }

        return new SqliteWalDataSource(builder.ConnectionString);
    }

    public override string CreateSchemaMigrationsTable => """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER NOT NULL PRIMARY KEY,
            description TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at TEXT NOT NULL
        );
        """;

    public override async Task<MigrationScope> BeginMigrationScopeAsync(DbConnection connection, TimeSpan timeout,
        CancellationToken ct)
    {
        // BeginTransaction() on Microsoft.Data.Sqlite is BEGIN IMMEDIATE: it takes the write lock now, waiting
        // (busy retry) for another process that is migrating.
        var tx = await connection.BeginTransactionAsync(IsolationLevel.Serializable, ct);
        return new MigrationScope(tx, () => Task.CompletedTask);
    }

    public override bool IsUniqueViolation(DbException ex) =>
        ex is SqliteException { SqliteErrorCode: SqliteConstraint, SqliteExtendedErrorCode: 1555 or 2067 };

    public override bool IsTransient(DbException ex) =>
        ex is SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked };

    public override string TransientKind(Exception? ex) => ex is SqliteException { SqliteErrorCode: SqliteLocked } ? "locked" : "busy";

    public override bool IsMissingTable(DbException ex) =>
        ex is SqliteException { SqliteErrorCode: 1 } && ex.Message.Contains("no such table", StringComparison.Ordinal);

    public override string SelectLastInsertId => "SELECT last_insert_rowid()";

    public override string ForUpdate => "";

    public override IsolationLevel GapFreeIsolation => IsolationLevel.Unspecified;

    protected override string UpsertTail(string[] keys, string[] updates) =>
        $"ON CONFLICT ({string.Join(", ", keys)}) DO UPDATE SET {string.Join(", ", updates.Select(c => $"{c} = excluded.{c}"))}";

    public override int MaxParametersPerStatement => 1000;

    public override string Concat(params string[] parts) => string.Join(" || ", parts);

    public override string AddOnConflict(string[] keys, string column) =>
        $"ON CONFLICT ({string.Join(", ", keys)}) DO UPDATE SET {column} = {column} + excluded.{column}";

    public override string OnConflictAssign(string[] keys, string assignments) => $"ON CONFLICT ({string.Join(", ", keys)}) DO UPDATE SET {assignments}";

    public override string Incoming(string column) => $"excluded.{column}";

    /// <summary>
    /// Switches a file database to WAL (persistent in the file) the first time a connection opens, and gives every
    /// connection SQLite's own busy handler: it backs off in steps of 1 to 100 ms, where Microsoft.Data.Sqlite's retry
    /// loop sleeps 150 ms at a time, which put a 150 ms floor under any write that met another.
    /// </summary>
    private sealed class SqliteWalDataSource(string connectionString) : DbDataSource
    {
        private readonly int _busyTimeoutMs = new SqliteConnectionStringBuilder(connectionString).DefaultTimeout * 1000;

        private int _walChecked;

        public override string ConnectionString => connectionString;

        protected override DbConnection CreateDbConnection() => new WalConnection(this, connectionString);

        private sealed class WalConnection(SqliteWalDataSource owner, string cs) : SqliteConnection(cs)
        {
            public override void Open()
            {
                base.Open();
                owner.EnsureWal(this);
            }

            public override async Task OpenAsync(CancellationToken cancellationToken)
            {
                await base.OpenAsync(cancellationToken);
                owner.EnsureWal(this);
            }
        }

        private void EnsureWal(SqliteConnection connection)
        {
            connection.Execute($"PRAGMA busy_timeout = {_busyTimeoutMs};");
            if (Interlocked.Exchange(ref _walChecked, 1) == 0)
            {
                connection.Execute("PRAGMA journal_mode=WAL;");
            }
        }
    }
}

internal sealed class MySqlDialect : SqlDialect
{
    public override string Name => "mysql";

    public override DbDataSource CreateDataSource(string connectionString, string contentRoot)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString)
        {
            // Storage is UTC only; MySqlConnector then refuses DateTime values of Kind Local.
            DateTimeKind = MySqlDateTimeKind.Utc,
            // No session state is ever left on a connection (transactions end, the migration lock is released, no
            // session variables or temporary tables), so a pooled connection is not reset on each checkout: the reset
            // and the SET NAMES after it were a quarter of all statements at signup opening (bench/README.md).
            ConnectionReset = false,
        };
        return new MySqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    public override string CreateSchemaMigrationsTable => """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INT NOT NULL PRIMARY KEY,
            description VARCHAR(200) NOT NULL,
            checksum CHAR(64) NOT NULL,
            applied_at DATETIME(6) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
        """;

    public override async Task<MigrationScope> BeginMigrationScopeAsync(DbConnection connection, TimeSpan timeout,
        CancellationToken ct)
    {
        // GET_LOCK names are server-wide, so the lock is named after the database being migrated.
        const string lockName = "CONCAT('eduding_migrate:', DATABASE())";
        var acquired = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            $"SELECT GET_LOCK({lockName}, @seconds)", new { seconds = (int)Math.Ceiling(timeout.TotalSeconds) },
            cancellationToken: ct));
        if (acquired != 1)
        {
            throw new TimeoutException(
                $"Another instance held the migration lock for more than {timeout.TotalSeconds:0} s " +
                "(Database:MigrationLockTimeout).");
        }

        return new MigrationScope(null, () => connection.ExecuteAsync($"SELECT RELEASE_LOCK({lockName})"));
    }

    public override bool IsUniqueViolation(DbException ex) =>
        ex is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry };

    public override bool IsTransient(DbException ex) =>
        ex is MySqlException { ErrorCode: MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout };

    public override string TransientKind(Exception? ex) =>
        ex is MySqlException { ErrorCode: MySqlErrorCode.LockWaitTimeout } ? "lock_wait_timeout" : "deadlock";

    public override bool IsMissingTable(DbException ex) => ex is MySqlException { ErrorCode: MySqlErrorCode.NoSuchTable };

    public override string SelectLastInsertId => "SELECT LAST_INSERT_ID()";

    public override string ForUpdate => " FOR UPDATE";

    public override IsolationLevel GapFreeIsolation => IsolationLevel.ReadCommitted;

    // VALUES() is deprecated on MySQL 8 but works there, and the row alias form is not accepted by MariaDB.
    protected override string UpsertTail(string[] keys, string[] updates) =>
        $"ON DUPLICATE KEY UPDATE {string.Join(", ", updates.Select(c => $"{c} = VALUES({c})"))}";

    public override int MaxParametersPerStatement => 20_000;

    public override string Concat(params string[] parts) => $"CONCAT({string.Join(", ", parts)})";

    public override string AddOnConflict(string[] keys, string column) =>
        $"ON DUPLICATE KEY UPDATE {column} = {column} + VALUES({column})";

    // MySQL applies the assignments left to right, each seeing the ones before: callers list a column before the ones
    // that assign what it was.
    public override string OnConflictAssign(string[] keys, string assignments) => $"ON DUPLICATE KEY UPDATE {assignments}";

    public override string Incoming(string column) => $"VALUES({column})";
}
