using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Tests.Infrastructure;
using MySqlConnector;

namespace EduDing.Api.Tests.Data;

/// <summary>
/// The runbook's backup and restore (src/EduDing.Api/deploy, docs/operations.md) against MariaDB: a running service's
/// database dumped, restored into an empty one, and a service started on the copy serves what the first had stored.
/// </summary>
public sealed class BackupRestoreTests(EmptyMySqlTestDb db) : IClassFixture<EmptyMySqlTestDb>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Backup_OfARunningService_RestoresIntoAnEmptyDatabase_ThatAServiceServes()
    {
        db.SkipUnlessAvailable();
        var restored = $"{db.DatabaseName}_r";
        var file = Path.Combine(Path.GetTempPath(), $"{restored}.sql.gz");
        var server = new MySqlConnectionStringBuilder(db.ConnectionString);
        string[] client = ["--protocol=tcp", $"-h{server.Server}", $"-P{server.Port}", $"-u{server.UserID}", .. server.Password is { Length: > 0 } p ? [$"-p{p}"] : Array.Empty<string>()];
        try
        {
            // A service that has synced the sandbox's corps, running while the backup is taken.
            await using var first = ServiceProcess.Start(Environment(db.ConnectionString));
            Assert.True(await first.WaitUntilOkAsync("/readyz", Deadline), first.Output);
            var corps = await SyncedCorpsAsync(first);

            Assert.Equal(0, await RunAsync("backup.sh", [db.DatabaseName, file, .. client]));
            Assert.Equal(0, await RunAsync("restore.sh", [restored, file, .. client]));
            // A second restore into the same name is refused: a restore never mixes with data already there.
            Assert.NotEqual(0, await RunAsync("restore.sh", [restored, file, .. client]));

            await using var second = ServiceProcess.Start(Environment(new MySqlConnectionStringBuilder(db.ConnectionString) { Database = restored }.ConnectionString));
            Assert.True(await second.WaitUntilOkAsync("/readyz", Deadline), second.Output);
            using var ops = new HttpClient { BaseAddress = second.BaseAddress };
            ops.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.SystemAdmin());
            var copy = (await ops.GetFromJsonAsync<JsonArray>("/api/org/corps"))!;
            Assert.Equal(corps, copy.Select(c => (c!["corpId"]!.ToString(), c["lastFullSyncAt"]?.ToString())).Order().ToList());
            Assert.DoesNotContain("Applying migration", second.Output);
        }
        finally
        {
            File.Delete(file);
            await using var connection = new MySqlConnection(new MySqlConnectionStringBuilder(db.ConnectionString) { Database = "" }.ConnectionString);
            await connection.OpenAsync();
            await using var drop = new MySqlCommand($"DROP DATABASE IF EXISTS `{restored}`", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static Dictionary<string, string> Environment(string connectionString) => new()
    {
        ["Database__Provider"] = "MySql",
        ["Database__ConnectionString"] = connectionString,
        ["Auth__SigningKey"] = TestTokens.SigningKeyBase64,
        ["Encryption__MasterKeys__test1"] = TestTokens.MasterKeyBase64,
        ["Logging__LogLevel__Default"] = "Information",
    };

    /// <summary>Every corp once its initial sync is done, with when it was.</summary>
    private static async Task<List<(string, string?)>> SyncedCorpsAsync(ServiceProcess service)
    {
        using var ops = new HttpClient { BaseAddress = service.BaseAddress };
        ops.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.SystemAdmin());
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            var corps = (await ops.GetFromJsonAsync<JsonArray>("/api/org/corps"))!;
            if (corps.Count > 0 && corps.All(c => c!["lastFullSyncAt"] is not null))
            {
                return corps.Select(c => (c!["corpId"]!.ToString(), c["lastFullSyncAt"]?.ToString())).Order().ToList();
            }

            Assert.True(DateTime.UtcNow < until, service.Output);
            await Task.Delay(250);
        }
    }

    private static async Task<int> RunAsync(string script, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("bash", [Path.Combine(RepoPaths.Root, "src", "EduDing.Api", "deploy", script), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Deadline);
        await process.WaitForExitAsync(deadline.Token);
        TestContext.Current.SendDiagnosticMessage($"{script}: {await output}{await error}");
        return process.ExitCode;
    }
}
