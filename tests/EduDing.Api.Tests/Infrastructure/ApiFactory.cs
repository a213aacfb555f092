using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace EduDing.Api.Tests.Infrastructure;

/// <summary>The whole service in memory on its own SQLite file, in Development, with a known signing key.</summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    private readonly string _dbPath = SqliteFiles.NewTempPath("api");

    public Dictionary<string, string?> Settings { get; } = new();

    /// <summary>Extra services a test adds to the app (e.g. an approval kind of its own).</summary>
    public Action<IServiceCollection>? ExtraServices { get; set; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("Database:Provider", "Sqlite");
        builder.UseSetting("Database:ConnectionString", $"Data Source={_dbPath}");
        builder.UseSetting("Auth:SigningKey", TestTokens.SigningKeyBase64);
        builder.UseSetting("Encryption:MasterKeys:test1", TestTokens.MasterKeyBase64);
        // Development's sandbox port is fixed for a person at the terminal; tests run many sandboxes side by side.
        builder.UseSetting("DingTalk:Sandbox:Url", "http://127.0.0.1:0");
        // Development's demo data would put rounds and notices into every test's database; DemoDataTests turn it on.
        builder.UseSetting("DingTalk:Sandbox:DemoData", "false");
        // The org workers run only where a test wants them (LiveOrg); elsewhere they would sync the sandbox needlessly.
        builder.UseSetting("OrgSync:RunWorkers", "false");
        builder.UseSetting("Notices:RunWorkers", "false");
        // Approval tests call the worker's steps themselves, one at a time.
        builder.UseSetting("Approvals:RunWorker", "false");
        builder.UseSetting("AfterSchool:RunWorker", "false");
        builder.UseSetting("Training:RunWorker", "false");
        builder.UseSetting("Privacy:RunRetention", "false");
        builder.UseSetting("Encryption:RunReencryption", "false");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        if (ExtraServices is { } services)
        {
            builder.ConfigureServices(services);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteFiles.Delete(_dbPath);
    }
}
