using EduDing.Api.Data;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;

namespace EduDing.Api.Tests.Infrastructure;

/// <summary>
/// The service's hosting defaults (problem details, JSON, authentication, database) around endpoints a test maps
/// itself, for checking the shared mechanisms before any feature endpoint exists to exercise them.
/// </summary>
public sealed class ProbeApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dbPath;

    private ProbeApp(WebApplication app, string dbPath)
    {
        _app = app;
        _dbPath = dbPath;
    }

    public static async Task<ProbeApp> StartAsync(Action<IEndpointRouteBuilder> map)
    {
        var dbPath = SqliteFiles.NewTempPath("probe");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseTestServer();
        builder.Configuration["Database:ConnectionString"] = $"Data Source={dbPath}";
        builder.Configuration["Auth:SigningKey"] = TestTokens.SigningKeyBase64;
        builder.AddEduDingDefaults();
        builder.Services.AddDatabase();
        var app = builder.Build();
        app.UseEduDingDefaults();
        map(app);
        await app.StartAsync();
        return new ProbeApp(app, dbPath);
    }

    public HttpClient CreateClient(string? bearerToken = null)
    {
        var client = _app.GetTestClient();
        if (bearerToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", bearerToken);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteFiles.Delete(_dbPath);
    }
}
