using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Training;
using EduDing.Api.Tests.Features.Org;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Training;

/// <summary>A school routes credit claims to DingTalk OA: the teacher's claim becomes an instance, decided there; the bpms events count the credit.</summary>
public sealed class TrainingDingTalkTests
{
    [Fact]
    public async Task ASchoolRoutedThroughOa_DecidesCreditClaimsInDingTalk()
    {
        await using var live = await LiveOrg.StartAsync(EventDelivery.Http);
        await live.WaitForInitialSyncAsync();
        var school = live.Sandbox.World.Schools.First();
        var admin = live.Client(await live.SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId));
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/approval-chains/{TrainingCreditKind.Name}", new
        {
            steps = new[] { new { approvers = ApproverSource.SchoolAdmins, mode = StepMode.Any } }, processCode = "PROC-EDUDING-CREDIT",
        })).StatusCode);

        var teacher = live.Client(await live.SignInAsync(school.CorpId, school.Classes.First().Value.Teachers[0].UserId));
        var claimed = await teacher.PostAsJsonAsync("/api/me/training/claims", new
        {
            corpId = school.CorpId, title = "浙江省班主任能力提升研修", organiser = "浙江教育学院", earnedOn = new DateOnly(2025, 7, 15), kind = "regular",
            source = "provincial", domain = 5, level = "advanced", credits = 30,
        });
        Assert.Equal(HttpStatusCode.Created, claimed.StatusCode);
        var requestId = (long)(await claimed.Content.ReadFromJsonAsync<JsonObject>())!["approvalRequestId"]!;
        var repo = live.Factory.Services.GetRequiredService<ApprovalRepository>();
        var request = (await repo.FindAsync(requestId, default))!;
        Assert.Equal(ApprovalRoute.DingTalk, request.Route);

        var approver = live.Sandbox.Approvals.Get(school, request.ProcessInstanceId!)!.Tasks!.First(t => t.Status == "RUNNING").UserId;
        live.Sandbox.Publish(live.Sandbox.Approvals.Decide(request.ProcessInstanceId!, approver, agree: true, "同意"));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        decimal Total(JsonObject record) => (decimal)record["compliance"]!["total"]!;
        while (Total((await teacher.GetFromJsonAsync<JsonObject>("/api/me/training"))!) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(30m, Total((await teacher.GetFromJsonAsync<JsonObject>("/api/me/training"))!));
        Assert.Equal(ApprovalStatus.Approved, (await repo.FindAsync(requestId, default))!.Status);
    }
}
