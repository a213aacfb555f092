using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Hosting;

/// <summary>The built service as a process: what a newcomer and an operator see.</summary>
public sealed class ServiceProcessTests : IDisposable
{
    // A generous deadline against hangs on a loaded machine; not a measure of speed.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private readonly string _workDir = Directory.CreateTempSubdirectory("eduding-process-").FullName;

    public void Dispose() => Directory.Delete(_workDir, recursive: true);

    [Fact]
    public async Task Start_WithSampleSettingsUnedited_CreatesTheSqliteFileAndAnswersHealthAndReadiness()
    {
        File.Copy(Path.Combine(RepoPaths.Root, "appsettings.sample.json"), Path.Combine(_workDir, "appsettings.json"));
        await using var service = ServiceProcess.Start(new Dictionary<string, string>(), _workDir);

        Assert.True(await service.WaitUntilOkAsync("/healthz", Deadline), service.Output);
        Assert.True(await service.WaitUntilOkAsync("/readyz", Deadline), service.Output);
        Assert.True(File.Exists(Path.Combine(_workDir, "data", "eduding.db")), service.Output);
        Assert.Contains($"EduDing is listening on http://127.0.0.1:{service.Port}", service.Output);

        // SIGTERM: the host drains and exits cleanly.
        Assert.Equal(0, await service.StopAsync(Deadline));
    }

    [Fact]
    public async Task DefaultRun_WithHttpDelivery_ReceivesTheSandboxsPushes()
    {
        var sandboxPort = FreePort();
        await using var service = ServiceProcess.Start(new Dictionary<string, string>
        {
            ["Auth__SigningKey"] = TestTokens.SigningKeyBase64,
            ["Encryption__MasterKeys__test1"] = TestTokens.MasterKeyBase64,
            ["DingTalk__Sandbox__Delivery"] = "Http",
            ["DingTalk__Sandbox__Url"] = $"http://127.0.0.1:{sandboxPort}",
            ["Logging__LogLevel__Default"] = "Warning",
        }, _workDir);
        Assert.True(await service.WaitUntilOkAsync("/readyz", Deadline), service.Output);
        using var ops = new HttpClient { BaseAddress = service.BaseAddress };
        ops.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.SystemAdmin());
        using var sandbox = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{sandboxPort}") };
        var school = (await sandbox.GetFromJsonAsync<JsonArray>("/sandbox/corps"))!.First(c => c!["kind"]!.ToString() == "School")!["corpId"]!.ToString();
        var classId = 0L;
        await WaitAsync(async () =>
        {
            var nodes = (await ops.GetFromJsonAsync<JsonArray>($"/api/org/corps/{school}/edu-nodes"))!;
            classId = nodes.Where(n => n!["nodeType"]!.ToString() == "class").Select(n => (long)n!["nodeId"]!).FirstOrDefault();
            return classId != 0;
        }, service);

        (await sandbox.PostAsJsonAsync($"/sandbox/corps/{school}/edu/classes/{classId}/students", new { name = "推送插班生" })).EnsureSuccessStatusCode();

