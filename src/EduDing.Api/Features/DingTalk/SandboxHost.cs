using EduDing.DingTalk.Sandbox;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.DingTalk;

/// <summary>
/// Starts the DingTalk sandbox inside the service when no corps are configured, so that a newcomer's first run has a
/// live organization to sync. Registered before the workers, so it is up before they call it. It listens on loopback
/// only (DingTalkOptions refuses anything else), and never starts when corps are configured. With
/// DingTalk:Sandbox:Delivery=Http it registers this service's callback URL for every corp once the service listens,
/// as a DingTalk admin does in the developer console, so that pushes arrive as they would from DingTalk.
/// </summary>
internal sealed class SandboxHost(IOptions<DingTalkOptions> options, ILogger<SandboxHost> log, IServiceProvider? services = null)
    : IHostedService, IAsyncDisposable
{
    private SandboxServer? _server;

    public bool Enabled => options.Value.UseSandbox;

    public DingTalkSandbox Sandbox => _server?.Sandbox ?? throw new InvalidOperationException(
        "The DingTalk sandbox is not running (corps are configured, or the service has not started).");

    public Uri BaseUrl => _server?.BaseUrl ?? throw new InvalidOperationException("The DingTalk sandbox is not running.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return;
        }

        var settings = options.Value.Sandbox;
        _server = await SandboxServer.StartAsync(new SandboxOptions
            {
                Preset = settings.Preset, Seed = settings.Seed, SharedDeveloperAccount = settings.SharedDeveloperAccount,
            },
            settings.Url, ct: cancellationToken);
        log.LogWarning("No DingTalk corps are configured: using the built-in DingTalk sandbox ({Preset}, seed {Seed}) " +
                       "at {Url}, with {Corps} corps. GET {Url}sandbox/corps lists them.",
            settings.Preset, settings.Seed, _server.BaseUrl, _server.Sandbox.World.Corps.Count, _server.BaseUrl);
        if (services is not null && Enum.TryParse<EventDelivery>(settings.Delivery, true, out var delivery) && delivery == EventDelivery.Http)
        {
            services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(
                () => _ = RegisterCallbacksAsync(_server.Sandbox));
        }
    }

    private async Task RegisterCallbacksAsync(DingTalkSandbox sandbox)
    {
        var address = services!.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses
            .FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase));
        if (address is null)
        {
            log.LogError("Http delivery: the service has no http:// address to register with the sandbox; no events will arrive");
            return;
        }

        var self = new UriBuilder(address) { Host = "127.0.0.1" }.Uri;
        foreach (var corp in sandbox.World.Corps)
        {
            var callback = new Uri(self, $"/api/dingtalk/callback/{corp.CorpId}");
            try
            {
                await sandbox.RegisterCallbackAsync(corp.CorpId, callback, verify: true, CancellationToken.None);
            }
            catch (Exception ex)
            {
                log.LogError("Http delivery: registering {Callback} with the sandbox failed: {Reason}", callback, ex.Message);
                continue;
            }

            log.LogInformation("Http delivery: the sandbox pushes {CorpId}'s events to {Callback}", corp.CorpId, callback);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
