using System.Data.Common;
using EduDing.Api.Hosting;
using Polly;
using Polly.Retry;

namespace EduDing.Api.Data;

/// <summary>
/// The one entry point repositories use: the configured <see cref="DbDataSource"/>, its <see cref="SqlDialect"/>,
/// and transactions that are re-run from the start on a transient failure (SQLITE_BUSY, MySQL deadlock).
/// </summary>
internal sealed class Database
{
    private readonly ResiliencePipeline _transactionRetry;
    private long _transientRetries;

    static Database() => DapperConfiguration.EnsureConfigured();

    public Database(DbDataSource dataSource, SqlDialect dialect, ILogger<Database> log, FieldKeys keys)
    {
        DataSource = dataSource;
        Dialect = dialect;
        Fields = new FieldProtector(keys, dataSource, dialect);
        _transactionRetry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<DbException>(dialect.IsTransient),
                // Deadlocks are InnoDB's normal answer to parallel writers that share rows: retry generously.
                MaxRetryAttempts = 8,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(50),
                // Expected and handled: a line without a stack trace, a warning only when it keeps happening (the
                // last attempts), so that two instances' routine deadlocks do not read like failures.
                OnRetry = args =>
                {
                    Interlocked.Increment(ref _transientRetries);
                    EduDingTelemetry.TransactionRetries.Add(1, new KeyValuePair<string, object?>("error", dialect.TransientKind(args.Outcome.Exception)));
                    log.Log(args.AttemptNumber >= 3 ? LogLevel.Warning : LogLevel.Debug,
                        "Transient database error ({Error}); re-running the transaction (attempt {Attempt})",
                        args.Outcome.Exception?.Message, args.AttemptNumber + 2);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public DbDataSource DataSource { get; }

    /// <summary>Transactions of this database re-run after a transient error since start (deadlocks, on MySQL).</summary>
    public long TransientRetries => Interlocked.Read(ref _transientRetries);

    public SqlDialect Dialect { get; }

    /// <summary>Encryption of the fields kept sealed at rest (docs/encryption.md), with its keys in this database.</summary>
    public FieldProtector Fields { get; }

    public ValueTask<DbConnection> OpenConnectionAsync(CancellationToken ct) => DataSource.OpenConnectionAsync(ct);

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction and commits it. On a transient error the transaction is rolled
    /// back and the whole of <paramref name="work"/> runs again, so it must not have effects outside the database.
    /// </summary>
    public Task<T> InTransactionAsync<T>(Func<DbTransaction, CancellationToken, Task<T>> work,
        CancellationToken ct) => InTransactionAsync(work, System.Data.IsolationLevel.Unspecified, ct);

    /// <summary>As <see cref="InTransactionAsync{T}(Func{DbTransaction, CancellationToken, Task{T}}, CancellationToken)"/>, at <paramref name="isolation"/>.</summary>
    public async Task<T> InTransactionAsync<T>(Func<DbTransaction, CancellationToken, Task<T>> work, System.Data.IsolationLevel isolation,
        CancellationToken ct)
    {
        return await _transactionRetry.ExecuteAsync(async token =>
        {
            await using var connection = await DataSource.OpenConnectionAsync(token);
            await using var tx = await connection.BeginTransactionAsync(isolation, token);
            var result = await work(tx, token);
            await tx.CommitAsync(token);
            return result;
        }, ct);
    }

    public Task InTransactionAsync(Func<DbTransaction, CancellationToken, Task> work, CancellationToken ct) =>
        InTransactionAsync<bool>(async (tx, token) =>
        {
            await work(tx, token);
            return true;
        }, ct);
}
