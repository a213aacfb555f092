using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EduDing.Api.Tests.Infrastructure;

/// <summary>
/// The built service run as a real process (<c>dotnet EduDing.Api.dll</c>), for what only a process shows: exit
/// codes, start-up against a shared database, the default data folder.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static ServiceProcess Start(IDictionary<string, string> environment, string? workingDirectory = null)
    {
        var port = FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "EduDing.Api.dll");
        var info = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
            UseShellExecute = false,
        };
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        // The process runs in Production (no ASPNETCORE_ENVIRONMENT), where the sandbox must be asked for when no corps are.
        if (!environment.Keys.Any(k => k.StartsWith("DingTalk__Corps__", StringComparison.Ordinal)))
        {
            info.Environment["DingTalk__Sandbox__Enabled"] = "true";
        }

        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return Launch(info, port);
    }

    /// <summary>The standalone DingTalk sandbox (its own program) on a free loopback port.</summary>
    public static ServiceProcess StartSandbox()
    {
        var port = FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "EduDing.DingTalk.Sandbox.dll");
        return Launch(new ProcessStartInfo("dotnet", [dll, "--preset", "demo", "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }, port);
    }

    private static ServiceProcess Launch(ProcessStartInfo info, int port)
    {
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, port);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Polls <paramref name="path"/> until it answers 200; false if the process exits or the deadline passes.</summary>
    public async Task<bool> WaitUntilOkAsync(string path, TimeSpan deadline)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < deadline && !_process.HasExited)
        {
            try
            {
                using var response = await client.GetAsync(path);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        return false;
    }

    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        using var cts = new CancellationTokenSource(deadline);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Asks the process to stop as an orchestrator would (SIGTERM) and waits for it.</summary>
    public async Task<int> StopAsync(TimeSpan deadline)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]);
            await kill.WaitForExitAsync();
        }

        return await WaitForExitAsync(deadline);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
