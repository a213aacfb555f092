using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.Roster;
using EduDing.Api.Tests.Features.Org;

namespace EduDing.Api.Tests.Features.Audit;

/// <summary>
/// Verification and extracts of the audit chains, and the record of processing, through the API: bureau admins only, and
/// an extract is itself audited.
/// </summary>
public sealed class AuditEndpointTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private readonly LiveOrg _live = fixture.Live;

    [Fact]
    public async Task BureauAdmin_VerifiesTodaysChains_AndExtractsThem_AndTheExtractIsAudited()
    {
        var world = _live.Sandbox.World;
        var school = world.Schools.First();
        var bureau = _live.Client(await _live.SignInAsync(world.Bureau.CorpId, world.Bureau.Users.Values.First(u => u.Admin).UserId));
        var admin = _live.Client(await _live.SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId));
        // A read of a child's record writes an audit entry.
        var child = school.Classes.Values.First().Students[0].UserId;
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/corps/{school.CorpId}/students/{child}")).StatusCode);

        var verification = await bureau.GetFromJsonAsync<JsonObject>("/api/audit/verify");
        var extract = await bureau.GetFromJsonAsync<JsonObject>("/api/audit/extract");
        var afterwards = await bureau.GetFromJsonAsync<JsonObject>("/api/audit?pageSize=5");

        Assert.True(verification!["intact"]!.GetValue<bool>(), verification.ToJsonString());
        Assert.True(verification["entriesChecked"]!.GetValue<long>() >= 1);
        var entries = extract!["entries"]!.AsArray();
        Assert.Contains(entries, e => e!["action"]!.ToString() == RosterEndpoints.StudentReadAction
                                      && e["studentUserIds"]!.AsArray().Any(s => s!.ToString() == child));
        Assert.All(entries, e => Assert.Equal(64, e!["hash"]!.ToString().Length));
        Assert.True(extract["verification"]!["intact"]!.GetValue<bool>());
        Assert.Contains(afterwards!["items"]!.AsArray(), e => e!["action"]!.ToString() == "audit.extract");
        // The record of processing sees the same read, by a school's staff.
        var processing = await bureau.GetFromJsonAsync<JsonObject>("/api/privacy/processing-records");
        Assert.Contains(processing!["access"]!.AsArray(), a => a!["role"]!.ToString() == "school-staff"
                                                               && a["action"]!.ToString() == RosterEndpoints.StudentReadAction);
        Assert.DoesNotContain(child, processing.ToJsonString());
    }

    [Fact]
    public async Task SchoolAdminOrBureauStaff_CannotVerifyOrExtract()
    {
        var world = _live.Sandbox.World;
        var school = world.Schools.First();
        var admin = _live.Client(await _live.SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId));
        var staff = _live.Client(await _live.SignInAsync(world.Bureau.CorpId, world.Bureau.Users.Values.First(u => !u.Admin).UserId));

        foreach (var client in new[] { admin, staff })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/audit/verify")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/audit/extract")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/privacy/processing-records")).StatusCode);
        }
    }

    [Theory]
    [InlineData("from=2026-05-02&to=2026-05-01", "from")]
    [InlineData("from=2024-01-01&to=2026-05-01", "to")]
    [InlineData("from=yesterday", "from")]
    public async Task Verify_BadDays_Is400NamingTheField(string query, string field)
    {
        var world = _live.Sandbox.World;
        var bureau = _live.Client(await _live.SignInAsync(world.Bureau.CorpId, world.Bureau.Users.Values.First(u => u.Admin).UserId));

        var response = await bureau.GetAsync($"/api/audit/verify?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(problem!["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
    }
}
