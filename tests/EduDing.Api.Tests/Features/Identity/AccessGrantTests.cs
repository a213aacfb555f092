using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Tests.Features.Org;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Identity;

/// <summary>A school's admin lets a named bureau person read its children's records for a while, and can take it back.</summary>
public sealed class AccessGrantTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private readonly LiveOrg _live = fixture.Live;

    private Task<string> SignInAsync(string corpId, string userId) => _live.SignInAsync(corpId, userId);

    [Fact]
    public async Task BureauAdmin_WithAGrant_ReadsAChild_OnlyOnceTheOfficerApproved_AndNotAfterItIsRevoked()
    {
        var world = _live.Sandbox.World;
        var school = world.Schools.First();
        var bureauAdmin = world.Bureau.Users.Values.First(u => u.Admin).UserId;
        var child = school.Classes.Values.First().Students[0].UserId;
        var schoolAdmin = school.Users.Values.First(u => u.Admin).UserId;
        var admin = _live.Client(await SignInAsync(school.CorpId, schoolAdmin));
        var bureau = _live.Client(await SignInAsync(world.Bureau.CorpId, bureauAdmin));
        var (officerCorp, officerUser) = LiveOrg.ChildDataOfficer(world);
        var officer = _live.Client(await SignInAsync(officerCorp, officerUser));
        var before = await bureau.GetAsync($"/api/corps/{school.CorpId}/students/{child}");

        var created = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/access-grants/", new
        {
            granteeCorpId = world.Bureau.CorpId, granteeUserId = bureauAdmin, purpose = "复核近视筛查异常个案",
            expiresAt = DateTime.UtcNow.AddDays(2),
        });
        var grant = await created.Content.ReadFromJsonAsync<JsonObject>();
        var awaiting = await bureau.GetAsync($"/api/corps/{school.CorpId}/students/{child}");
        var approvalId = (long)grant!["approvalId"]!;
        var bySchoolAdmin = await admin.PostAsJsonAsync($"/api/approvals/{approvalId}/approve", new { });
        var byOfficer = await officer.PostAsJsonAsync($"/api/approvals/{approvalId}/approve", new { reason = "目的明确，期限合理" });
        var during = await bureau.GetAsync($"/api/corps/{school.CorpId}/students/{child}");
        var listed = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/access-grants/"))!
            .Single(g => (long)g!["id"]! == (long)grant["id"]!)!;
        var revoked = await admin.DeleteAsync($"/api/corps/{school.CorpId}/access-grants/{grant["id"]}");
        var after = await bureau.GetAsync($"/api/corps/{school.CorpId}/students/{child}");

        Assert.Equal(HttpStatusCode.Forbidden, before.StatusCode);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(AccessGrantStatus.AwaitingOfficer, grant["status"]!.ToString());
        Assert.Equal(HttpStatusCode.Forbidden, awaiting.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, bySchoolAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, byOfficer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, during.StatusCode);
        Assert.Equal(AccessGrantStatus.Active, listed["status"]!.ToString());
        Assert.NotNull(listed["confirmedAt"]);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
        var audit = (await _live.Factory.Services.GetRequiredService<AuditLog>().ListAsync([school.CorpId], 0, 500, default)).Items;
        Assert.Contains(audit, e => e.Action == AccessGrantEndpoints.GrantAction && e.Reason.StartsWith($"grant #{grant["id"]}"));
        Assert.Contains(audit, e => e.Action == AccessGrantEndpoints.ConfirmAction && e.ActorUserId == officerUser
                                    && e.Reason.StartsWith($"grant #{grant["id"]} confirmed"));
        Assert.Contains(audit, e => e.Action == AccessGrantEndpoints.RevokeAction);
        Assert.Contains(audit, e => e.ActorUserId == bureauAdmin && e.Outcome == AuditLog.Allowed && e.Reason.StartsWith($"access grant #{grant["id"]}"));
    }

    [Fact]
    public async Task AGrantTheOfficerRefuses_NeverTakesEffect()
    {
        var world = _live.Sandbox.World;
        var school = world.Schools.Skip(1).First();
        var grantee = world.Bureau.Users.Values.First(u => u.Admin).UserId;
        var child = school.Classes.Values.First().Students[0].UserId;
        var admin = _live.Client(await SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId));
        var bureau = _live.Client(await SignInAsync(world.Bureau.CorpId, grantee));
        var (officerCorp, officerUser) = LiveOrg.ChildDataOfficer(world);
        var officer = _live.Client(await SignInAsync(officerCorp, officerUser));

        var grant = await (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/access-grants/", new
        {
            granteeCorpId = world.Bureau.CorpId, granteeUserId = grantee, purpose = "了解情况", expiresAt = DateTime.UtcNow.AddDays(1),
        })).Content.ReadFromJsonAsync<JsonObject>();
        var inbox = (await officer.GetFromJsonAsync<JsonObject>("/api/me/approvals/inbox"))!;
        var refused = await officer.PostAsJsonAsync($"/api/approvals/{grant!["approvalId"]}/reject", new { reason = "目的不明确，不符合最小必要原则" });
        var read = await bureau.GetAsync($"/api/corps/{school.CorpId}/students/{child}");
        var listed = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/access-grants/"))!
            .Single(g => (long)g!["id"]! == (long)grant["id"]!)!;

        Assert.Contains(inbox["items"]!.AsArray(), i => (long)i!["id"]! == (long)grant["approvalId"]!);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        Assert.Equal(AccessGrantStatus.Refused, listed["status"]!.ToString());
        Assert.NotNull(listed["refusedAt"]);
        Assert.Null(listed["confirmedAt"]);
    }

    [Theory]
    [InlineData("{}", "granteeCorpId")]
    [InlineData("{\"granteeCorpId\":\"{bureau}\",\"granteeUserId\":\"{user}\",\"expiresAt\":\"{in2days}\"}", "purpose")]
    [InlineData("{\"granteeCorpId\":\"{bureau}\",\"granteeUserId\":\"{user}\",\"purpose\":\"x\",\"expiresAt\":\"{in30days}\"}", "expiresAt")]
    [InlineData("{\"granteeCorpId\":\"{school}\",\"granteeUserId\":\"{user}\",\"purpose\":\"x\",\"expiresAt\":\"{in2days}\"}", "granteeCorpId")]
    [InlineData("{\"granteeCorpId\":\"{bureau}\",\"granteeUserId\":\"nobody\",\"purpose\":\"x\",\"expiresAt\":\"{in2days}\"}", "granteeUserId")]
    [InlineData("{\"granteeCorpId\":\"{bureau}\",\"expiresAt\":\"soon\"}", "$.expiresAt")]
    public async Task CreateGrant_BadInput_Is400NamingTheField(string template, string field)
    {
        var world = _live.Sandbox.World;
        var school = world.Schools.Last();
        var body = template.Replace("{bureau}", world.Bureau.CorpId).Replace("{school}", school.CorpId)
            .Replace("{user}", world.Bureau.Users.Keys.First())
            .Replace("{in2days}", DateTime.UtcNow.AddDays(2).ToString("O")).Replace("{in30days}", DateTime.UtcNow.AddDays(30).ToString("O"));
        var admin = _live.Client(await SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId));

        var response = await admin.PostAsync($"/api/corps/{school.CorpId}/access-grants/", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(problem!["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
    }

    [Fact]
    public async Task CreateGrant_ByATeacherOrAnotherSchoolsAdmin_IsRefused()
    {
        var schools = _live.Sandbox.World.Schools.ToList();
        var teacher = _live.Client(await SignInAsync(schools[0].CorpId, schools[0].Classes.Values.First().Teachers[1].UserId));
        var otherAdmin = _live.Client(await SignInAsync(schools[1].CorpId, schools[1].Users.Values.First(u => u.Admin).UserId));

        var byTeacher = await teacher.GetAsync($"/api/corps/{schools[0].CorpId}/access-grants/");
        var byOtherAdmin = await otherAdmin.GetAsync($"/api/corps/{schools[0].CorpId}/access-grants/");

        Assert.Equal(HttpStatusCode.Forbidden, byTeacher.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byOtherAdmin.StatusCode);
    }

    [Fact]
    public async Task StaffWithAConfiguredAdminTitle_IsSchoolAdmin()
    {
        var school = _live.Sandbox.World.Schools.Skip(1).First();
        var head = school.Users.Values.First(u => u.Title == "主任" && !u.Admin);

        var me = await _live.Client(await SignInAsync(school.CorpId, head.UserId)).GetFromJsonAsync<JsonObject>("/api/me");

        Assert.Contains(me!["roles"]!.AsArray(), r => r!["role"]!.ToString() == "school-admin" && r["corpId"]!.ToString() == school.CorpId);
    }
}
