using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Demo;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Demo;

/// <summary>
/// The default run's demo: with the workers on, as under dotnet run, the mirrored demo org gets an open round with
/// records, a notice the bureau sent, and a teacher's notice waiting in the school admin's approval inbox — once.
/// </summary>
public sealed class DemoDataTests
{
    [Fact]
    public async Task DefaultRun_MirroredDemoOrg_HasAnOpenRoundASentNoticeAndAPendingApproval_Once()
    {
        await using var factory = new ApiFactory();
        factory.Settings["DingTalk:Sandbox:DemoData"] = "true";
        factory.Settings["OrgSync:RunWorkers"] = "true";
        factory.Settings["Notices:RunWorkers"] = "true";
        factory.Settings["Approvals:RunWorker"] = "true";
        factory.CreateClient().Dispose();
        var world = factory.Services.GetRequiredService<SandboxHost>().Sandbox.World;
        var bureauAdmin = world.Bureau.Users.Values.First(u => u.Admin).UserId;
        var bureau = Client(factory, TestTokens.Person(world.Bureau.CorpId, bureauAdmin, $"bureau-admin@{world.Bureau.CorpId}", $"bureau-staff@{world.Bureau.CorpId}"));

        var round = await EventuallyAsync(async () => (await bureau.GetFromJsonAsync<JsonArray>("/api/vision/rounds"))!
            .FirstOrDefault(r => r!["name"]!.ToString() == DemoData.RoundName));
        var sent = await EventuallyAsync(async () => (await bureau.GetFromJsonAsync<JsonObject>("/api/notices"))!["items"]!.AsArray()
            .FirstOrDefault(n => n!["status"]!.ToString() == "sent"));
        var school = world.Schools.First();
        var schoolAdmin = Client(factory, TestTokens.Person(school.CorpId, school.Users.Values.First(u => u.Admin).UserId,
            $"school-admin@{school.CorpId}", $"school-staff@{school.CorpId}"));
        var inbox = await schoolAdmin.GetFromJsonAsync<JsonObject>("/api/me/approvals/inbox");
        var statistics = await bureau.GetFromJsonAsync<JsonObject>($"/api/vision/rounds/{round["id"]}/statistics?by=class&corpId={school.CorpId}");
        var again = await factory.Services.CreateScope().ServiceProvider.GetRequiredService<DemoData>().SeedAsync(default);

        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));
        Assert.InRange(today, DateOnly.Parse(round["opensOn"]!.ToString()), DateOnly.Parse(round["closesOn"]!.ToString()));
        // Two classes screened in full: every enrolled child of each has a record.
        var screenedClasses = statistics!["rows"]!.AsArray().Where(r => (int?)r!["screened"] > 0).ToList();
        Assert.Equal(2, screenedClasses.Count);
        Assert.All(screenedClasses, c => Assert.Equal((int?)c!["enrolled"], (int?)c["screened"]));
        Assert.NotNull(sent);
        Assert.Contains(inbox!["items"]!.AsArray(), a => a!["status"]!.ToString() == "pending" && a["kind"]!.ToString() == "notice");
        Assert.Equal(DemoSeedOutcome.AlreadyThere, again.Outcome);
        Assert.Single((await bureau.GetFromJsonAsync<JsonArray>("/api/vision/rounds"))!, r => r!["name"]!.ToString() == DemoData.RoundName);
    }

    private static HttpClient Client(ApiFactory factory, string token)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Waits for the background workers (the sync, the demo, the outbox); a generous bound, not a timing assertion.</summary>
    private static async Task<JsonNode> EventuallyAsync(Func<Task<JsonNode?>> probe)
    {
        for (var i = 0; i < 240; i++)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException("The demo did not appear within 2 minutes.");
    }
}
