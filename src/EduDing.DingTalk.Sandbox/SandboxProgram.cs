namespace EduDing.DingTalk.Sandbox;

/// <summary>
/// Runs the sandbox on its own: <c>dotnet run --project src/EduDing.DingTalk.Sandbox -- --preset demo --seed 1
/// --urls http://127.0.0.1:5090</c>. Prints each corp's app credentials; GET /sandbox/corps lists them too.
/// </summary>
public static class SandboxProgram
{
    public static async Task<int> Main(string[] args)
    {
        var options = new SandboxOptions();
        var url = "http://127.0.0.1:5090";
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--preset":
                    options.Preset = args[i + 1];
                    break;
                case "--seed":
                    options.Seed = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--urls":
                    url = args[i + 1];
                    break;
                default:
                    await Console.Error.WriteLineAsync($"Unknown option {args[i]} (--preset demo|haining, --seed N, --urls URL).");
                    return 2;
            }
        }

        await using var server = await SandboxServer.StartAsync(options, url, logging => logging.AddSimpleConsole());
        Console.WriteLine($"DingTalk sandbox ({options.Preset}, seed {options.Seed}) listening on {server.BaseUrl}");
        foreach (var corp in server.Sandbox.World.Corps)
        {
            Console.WriteLine($"  {corp.Kind,-6} {corp.CorpId} appKey={corp.AppKey} agentId={corp.AgentId} {corp.Name}");
        }

        // The host's console lifetime takes SIGTERM, SIGINT and SIGQUIT (and stops the default termination): wait for it
        // to begin stopping, then dispose, which drains the server.
        var stopping = new TaskCompletionSource();
        await using (server.Stopping.Register(() => stopping.TrySetResult()))
        {
            await stopping.Task;
        }

        return 0;
    }
}
