using EduDing.DingTalk.Sandbox.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace EduDing.Bench;

/// <summary>
/// A service host for the benchmarks that go through HTTP: Production settings on a free loopback port, MySQL when a
/// connection string is given (else a temporary SQLite file), the DingTalk client pointed at the sandbox, and the
/// given corps configured with HTTP push delivery. The caller adds the features it measures.
/// </summary>
internal static class BenchService
{
    public static WebApplicationBuilder CreateBuilder(Uri sandboxUrl, IReadOnlyList<SandboxCorp> corps, string? mySqlConnectionString,
        string sqlitePath)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // Only errors are shown (on stderr): an unexpected 500 in a run then says what it was.
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Error).SetMinimumLevel(LogLevel.Error);
        builder.Configuration["Database:ConnectionString"] = mySqlConnectionString ?? $"Data Source={sqlitePath}";
        if (mySqlConnectionString is not null)
        {
            builder.Configuration["Database:Provider"] = "MySql";
        }

        builder.Configuration["Auth:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        builder.Configuration["Encryption:MasterKeys:bench"] = BenchDatabase.MasterKey;
        builder.Configuration["OrgSync:RunWorkers"] = "false";
        builder.Configuration["DingTalk:Client:OapiBaseUrl"] = sandboxUrl.ToString();
        builder.Configuration["DingTalk:Client:ApiBaseUrl"] = sandboxUrl.ToString();
        for (var i = 0; i < corps.Count; i++)
        {
            foreach (var (key, value) in CorpSettings(corps[i]))
            {
                builder.Configuration[$"DingTalk:Corps:{i}:{key}"] = value;
            }
        }

        return builder;
    }

    /// <summary>A sandbox corp as the service's DingTalk:Corps:N settings name it, with HTTP push delivery.</summary>
    public static Dictionary<string, string> CorpSettings(SandboxCorp corp) => new()
    {
        ["CorpId"] = corp.CorpId, ["Kind"] = corp.Kind.ToString(), ["Name"] = corp.Name, ["AppKey"] = corp.AppKey,
        ["AppSecret"] = corp.AppSecret, ["AgentId"] = corp.AgentId.ToString(), ["Delivery"] = "Http",
        ["CallbackToken"] = corp.CallbackToken, ["CallbackAesKey"] = corp.CallbackAesKey,
    };
}
