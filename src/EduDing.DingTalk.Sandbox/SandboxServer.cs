using EduDing.DingTalk.Sandbox.Endpoints;

namespace EduDing.DingTalk.Sandbox;

/// <summary>
/// The sandbox on a real loopback port (Kestrel), so the client's HttpClient and WebSockets talk to it exactly as to
/// DingTalk. Both API families are served from the one base URL; their paths do not overlap.
/// </summary>
public sealed class SandboxServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SandboxServer(WebApplication app, DingTalkSandbox sandbox, Uri baseUrl)
    {
        _app = app;
        Sandbox = sandbox;
        BaseUrl = baseUrl;
    }

    public DingTalkSandbox Sandbox { get; }

    public Uri BaseUrl { get; }

    /// <summary>Signalled when the host is asked to stop: SIGTERM, SIGINT (Ctrl+C) or SIGQUIT through its console lifetime.</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    public static async Task<SandboxServer> StartAsync(SandboxOptions options, string url = "http://127.0.0.1:0",
        Action<ILoggingBuilder>? logging = null, CancellationToken ct = default, HttpMessageHandler? pushHandler = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SandboxServer).Assembly.GetName().Name,
        });
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        var app = builder.Build();
        var sandbox = new DingTalkSandbox(options, TimeProvider.System, app.Services.GetRequiredService<ILoggerFactory>(),
            pushHandler);
        app.UseWebSockets();
        app.MapDingTalkApis(sandbox);
        app.MapSandboxAdmin(sandbox);
        await app.StartAsync(ct);
        var address = app.Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal)
            .Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal);
        return new SandboxServer(app, sandbox, new Uri(address.EndsWith('/') ? address : address + "/"));
    }

    /// <summary>Client options pointing both families at this sandbox.</summary>
    public DingTalkClientOptions ClientOptions(Action<DingTalkClientOptions>? configure = null)
    {
        var options = new DingTalkClientOptions { OapiBaseUrl = BaseUrl, ApiBaseUrl = BaseUrl };
        configure?.Invoke(options);
        return options;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await Sandbox.DisposeAsync();
        await _app.DisposeAsync();
    }
}
