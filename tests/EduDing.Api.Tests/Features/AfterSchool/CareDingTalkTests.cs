using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.AfterSchool;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Tests.Features.Org;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.AfterSchool;

/// <summary>
/// A school confirms after-school applications in DingTalk OA: a guardian cannot start an OA instance (not in the
/// 通讯录), so the class adviser reviews in the app, and passing the review starts the instance for the school's
/// confirmation; the admin agrees in DingTalk and the sandbox's bpms events enrol the child.
/// </summary>
public sealed class CareDingTalkTests
{
    [Fact]
    public async Task ASchoolRoutedThroughOa_ConfirmsInDingTalk_AfterTheAdvisersReviewInTheApp()
    {
        await using var live = await LiveOrg.StartAsync(EventDelivery.Http);
        await live.WaitForInitialSyncAsync();
        var school = live.Sandbox.World.Schools.First();
        var admin = live.Client(await live.SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId));
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/approval-chains/{CareApprovalKind.Name}", new
        {
            steps = new object[]
            {
                new { approvers = ApproverSource.ClassAdviser, mode = StepMode.Any },
                new { approvers = ApproverSource.SchoolAdmins, mode = StepMode.Any },
            },
            processCode = "PROC-EDUDING-AFTERSCHOOL",
        })).StatusCode);

        var (classId, roster) = school.Classes.First(c => c.Value.Teachers.Any(t => t.IsAdviser) && c.Value.Relations.Count > 0);
        var grade = (int)(await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/classes"))!
            .First(c => (long)c!["classId"]! == classId)!["gradeLevel"]!;
        var opens = DateTime.UtcNow.AddHours(-1);
        var created = await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", new
        {
            name = "秋季课后服务", kind = "term", startsOn = new DateOnly(2026, 9, 7), endsOn = new DateOnly(2027, 1, 22),
            signupOpensAt = opens, signupClosesAt = opens.AddDays(3), gradeLevels = new[] { grade }, terms = "服务时间、内容、收费与安全措施……",
            feeUnit = "term", sessions = Enumerable.Range(1, 5).Select(d => new { weekday = d, startsAt = "15:30", endsAt = "17:30" }).ToArray(),
            offerings = new[] { new { kind = "basic", name = "基础托管", contentType = "homework", capacity = 40 } },
        });
        var program = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/corps/{school.CorpId}/care-programs/{program["id"]}/open", null)).StatusCode);

        var relation = roster.Relations[0];
        var guardian = live.Client(await live.SignInAsync(school.CorpId, relation.GuardianUserId));
        var applied = await guardian.PostAsJsonAsync("/api/me/care/applications", new
        {
            programId = (long)program["id"]!, corpId = school.CorpId, studentUserId = relation.StudentUserId,
            offeringIds = new[] { (long)program["offerings"]![0]!["id"]! }, weekdays = new[] { 1, 2, 3, 4, 5 },
            pickup = new[] { new { name = "王奶奶", relation = "祖母", phone = "13800000000" } }, termsVersion = 1,
        });
        Assert.Equal(HttpStatusCode.Created, applied.StatusCode);
        var application = (await applied.Content.ReadFromJsonAsync<JsonObject>())!;
        var requestId = (long)application["approvalRequestId"]!;
        var repo = live.Factory.Services.GetRequiredService<ApprovalRepository>();
        Assert.Equal(ApprovalRoute.InApp, (await repo.FindAsync(requestId, default))!.Route);

        // The adviser passes the review in the app: the school's confirmation becomes an OA instance the adviser started.
        var adviser = live.Client(await live.SignInAsync(school.CorpId, roster.Teachers.First(t => t.IsAdviser).UserId));
        Assert.Equal(HttpStatusCode.OK, (await adviser.PostAsJsonAsync($"/api/approvals/{requestId}/approve", new { comment = "情况属实" })).StatusCode);
        var request = (await repo.FindAsync(requestId, default))!;
        Assert.Equal(ApprovalRoute.DingTalk, request.Route);
        Assert.Equal(ApprovalStatus.Pending, request.Status);
        var instance = live.Sandbox.Approvals.Get(school, request.ProcessInstanceId!)!;
        Assert.Equal(roster.Teachers.First(t => t.IsAdviser).UserId, instance.OriginatorUserId);
        // Decided in DingTalk: the app refuses the admin's in-app decision.
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync($"/api/approvals/{requestId}/approve", new { })).StatusCode);

        var approver = instance.Tasks!.First(t => t.Status == "RUNNING").UserId;
        Assert.True(school.Users[approver].Admin);
        live.Sandbox.Publish(live.Sandbox.Approvals.Decide(request.ProcessInstanceId!, approver, agree: true, "同意，统一实施"));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonObject Mine(JsonArray list) => list.First(a => (long)a!["id"]! == (long)application["id"]!)!.AsObject();
        while (DateTime.UtcNow < deadline && Mine((await guardian.GetFromJsonAsync<JsonArray>("/api/me/care/applications"))!)["status"]!.ToString() != "approved")
        {
            await Task.Delay(100);
        }

        var now = Mine((await guardian.GetFromJsonAsync<JsonArray>("/api/me/care/applications"))!);
        Assert.Equal("approved", now["status"]!.ToString());
        Assert.Equal("enrolled", now["places"]![0]!["status"]!.ToString());
        Assert.Equal(ApprovalStatus.Approved, (await repo.FindAsync(requestId, default))!.Status);
        Assert.Single(await repo.ActionsAsync(requestId, default), a => a.Action == "dingtalk");
    }
}