        await WaitAsync(async () => (await ops.GetStringAsync($"/api/org/corps/{school}/classes/{classId}/roster")).Contains("推送插班生"), service);
    }

    [Fact]
    public async Task CorpSecrets_FromAKeyPerFileDirectory_AreUsed()
    {
        await using var server = await EduDing.DingTalk.Sandbox.SandboxServer.StartAsync(
            new EduDing.DingTalk.Sandbox.SandboxOptions { Preset = "demo", Seed = 51, QpsPerApi = 0 });
        var secrets = Directory.CreateDirectory(Path.Combine(_workDir, "secrets")).FullName;
        var environment = new Dictionary<string, string>
        {
            ["Auth__SigningKey"] = TestTokens.SigningKeyBase64,
            ["Encryption__MasterKeys__test1"] = TestTokens.MasterKeyBase64,
            ["DingTalk__Client__OapiBaseUrl"] = server.BaseUrl.ToString(),
            ["DingTalk__Client__ApiBaseUrl"] = server.BaseUrl.ToString(),
            ["DingTalk__Client__MaxCallsPerSecondPerApi"] = "1000",
            ["OrgSync__MonthlyCallBudget"] = "1000000",
            ["Secrets__Directory"] = secrets,
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in Features.Org.OrgHarness.CorpEnvironmentFor(server.Sandbox, Api.Features.DingTalk.EventDelivery.Stream))
        {
            if (key.EndsWith("__AppSecret", StringComparison.Ordinal))
            {
                await File.WriteAllTextAsync(Path.Combine(secrets, key), value);
            }
            else
            {
                environment[key] = value;
            }
        }

        await using var service = ServiceProcess.Start(environment, _workDir);
        Assert.True(await service.WaitUntilOkAsync("/readyz", Deadline), service.Output);
        using var ops = new HttpClient { BaseAddress = service.BaseAddress };
        ops.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.SystemAdmin());
        await WaitAsync(async () => (await ops.GetFromJsonAsync<JsonArray>("/api/org/corps"))!.All(c => c!["lastFullSyncAt"] is not null), service);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, ServiceProcess service)
    {
        var until = DateTime.UtcNow + Deadline;
        while (DateTime.UtcNow < until)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail(service.Output);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Theory]
    [InlineData("Database__Provider", "Oracle", "Database:Provider")]
    [InlineData("Database__AutoMigrate", "sometimes", "Database:AutoMigrate")]
    [InlineData("Auth__SigningKey", "c2hvcnQ=", "Auth:SigningKey")]
    [InlineData("DingTalk__Sandbox__Url", "http://0.0.0.0:5090", "DingTalk:Sandbox:Url")]
    [InlineData("Secrets__Directory", "/nonexistent/eduding-secrets", "Secrets:Directory")]
    [InlineData("DingTalk__Sandbox__Enabled", "false", "DingTalk:Corps")]
    public async Task Start_WithInvalidSetting_ExitsNonZeroNamingTheKey(string variable, string value, string key)
    {
        await using var service = ServiceProcess.Start(new Dictionary<string, string> { [variable] = value }, _workDir);

        var exitCode = await service.WaitForExitAsync(Deadline);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(key, service.Output);
    }

    /// <summary>A deployment whose corps went missing must not quietly serve the sandbox's fake organization.</summary>
    [Fact]
    public async Task Start_InProductionWithoutCorps_IsRefused_UnlessTheSandboxIsAskedFor()
    {
        await using var service = ServiceProcess.Start(new Dictionary<string, string> { ["DingTalk__Sandbox__Enabled"] = "" }, _workDir);

        Assert.NotEqual(0, await service.WaitForExitAsync(Deadline));
        Assert.Contains("no corps are configured", service.Output);
        Assert.Contains("DingTalk:Sandbox:Enabled=true", service.Output);
    }

    [Fact]
    public async Task Start_WithCorpsAndTheSandboxAskedFor_IsRefused()
    {
        await using var service = ServiceProcess.Start(new Dictionary<string, string>
        {
            ["DingTalk__Corps__0__CorpId"] = "dingschool1", ["DingTalk__Corps__0__Name"] = "一所学校", ["DingTalk__Corps__0__AppKey"] = "dingkey",
            ["DingTalk__Corps__0__AppSecret"] = "secret", ["DingTalk__Corps__0__AgentId"] = "3000000001", ["DingTalk__Sandbox__Enabled"] = "true",
        }, _workDir);

        Assert.NotEqual(0, await service.WaitForExitAsync(Deadline));
        Assert.Contains("DingTalk:Sandbox:Enabled: the sandbox runs only where no corps are configured", service.Output);
    }

    [Fact]
    public async Task StandaloneSandbox_OnSigterm_StopsAndExitsZero()
    {
        await using var sandbox = ServiceProcess.StartSandbox();
        Assert.True(await sandbox.WaitUntilOkAsync("/sandbox/corps", Deadline), sandbox.Output);

        Assert.Equal(0, await sandbox.StopAsync(Deadline));
    }
}
