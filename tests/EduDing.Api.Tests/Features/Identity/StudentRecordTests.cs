using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Roster;
using EduDing.Api.Tests.Features.Org;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Identity;

/// <summary>A child's record: who may read it, and the audit row every read and refusal leaves.</summary>
public sealed class StudentRecordTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private readonly LiveOrg _live = fixture.Live;

    private AuditLog Audit => _live.Factory.Services.GetRequiredService<AuditLog>();

    private Task<string> SignInAsync(string corpId, string userId) => _live.SignInAsync(corpId, userId);

    private async Task<IReadOnlyList<AuditEntry>> EntriesAsync(string corpId, string studentUserId, string actorUserId) =>
        (await Audit.ListAsync([corpId], 0, 200, default)).Items
        .Where(e => e.StudentUserIds == studentUserId && e.ActorUserId == actorUserId && e.Action == RosterEndpoints.StudentReadAction)
        .ToList();

    [Fact]
    public async Task Guardian_ReadingTheirChild_SeesTheRecordAndLeavesOneAuditRow()
    {
        var school = _live.Sandbox.World.Schools.First();
        var roster = school.Classes.Values.First();
        var relation = roster.Relations[0];
        var token = await SignInAsync(school.CorpId, relation.GuardianUserId);
        // Other tests of this class may read the same child: count only the rows this read adds.
        var before = (await EntriesAsync(school.CorpId, relation.StudentUserId, relation.GuardianUserId)).Select(e => e.Id).ToHashSet();

        var record = await _live.Client(token).GetFromJsonAsync<JsonObject>($"/api/corps/{school.CorpId}/students/{relation.StudentUserId}");

        Assert.Equal(relation.StudentUserId, record!["userId"]!.ToString());
        Assert.Contains(record["guardians"]!.AsArray(), g => g!["userId"]!.ToString() == relation.GuardianUserId);
        var entry = Assert.Single(await EntriesAsync(school.CorpId, relation.StudentUserId, relation.GuardianUserId), e => !before.Contains(e.Id));
        Assert.Equal(AuditLog.Allowed, entry.Outcome);
        Assert.StartsWith("guardian of the student", entry.Reason);
    }

    [Fact]
    public async Task AnotherGuardian_IsRefusedSayingWhichScopeIsMissing_AndTheRefusalIsAudited()
    {
        var school = _live.Sandbox.World.Schools.First();
        var classes = school.Classes.Values.ToList();
        var child = classes[0].Students.First(s => !classes[^1].Relations.Any(r => r.StudentUserId == s.UserId)).UserId;
        var stranger = classes[^1].Guardians.First(g => !classes[0].Relations.Any(r => r.GuardianUserId == g.UserId && r.StudentUserId == child));
        var token = await SignInAsync(school.CorpId, stranger.UserId);

        var before = (await EntriesAsync(school.CorpId, child, stranger.UserId)).Select(e => e.Id).ToHashSet();

        var response = await _live.Client(token).GetAsync($"/api/corps/{school.CorpId}/students/{child}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Missing scope", await response.Content.ReadAsStringAsync());
        var entry = Assert.Single(await EntriesAsync(school.CorpId, child, stranger.UserId), e => !before.Contains(e.Id));
        Assert.Equal(AuditLog.Denied, entry.Outcome);
    }

    [Fact]
    public async Task TeacherOfTheClass_Reads_TeacherOfAnotherSchool_IsRefused()
    {
        var schools = _live.Sandbox.World.Schools.ToList();
        var (classId, roster) = schools[1].Classes.First();
        var teacher = roster.Teachers[1].UserId;
        var elsewhere = schools[2].Classes.Values.First().Teachers[0].UserId;
        var child = roster.Students[0].UserId;

        var own = await _live.Client(await SignInAsync(schools[1].CorpId, teacher)).GetAsync($"/api/corps/{schools[1].CorpId}/students/{child}");
        var other = await _live.Client(await SignInAsync(schools[2].CorpId, elsewhere)).GetAsync($"/api/corps/{schools[1].CorpId}/students/{child}");

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        Assert.Contains(await EntriesAsync(schools[1].CorpId, child, teacher), e => e.Reason == $"teacher of the student's class {classId}");
    }

    [Fact]
    public async Task SchoolAdmin_Reads_BureauAdminWithoutAGrant_IsRefused()
    {
        var world = _live.Sandbox.World;
        var school = world.Schools.Last();
        var child = school.Classes.Values.Last().Students[0].UserId;

        var admin = await _live.Client(await SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId))
            .GetAsync($"/api/corps/{school.CorpId}/students/{child}");
        var bureau = await _live.Client(await SignInAsync(world.Bureau.CorpId, world.Bureau.Users.Values.First(u => u.Admin).UserId))
            .GetAsync($"/api/corps/{school.CorpId}/students/{child}");

        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, bureau.StatusCode);
    }

    [Theory]
    [InlineData("no-such-corp", "x")]
    [InlineData(null, "no-such-student")]
    public async Task UnknownCorpOrStudent_Is404(string? corpId, string studentUserId)
    {
        var school = _live.Sandbox.World.Schools.First();
        var token = await SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);

        var response = await _live.Client(token).GetAsync($"/api/corps/{corpId ?? school.CorpId}/students/{studentUserId}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task AuditLog_SchoolAdminSeesTheirSchoolOnly_BureauAdminSeesAll_GuardianNone()
    {
        var world = _live.Sandbox.World;
        var schools = world.Schools.ToList();
        foreach (var school in schools.Take(2))
        {
            var relation = school.Classes.Values.First().Relations[0];
            await _live.Client(await SignInAsync(school.CorpId, relation.GuardianUserId))
                .GetAsync($"/api/corps/{school.CorpId}/students/{relation.StudentUserId}");
        }

        var schoolAdmin = await SignInAsync(schools[0].CorpId, schools[0].Users.Values.First(u => u.Admin).UserId);
        var bureauAdmin = await SignInAsync(world.Bureau.CorpId, world.Bureau.Users.Values.First(u => u.Admin).UserId);
        var guardian = await SignInAsync(schools[0].CorpId, schools[0].Classes.Values.First().Guardians[0].UserId);

        var own = await _live.Client(schoolAdmin).GetFromJsonAsync<JsonObject>("/api/audit?pageSize=200");
        var otherSchool = await _live.Client(schoolAdmin).GetAsync($"/api/audit?corpId={schools[1].CorpId}");
        var all = await _live.Client(bureauAdmin).GetFromJsonAsync<JsonObject>("/api/audit?pageSize=200");
        var byGuardian = await _live.Client(guardian).GetAsync("/api/audit");
        var badPaging = await _live.Client(bureauAdmin).GetAsync("/api/audit?pageSize=0");

        Assert.All(own!["items"]!.AsArray(), e => Assert.Equal(schools[0].CorpId, e!["subjectCorpId"]!.ToString()));
        Assert.Equal(HttpStatusCode.Forbidden, otherSchool.StatusCode);
        Assert.Superset(new[] { schools[0].CorpId, schools[1].CorpId }.ToHashSet(),
            all!["items"]!.AsArray().Select(e => e!["subjectCorpId"]!.ToString()).ToHashSet());
        Assert.Equal(HttpStatusCode.Forbidden, byGuardian.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badPaging.StatusCode);
    }
}
