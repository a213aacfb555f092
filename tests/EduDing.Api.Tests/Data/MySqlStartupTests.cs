using System.Text.RegularExpressions;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Data;

public sealed class MySqlStartupTests(EmptyMySqlTestDb db) : IClassFixture<EmptyMySqlTestDb>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Two service processes started together against one empty database: both become ready, and the schema is
    /// migrated by exactly one of them (the other waits on the migration lock, then finds nothing to do).
    /// </summary>
    [Fact]
    public async Task TwoProcesses_StartedTogetherOnEmptyDatabase_BothReadyAndSchemaMigratedOnce()
    {
        db.SkipUnlessAvailable();
        var environment = new Dictionary<string, string>
        {
            ["Database__Provider"] = "MySql",
            ["Database__ConnectionString"] = db.ConnectionString,
            ["Auth__SigningKey"] = TestTokens.SigningKeyBase64,
            ["Encryption__MasterKeys__test1"] = TestTokens.MasterKeyBase64,
        };

        await using var first = ServiceProcess.Start(environment);
        await using var second = ServiceProcess.Start(environment);
        var ready = await Task.WhenAll(first.WaitUntilOkAsync("/readyz", Deadline), second.WaitUntilOkAsync("/readyz", Deadline));

        Assert.True(ready[0], first.Output);
        Assert.True(ready[1], second.Output);
        var migrationCount = db.CreateMigrator().Migrations.Count;
        Assert.Equal(migrationCount, await db.QuerySingleAsync<int>("SELECT COUNT(*) FROM schema_migrations"));
        var appliedBy = new[] { first.Output, second.Output }
            .Select(o => Regex.Matches(o, "Applying migration ").Count)
            .ToList();
        Assert.Equal(migrationCount, appliedBy.Sum());
        Assert.Contains(0, appliedBy);
    }

    [Fact]
    public async Task Start_OnMySqlWithoutSigningKey_ExitsNamingTheKey()
    {
        db.SkipUnlessAvailable();
        await using var service = ServiceProcess.Start(new Dictionary<string, string>
        {
            ["Database__Provider"] = "MySql",
            ["Database__ConnectionString"] = db.ConnectionString,
            ["Encryption__MasterKeys__test1"] = TestTokens.MasterKeyBase64,
        });

        Assert.NotEqual(0, await service.WaitForExitAsync(Deadline));
        Assert.Contains("Auth:SigningKey", service.Output);
    }

    [Fact]
    public async Task Start_OnMySqlWithoutMasterKey_ExitsNamingTheKey()
    {
        db.SkipUnlessAvailable();
        await using var service = ServiceProcess.Start(new Dictionary<string, string>
        {
            ["Database__Provider"] = "MySql",
            ["Database__ConnectionString"] = db.ConnectionString,
            ["Auth__SigningKey"] = TestTokens.SigningKeyBase64,
        });

        Assert.NotEqual(0, await service.WaitForExitAsync(Deadline));
        Assert.Contains("Encryption:MasterKeys", service.Output);
    }
}
