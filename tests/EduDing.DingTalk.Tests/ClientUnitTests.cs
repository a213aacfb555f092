using EduDing.DingTalk.Models;
using EduDing.DingTalk.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EduDing.DingTalk.Tests;

public sealed class ErrorClassificationTests
{
    public static TheoryData<long?, string, string> Codes => new()
    {
        { 40014, "40014", "Authentication" }, { 42001, "42001", "Authentication" }, { 88, "88", "Authentication" },
        { null, "InvalidAuthentication", "Authentication" }, { 90018, "90018", "AppQps" },
        { null, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "AppQps" }, { 90002, "90002", "GlobalQps" },
        { null, "Forbidden.AccessDenied.QpsLimitForApi", "GlobalQps" }, { -1, "-1", "Busy" },
        { null, "systemError", "Busy" }, { 90020, "90020", "MonthlyQuota" },
        { null, "Forbidden.AccessDenied.ApiCountLimitForOrg", "MonthlyQuota" }, { 50004, "50004", "Permission" },
        { 60011, "60011", "Permission" }, { null, "Forbidden.AccessDenied.AccessTokenPermissionDenied", "Permission" },
        { 60003, "60003", "Other" }, { 40078, "40078", "Other" }, { null, "processCodeError", "Other" },
    };

    /// <summary>contract §10a/§10b: each documented code lands in the class that decides retry or stop.</summary>
    [Theory]
    [MemberData(nameof(Codes))]
    public void Classify_DocumentedCodes(long? errCode, string code, string kind)
    {
        Assert.Equal(kind, DingTalkException.Classify(errCode, code).ToString());
    }
}

public sealed class TokenRefreshTests(SandboxFixture fx) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task Token_IsRefreshedTenMinutesBeforeExpiry_NotAfter()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var client = DingTalkClient.Create(new HttpClient(), fx.Server.ClientOptions(o => o.MaxCallsPerSecondPerApi = 1000), time);
        var app = fx.School.App;
        await client.ListSubDepartmentIdsAsync(app, 1, default);

        time.Advance(TimeSpan.FromSeconds(7200 - 600 - 5));
        await client.ListSubDepartmentIdsAsync(app, 1, default);
        var beforeMargin = client.Tokens.FetchCount(app);
        time.Advance(TimeSpan.FromSeconds(10));
        await client.ListSubDepartmentIdsAsync(app, 1, default);

        Assert.Equal(1, beforeMargin);
        Assert.Equal(2, client.Tokens.FetchCount(app));
    }

    [Fact]
    public void AddDingTalkClient_ResolvesOneSharedClientBoundToConfiguration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DingTalk:Client:MaxCallsPerSecondPerApi"] = "15",
            ["DingTalk:Client:OapiBaseUrl"] = fx.Server.BaseUrl.ToString(),
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging()
            .AddDingTalkClient().BuildServiceProvider();

        var first = services.GetRequiredService<DingTalkClient>();

        Assert.Same(first, services.GetRequiredService<DingTalkClient>());
        Assert.Equal(15, services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DingTalkClientOptions>>().Value.MaxCallsPerSecondPerApi);
    }

    [Fact]
    public async Task SendWorkNotice_Over500ADayToOneUser_IsDroppedWith143105()
    {
        fx.Sandbox.Options.MessagesPerUserPerDay = 2;
        try
        {
            using var client = fx.NewClient();
            var corp = fx.Sandbox.World.Schools.Last();
            var guardian = corp.Classes.Values.First().Guardians[0].UserId;
            await client.SendWorkNoticeAsync(corp.App, [guardian], WorkNoticeMessages.Text("第一条"), default);
            await client.SendWorkNoticeAsync(corp.App, [guardian], WorkNoticeMessages.Text("第二条"), default);

            var third = await client.SendWorkNoticeAsync(corp.App, [guardian], WorkNoticeMessages.Text("第三条"), default);
            var result = await client.GetSendResultAsync(corp.App, third, default);

            Assert.Equal("143105", Assert.Single(result.ForbiddenList!).Code);
            Assert.Equal(2, fx.Sandbox.Notices.DeliveredTo(corp.CorpId, guardian));
        }
        finally
        {
            fx.Sandbox.Options.MessagesPerUserPerDay = 500;
        }
    }
}
