using System.Net;
using System.Net.Sockets;

namespace EduDing.Api.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of the sandbox that plays DingTalk's network failures: forwarding, a black hole
/// (connections accepted and never answered) and a refusing host (connections reset at once). Changing the mode cuts
/// every open connection, so pooled HTTP connections see the new behaviour at once.
/// </summary>
public sealed class FaultyTcpProxy : IAsyncDisposable
{
    public enum Behaviour
    {
        Forward,
        BlackHole,
        Refuse,
    }

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _accepting;
    private volatile Behaviour _mode = Behaviour.Forward;

    public FaultyTcpProxy(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Loopback, target.Port);
        _listener.Start();
        BaseUrl = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri BaseUrl { get; }

    public Behaviour Mode
    {
        get => _mode;
        set
        {
            _mode = value;
            lock (_open)
            {
                foreach (var client in _open)
                {
                    client.Dispose();
                }

                _open.Clear();
            }
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        var mode = _mode;
        if (mode == Behaviour.Refuse)
        {
            client.Client.LingerState = new LingerOption(true, 0);
            client.Dispose();
            return;
        }

        lock (_open)
        {
            _open.Add(client);
        }

        try
        {
            if (mode == Behaviour.BlackHole)
            {
                // Read and drop whatever comes, answer nothing, until the caller gives up or the mode changes.
                var sink = new byte[8192];
                while (await client.GetStream().ReadAsync(sink, _stop.Token) > 0)
                {
                }

                return;
            }

            using var upstream = new TcpClient();
            await upstream.ConnectAsync(_target, _stop.Token);
            lock (_open)
            {
                _open.Add(upstream);
            }

            var a = client.GetStream().CopyToAsync(upstream.GetStream(), _stop.Token);
            var b = upstream.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception)
        {
            // A cut connection is the point of this class.
        }
        finally
        {
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Mode = Behaviour.Refuse;
        await _accepting;
        _stop.Dispose();
    }
}
