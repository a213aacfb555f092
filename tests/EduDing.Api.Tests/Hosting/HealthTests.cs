using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Hosting;

public sealed class HealthTests
{
    [Fact]
    public async Task Readyz_IsOkOnceMigratedAndAnOrganizationIsMirrored_NotBefore()
    {
        await using var factory = new ApiFactory();
        var client = factory.CreateClient();

        var alive = await client.GetAsync("/healthz");
        var unsynced = await client.GetAsync("/readyz");
        var unsyncedBody = await unsynced.Content.ReadFromJsonAsync<JsonElement>();
        var org = factory.Services.GetRequiredService<EduDing.Api.Features.Org.OrgRepository>();
        var now = DateTime.UtcNow;
        await org.UpsertCorpsAsync([("corp-1", "School", "一所学校")], now, default);
        await org.MarkFullSyncedAsync("corp-1", now, now, default);
        var ready = await client.GetFromJsonAsync<JsonElement>("/readyz");

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unsynced.StatusCode);
        Assert.Equal("Unhealthy", unsyncedBody.GetProperty("checks").GetProperty("orgMirror").GetProperty("status").GetString());
        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("orgMirror").GetProperty("status").GetString());
    }

    [Fact]
    public async Task ApiResponses_CarrySecurityHeaders_AndNoServerHeader()
    {
        await using var factory = new ApiFactory();
        var client = factory.CreateClient();

        var response = await client.GetAsync("/api/me");

        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store");
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task Readyz_WithMigrationsPending_Is503AndSaysWhich()
    {
        await using var factory = new ApiFactory { Settings = { ["Database:AutoMigrate"] = "false" } };
        var client = factory.CreateClient();

        var alive = await client.GetAsync("/healthz");
        var ready = await client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("pending", body.GetProperty("checks").GetProperty("database").GetProperty("description").GetString());
    }

    [Fact]
    public async Task Readyz_DatabaseServerDown_Is503()
    {
        // Port 1 on loopback: nothing listens there, so every connection is refused.
        await using var factory = new ApiFactory
        {
            Settings =
            {
                ["Database:Provider"] = "MySql",
                ["Database:AutoMigrate"] = "false",
                ["Database:ConnectionString"] = "Server=127.0.0.1;Port=1;User ID=nobody;Connection Timeout=2",
            },
        };

        var ready = await factory.CreateClient().GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("Database unreachable",
            body.GetProperty("checks").GetProperty("database").GetProperty("description").GetString());
    }
}
