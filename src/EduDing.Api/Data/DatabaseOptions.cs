using EduDing.Api.Hosting;

namespace EduDing.Api.Data;

internal enum DatabaseProvider
{
    Sqlite,
    MySql,
}

internal sealed class DatabaseOptions : IValidatedOptions
{
    public static string Section => "Database";

    /// <summary>Sqlite (embedded, one process) or MySql (MySQL 8 / MariaDB 10.11, any number of instances).</summary>
    public string Provider { get; set; } = nameof(DatabaseProvider.Sqlite);

    /// <summary>For SQLite a relative Data Source is resolved against the content root.</summary>
    public string ConnectionString { get; set; } = "Data Source=data/eduding.db";

    public bool AutoMigrate { get; set; } = true;

    /// <summary>How long an instance waits for another instance that is migrating the same database.</summary>
    public TimeSpan MigrationLockTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public DatabaseProvider ProviderKind =>
        Enum.TryParse<DatabaseProvider>(Provider, ignoreCase: true, out var kind)
            ? kind
            : throw new InvalidOperationException($"{Section}:{nameof(Provider)} '{Provider}' is not supported.");

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (!Enum.TryParse<DatabaseProvider>(Provider, ignoreCase: true, out _) || int.TryParse(Provider, out _))
        {
            yield return (nameof(Provider),
                $"must be one of {string.Join(", ", Enum.GetNames<DatabaseProvider>())} (was '{Provider}')");
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return (nameof(ConnectionString), "is required");
        }

        if (MigrationLockTimeout <= TimeSpan.Zero)
        {
            yield return (nameof(MigrationLockTimeout), "must be positive");
        }
    }
}
