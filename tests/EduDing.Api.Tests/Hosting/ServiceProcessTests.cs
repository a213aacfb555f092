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

    [Theory]
    [InlineData("Database__Provider", "Oracle", "Database:Provider")]
    [InlineData("Database__AutoMigrate", "sometimes", "Database:AutoMigrate")]
    [InlineData("Auth__SigningKey", "c2hvcnQ=", "Auth:SigningKey")]
    public async Task Start_WithInvalidSetting_ExitsNonZeroNamingTheKey(string variable, string value, string key)
    {
        await using var service = ServiceProcess.Start(new Dictionary<string, string> { [variable] = value }, _workDir);

        var exitCode = await service.WaitForExitAsync(Deadline);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(key, service.Output);
    }
}
