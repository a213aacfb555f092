using System.Data.Common;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Data;

internal sealed record Migration(int Version, string Description, string Sql, string Checksum);

internal sealed record MigrationStatus(int LatestKnown, int? Current, IReadOnlyList<int> Pending)
{
    public bool IsCurrent => Pending.Count == 0;
}

/// <summary>
/// Applies the embedded scripts <c>Data/Migrations/{dialect}/NNNN_description.sql</c> in order and records each in
/// <c>schema_migrations</c> with its checksum. Instances starting together serialize on the dialect's migration lock;
/// whoever waits re-reads what is applied, so each script runs once. An applied script whose text changed stops
/// the start: fix forward with a new script instead.
/// </summary>
internal sealed partial class Migrator(Database db, IOptions<DatabaseOptions> options, TimeProvider time,
    ILogger<Migrator> log)
{
    public IReadOnlyList<Migration> Migrations { get; } = Load(db.Dialect.Name);

    public static IReadOnlyList<Migration> Load(string dialectName)
    {
        var assembly = typeof(Migrator).Assembly;
        var prefix = $"migrations/{dialectName}/";
        var migrations = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Select(n => Parse(n[prefix.Length..], ReadResource(assembly, n)))
            .OrderBy(m => m.Version)
            .ToList();

        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two {dialectName} migrations share version {duplicate.Key}.");
        }

        return migrations;
    }

    /// <summary>What is applied and what is pending; only reads (it backs /readyz, which is polled often).</summary>
    public async Task<MigrationStatus> GetStatusAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        HashSet<int> applied;
        try
        {
            applied = (await connection.QueryAsync<int>(new CommandDefinition(
                "SELECT version FROM schema_migrations", cancellationToken: ct))).ToHashSet();
        }
        catch (System.Data.Common.DbException ex) when (db.Dialect.IsMissingTable(ex))
        {
            applied = [];
        }

        return new MigrationStatus(
            Migrations.Count == 0 ? 0 : Migrations[^1].Version,
            applied.Count == 0 ? null : applied.Max(),
            Migrations.Where(m => !applied.Contains(m.Version)).Select(m => m.Version).ToList());
    }

    /// <summary>Applies what is pending; returns how many scripts this call applied.</summary>
    public async Task<int> MigrateAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(db.Dialect.CreateSchemaMigrationsTable,
            cancellationToken: ct));

        await using var scope = await db.Dialect.BeginMigrationScopeAsync(connection,
            options.Value.MigrationLockTimeout, ct);
        var applied = (await connection.QueryAsync<(int Version, string Checksum)>(new CommandDefinition(
                "SELECT version, checksum FROM schema_migrations", transaction: scope.Transaction,
                cancellationToken: ct)))
            .ToDictionary(r => r.Version, r => r.Checksum);

        foreach (var migration in Migrations.Where(m => applied.ContainsKey(m.Version)))
        {
            if (applied[migration.Version] != migration.Checksum)
            {
                throw new InvalidOperationException(
                    $"Migration {migration.Version:0000}_{migration.Description} was edited after it was applied " +
                    "to this database. Restore its text and add a new migration instead.");
            }
        }

        var count = 0;
        foreach (var migration in Migrations.Where(m => !applied.ContainsKey(m.Version)))
        {
            log.LogInformation("Applying migration {Version:0000}_{Description}", migration.Version,
                migration.Description);
            await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: scope.Transaction,
                cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO schema_migrations (version, description, checksum, applied_at)
                VALUES (@Version, @Description, @Checksum, @appliedAt)
                """,
                new { migration.Version, migration.Description, migration.Checksum, appliedAt = time.GetUtcNow().UtcDateTime },
                transaction: scope.Transaction, cancellationToken: ct));
            count++;
        }

        await scope.CompleteAsync(ct);
        await db.Fields.EnsureKeysAsync(ct);
        if (count > 0)
        {
            log.LogInformation("Applied {Count} migration(s); the {Dialect} schema is at version {Version}",
                count, db.Dialect.Name, Migrations[^1].Version);
        }
        else
        {
            log.LogInformation("The {Dialect} schema is current at version {Version}", db.Dialect.Name,
                Migrations.Count == 0 ? 0 : Migrations[^1].Version);
        }

        return count;
    }

    private static Migration Parse(string fileName, string sql)
    {
        var match = FileNamePattern().Match(fileName);
        if (!match.Success)
        {
            throw new InvalidOperationException(
                $"Migration file '{fileName}' must be named NNNN_description.sql.");
        }

        var normalized = sql.Replace("\r\n", "\n", StringComparison.Ordinal);
        var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)));
        return new Migration(int.Parse(match.Groups[1].Value), match.Groups[2].Value, normalized, checksum);
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^(\d{4})_([a-z0-9_]+)\.sql$")]
    private static partial Regex FileNamePattern();
}

/// <summary>Migrates at start, before the server accepts requests, when Database:AutoMigrate is on.</summary>
internal sealed class MigrationHostedService(Migrator migrator, Database db, IOptions<DatabaseOptions> options,
    ILogger<MigrationHostedService> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.AutoMigrate)
        {
            await migrator.MigrateAsync(cancellationToken);
        }
        else
        {
            // The schema is migrated elsewhere; this instance's active master key still needs its data key. Until the
            // schema is there (readiness says so), the re-encryption worker tries again on its every run.
            try
            {
                await db.Fields.EnsureKeysAsync(cancellationToken);
            }
            catch (DbException ex)
            {
                log.LogWarning("The data keys are not ready yet ({Error}); they are created once the schema is migrated", ex.Message);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
