using EduDing.Api.Data;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;

namespace EduDing.Api.Tests.Infrastructure;

/// <summary>
/// The service's hosting defaults (problem details, JSON, authentication, database) around endpoints a test maps
/// itself, for checking the shared mechanisms before any feature endpoint exists to exercise them.
/// </summary>
public sealed class ProbeApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dbPath;

    private ProbeApp(WebApplication app, string dbPath, CapturedLogs logs)
    {
        _app = app;
        _dbPath = dbPath;
        Logs = logs;
    }

    /// <summary>Every log entry the app wrote, with the values of its scopes (the request's TraceId among them).</summary>
    public CapturedLogs Logs { get; }

    public static async Task<ProbeApp> StartAsync(Action<IEndpointRouteBuilder> map)
    {
        var dbPath = SqliteFiles.NewTempPath("probe");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseTestServer();
        builder.Configuration["Database:ConnectionString"] = $"Data Source={dbPath}";
        builder.Configuration["Auth:SigningKey"] = TestTokens.SigningKeyBase64;
        builder.Configuration["Encryption:MasterKeys:test1"] = TestTokens.MasterKeyBase64;
        builder.AddEduDingDefaults();
        var logs = new CapturedLogs();
        builder.Logging.AddProvider(logs);
        builder.Services.AddDatabase();
        var app = builder.Build();
        app.UseEduDingDefaults();
        map(app);
        await app.StartAsync();
        return new ProbeApp(app, dbPath, logs);
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

/// <summary>A logger provider that keeps each entry as text: level, category, message, then every scope value.</summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<string> Entries => _entries.ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new System.Text.StringBuilder($"{logLevel} {category}: {formatter(state, exception)}");
            owner._scopes.ForEachScope((scope, line) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    foreach (var (key, value) in values)
                    {
                        line.Append($" {key}={value}");
                    }
                }
            }, text);
            owner._entries.Enqueue(text.ToString());
        }
    }
}
