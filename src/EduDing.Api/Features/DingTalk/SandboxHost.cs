using EduDing.DingTalk.Sandbox;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.DingTalk;

/// <summary>
/// Starts the DingTalk sandbox inside the service when no corps are configured, so that a newcomer's first run has a
/// live organization to sync. Registered before the workers, so it is up before they call it.
/// </summary>
internal sealed class SandboxHost(IOptions<DingTalkOptions> options, ILogger<SandboxHost> log) : IHostedService, IAsyncDisposable
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
        _server = await SandboxServer.StartAsync(new SandboxOptions { Preset = settings.Preset, Seed = settings.Seed },
            settings.Url, ct: cancellationToken);
        log.LogWarning("No DingTalk corps are configured: using the built-in DingTalk sandbox ({Preset}, seed {Seed}) " +
                       "at {Url}, with {Corps} corps. GET {Url}sandbox/corps lists them.",
            settings.Preset, settings.Seed, _server.BaseUrl, _server.Sandbox.World.Corps.Count, _server.BaseUrl);
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
