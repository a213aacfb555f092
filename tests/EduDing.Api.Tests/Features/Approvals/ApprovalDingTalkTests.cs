using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Notices;
using EduDing.Api.Tests.Features.Org;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Approvals;

/// <summary>
/// A school routes teachers' notices to DingTalk OA: the request becomes an approval instance in the sandbox, the
/// approver decides there, and bpms events (over HTTP push or Stream) that arrive reordered and twice, or not at all,
/// still leave each request where DingTalk says it is.
/// </summary>
public sealed class ApprovalDingTalkTests
{
    [Fact]
    public Task OverHttpPush_OaRoutedNotices_FollowDingTalk_ThroughReorderedDuplicatedAndMissedEvents() => RunAsync(EventDelivery.Http);

    [Fact]
    public Task OverStream_OaRoutedNotices_FollowDingTalk_ThroughReorderedDuplicatedAndMissedEvents() => RunAsync(EventDelivery.Stream);

    private static async Task RunAsync(EventDelivery delivery)
    {
        await using var live = await LiveOrg.StartAsync(delivery, extraSettings: new Dictionary<string, string>
        {
            ["Approvals:InstanceRecheckInterval"] = "00:00:01",
        });
        await live.WaitForInitialSyncAsync();
        var school = live.Sandbox.World.Schools.First();
        var admin = live.Client(await live.SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId));
        var chain = await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/approval-chains/{NoticeApprovalKind.Name}", new
        {
            steps = new[] { new { approvers = ApproverSource.SchoolAdmins, mode = StepMode.Any } },
            processCode = "PROC-EDUDING-NOTICE",
        });
        Assert.Equal(HttpStatusCode.OK, chain.StatusCode);

        var (classId, roster) = school.Classes.First();
        var teacher = live.Client(await live.SignInAsync(school.CorpId, roster.Teachers[0].UserId));
        async Task<(long NoticeId, ApprovalRequest Request)> ComposeAsync(string title)
        {
            var response = await teacher.PostAsJsonAsync("/api/notices", new
            {
                corpId = school.CorpId, title, body = "请家长留意。",
                audience = new[] { new { roles = new[] { "guardians" }, classIds = new[] { classId } } },
            });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var id = (long)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
            var request = await live.Factory.Services.GetRequiredService<ApprovalRepository>()
                .FindBySubjectAsync(NoticeApprovalKind.Name, NoticeApprovalKind.SubjectOf(id), default);
            Assert.NotNull(request);
            Assert.Equal(ApprovalRoute.DingTalk, request.Route);
            Assert.NotNull(request.ProcessInstanceId);
            return (id, request);
        }

        var (agreedNotice, agreed) = await ComposeAsync("秋游通知");
        var (refusedNotice, refused) = await ComposeAsync("收费通知");

        // Let the instances' start events be applied first: each only says "look again", and one read after the decision
        // would find the outcome the missed event carried.
        var started = DateTime.UtcNow.AddSeconds(30);
        while ((await live.Inbox.ListAsync(school.CorpId, "processed", 0, 200, default)).Items.Count(e => e.EventType == "bpms_instance_change") < 2
               || await live.Inbox.PendingCountAsync(default) > 0)
        {
            Assert.True(DateTime.UtcNow < started, "the instances' start events were not applied");
            await Task.Delay(100);
        }

        string Approver(string instanceId) =>
            live.Sandbox.Approvals.Get(school, instanceId)!.Tasks!.First(t => t.Status == "RUNNING").UserId;

        // Agreed in DingTalk; its events arrive newest first, and then all of them again.
        var events = live.Sandbox.Approvals.Decide(agreed.ProcessInstanceId!, Approver(agreed.ProcessInstanceId!), agree: true, "同意");
        var reordered = Enumerable.Reverse(events).ToList();
        live.Sandbox.Publish(reordered);
        live.Sandbox.Publish(reordered);
        // Refused in DingTalk; its events never arrive: the periodic re-read finds the outcome.
        _ = live.Sandbox.Approvals.Decide(refused.ProcessInstanceId!, Approver(refused.ProcessInstanceId!), agree: false, "不得收费");

        var repo = live.Factory.Services.GetRequiredService<ApprovalRepository>();
        var service = live.Factory.Services.GetRequiredService<ApprovalService>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && (await repo.FindAsync(agreed.Id, default))!.Status == ApprovalStatus.Pending)
        {
            await Task.Delay(100);
        }

        Assert.Equal(ApprovalStatus.Approved, (await repo.FindAsync(agreed.Id, default))!.Status);
        Assert.Equal(ApprovalStatus.Pending, (await repo.FindAsync(refused.Id, default))!.Status);
        while (DateTime.UtcNow < deadline && (await repo.FindAsync(refused.Id, default))!.Status == ApprovalStatus.Pending)
        {
            await Task.Delay(300);
            await service.RecheckInstancesAsync(default);
        }

        Assert.Equal(ApprovalStatus.Rejected, (await repo.FindAsync(refused.Id, default))!.Status);
        var notices = live.Factory.Services.GetRequiredService<NoticeRepository>();
        Assert.NotEqual(NoticeStatus.AwaitingApproval, (await notices.FindAsync(agreedNotice, default))!.Status);
        Assert.NotEqual(NoticeStatus.Rejected, (await notices.FindAsync(agreedNotice, default))!.Status);
        var refusedStatus = await notices.FindAsync(refusedNotice, default);
        Assert.Equal(NoticeStatus.Rejected, refusedStatus!.Status);
        Assert.Contains("不得收费", refusedStatus.ReviewComment);

        // An approval decided in DingTalk cannot be decided again in the app, and each outcome was recorded once.
        var again = await admin.PostAsJsonAsync($"/api/approvals/{agreed.Id}/approve", new { });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Single(await repo.ActionsAsync(agreed.Id, default), a => a.Action == "approve");
        Assert.Single(await repo.ActionsAsync(refused.Id, default), a => a.Action == "reject");
        Assert.Empty((await live.Inbox.ListAsync(school.CorpId, "unhandled", 0, 10, default)).Items);
    }
}
