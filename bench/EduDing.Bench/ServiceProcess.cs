using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.Bench;

/// <summary>
/// One instance of the real service (src/EduDing.Api, built in Release with this bench) in a process of its own: the
/// configuration a deployment gives through the environment, its output in a log file, its memory read from /proc.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServiceProcess(string name, Process process, Uri baseUrl, string logPath)
    {
        Name = name;
        _process = process;
        BaseUrl = baseUrl;
        LogPath = logPath;
    }

    public string Name { get; }

    public Uri BaseUrl { get; }

    public string LogPath { get; }

    public int Pid => _process.Id;

    public bool Running => !_process.HasExited;

    /// <summary>The service's settings for a MySQL database and the given sandbox corps, HTTP push delivery.</summary>
    public static Dictionary<string, string> Settings(string connectionString, Uri sandboxUrl, IReadOnlyList<SandboxCorp> corps,
        string signingKey, string masterKey)
    {
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Database__Provider"] = "MySql",
            ["Database__ConnectionString"] = connectionString,
            ["Auth__SigningKey"] = signingKey,
            ["Encryption__MasterKeys__bench"] = masterKey,
            ["DingTalk__Client__OapiBaseUrl"] = sandboxUrl.ToString(),
            ["DingTalk__Client__ApiBaseUrl"] = sandboxUrl.ToString(),
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__Console__FormatterName"] = "simple",
        };
        for (var i = 0; i < corps.Count; i++)
        {
            foreach (var (key, value) in BenchService.CorpSettings(corps[i]))
            {
                settings[$"DingTalk__Corps__{i}__{key}"] = value;
            }
        }

        return settings;
    }

    /// <summary>Starts the service on a free loopback port and waits until it answers its liveness probe.</summary>
    public static async Task<ServiceProcess> StartAsync(string name, IReadOnlyDictionary<string, string> settings)
    {
        // The service's own build output (built with the bench, same configuration): its deps, runtimeconfig and settings.
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "EduDing.sln")))
        {
            root = root.Parent;
        }

        var folder = Path.Combine(root?.FullName ?? throw new InvalidOperationException("EduDing.sln not found above the bench"),
            "src", "EduDing.Api", "bin", Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))!), "net10.0");
        var dll = Path.Combine(folder, "EduDing.Api.dll");
        var port = FreePort();
        var logPath = Path.Combine(Path.GetTempPath(), $"eduding-city-{name}-{DateTime.UtcNow:HHmmss}.log");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        var process = Process.Start(start)!;
        var log = new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var instance = new ServiceProcess(name, process, new Uri($"http://127.0.0.1:{port}/"), logPath);
        using var http = new HttpClient { BaseAddress = instance.BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"instance {name} exited with {process.ExitCode} while starting; see {logPath}");
            }

            try
            {
                using var alive = await http.GetAsync("healthz");
                if (alive.IsSuccessStatusCode)
                {
                    return instance;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"instance {name} did not answer /healthz within 3 minutes; see {logPath}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Resident memory now and its peak (VmRSS, VmHWM), in MiB.</summary>
    public (double Rss, double Peak) Memory()
    {
        double rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kib(line) / 1024.0;
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kib(line) / 1024.0;
            }
        }

        return (rss, peak);
    }

    /// <summary>Ends the process at once (SIGKILL), as a crashed or evicted instance ends: no graceful shutdown.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: the service's graceful stop.
            Process.Start("kill", ["-TERM", Pid.ToString()])!.WaitForExit();
            using var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(stopped.Token);
            }
            catch (OperationCanceledException)
            {
                Kill();
            }
        }

        _process.Dispose();
    }

    private static long Kib(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
