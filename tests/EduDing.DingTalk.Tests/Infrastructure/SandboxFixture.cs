using EduDing.DingTalk.Sandbox;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.DingTalk.Tests.Infrastructure;

/// <summary>A demo-preset sandbox on a loopback port, one per test class, with fast retry timings.</summary>
public class SandboxFixture : IAsyncLifetime
{
    public SandboxServer Server { get; private set; } = null!;

    public DingTalkSandbox Sandbox => Server.Sandbox;

    public SandboxCorp Bureau => Sandbox.World.Bureau;

    public SandboxCorp School => Sandbox.World.Schools.First();

    protected virtual SandboxOptions Options() => new()
    {
        Preset = "demo",
        Seed = 7,
        QpsPerApi = 0,
        PushRetryDelays = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300)],
        StreamAckTimeout = TimeSpan.FromSeconds(2),
        StreamRedeliveryDelay = TimeSpan.FromMilliseconds(50),
        StreamDisconnectGrace = TimeSpan.FromSeconds(1),
    };

    public async ValueTask InitializeAsync() => Server = await SandboxServer.StartAsync(Options());

    /// <summary>A client for the sandbox with short retry delays, recording every call it makes.</summary>
    public DingTalkClient NewClient(Action<DingTalkClientOptions>? configure = null, CallLog? log = null) =>
        DingTalkClient.Create(new HttpClient(), Server.ClientOptions(o =>
        {
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            o.MaxCallsPerSecondPerApi = 1000;
            configure?.Invoke(o);
        }), observers: log is null ? [] : [log]);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class CallLog : IDingTalkCallObserver
{
    private readonly List<DingTalkCall> _calls = [];

    public IReadOnlyList<DingTalkCall> Calls
    {
        get
        {
            lock (_calls)
            {
                return _calls.ToList();
            }
        }
    }

    public void OnCall(DingTalkCall call)
    {
        lock (_calls)
        {
            _calls.Add(call);
        }
    }

    public int Count(DingTalkApi api, string? outcome = null) =>
        Calls.Count(c => c.Api == api && (outcome is null || c.Outcome == outcome));
}
