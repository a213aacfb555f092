using EduDing.DingTalk.Models;
using EduDing.DingTalk.Sandbox.Runtime;
using EduDing.DingTalk.Tests.Infrastructure;

namespace EduDing.DingTalk.Tests;

public sealed class ClientWorkNoticeTests(SandboxFixture fx) : IClassFixture<SandboxFixture>
{
    private List<string> Guardians(int count, int skip = 0) =>
        fx.School.Classes.Values.SelectMany(r => r.Guardians).Select(g => g.UserId).Distinct().Skip(skip).Take(count).ToList();

    [Fact]
    public async Task SendWorkNotice_ThenResult_ShowsUnreadUntilOpened()
    {
        using var client = fx.NewClient();
        var app = fx.School.App;
        var recipients = Guardians(3);

        var taskId = await client.SendWorkNoticeAsync(app, recipients,
            WorkNoticeMessages.ActionCard("视力筛查结果", "请查看孩子的筛查结果", "查看", WorkNoticeMessages.MiniAppLink("5000000001", "pages/vision/result?id=1")),
            default);
        fx.Sandbox.Notices.MarkRead(taskId, recipients[0]);
        var progress = await client.GetSendProgressAsync(app, taskId, default);
        var result = await client.GetSendResultAsync(app, taskId, default);

        Assert.Equal(2, progress.Status);
        Assert.Equal([recipients[0]], result.ReadUserIdList);
        Assert.Equal(recipients.Skip(1), result.UnreadUserIdList);
        Assert.Empty(result.ForbiddenList!);
        Assert.All(recipients, r => Assert.Equal(1, fx.Sandbox.Notices.DeliveredTo(fx.School.CorpId, r)));
    }

    [Fact]
    public async Task SendWorkNotice_IdenticalMessageTwiceInADay_IsAcceptedButDroppedWith143106()
    {
        using var client = fx.NewClient();
        var app = fx.School.App;
        var recipients = Guardians(2, skip: 10);
        var message = WorkNoticeMessages.Text("明天放假，请注意安全。");
        await client.SendWorkNoticeAsync(app, recipients, message, default);

        var second = await client.SendWorkNoticeAsync(app, recipients, message, default);
        var result = await client.GetSendResultAsync(app, second, default);

        Assert.Equal(recipients.Order(), result.ForbiddenList!.Select(f => f.UserId).Order());
        Assert.All(result.ForbiddenList!, f => Assert.Equal(WorkNoticeStore.IdenticalMessage, f.Code));
        Assert.All(recipients, r => Assert.Equal(1, fx.Sandbox.Notices.DeliveredTo(fx.School.CorpId, r)));
    }

    [Fact]
    public async Task SendWorkNotice_OverThePerMinuteRecipientCap_DropsSilentlyWith143104()
    {
        var corp = fx.Sandbox.World.Schools.Skip(2).First();
        fx.Sandbox.Options.RecipientsPerMinute = 4;
        try
        {
            using var client = fx.NewClient();
            var recipients = corp.Classes.Values.SelectMany(r => r.Guardians).Select(g => g.UserId).Distinct().Take(6).ToList();

            var taskId = await client.SendWorkNoticeAsync(corp.App, recipients, WorkNoticeMessages.Text("家长会通知"), default);
            var result = await client.GetSendResultAsync(corp.App, taskId, default);

            Assert.Equal(2, result.ForbiddenList!.Count(f => f.Code == WorkNoticeStore.PerMinuteExceeded));
            Assert.Equal(4, result.UnreadUserIdList!.Count);
        }
        finally
        {
            fx.Sandbox.Options.RecipientsPerMinute = 5000;
        }
    }

    [Fact]
    public async Task SendWorkNotice_UnknownUser_IsListedInvalid()
    {
        using var client = fx.NewClient();

        var taskId = await client.SendWorkNoticeAsync(fx.School.App, [Guardians(1, skip: 20)[0], "no-such-user"],
            WorkNoticeMessages.Text("测试"), default);
        var result = await client.GetSendResultAsync(fx.School.App, taskId, default);

        Assert.Equal(["no-such-user"], result.InvalidUserIdList);
    }

    [Fact]
    public async Task SendWorkNotice_MoreThan100Recipients_IsRefusedBeforeCalling()
    {
        var log = new CallLog();
        using var client = fx.NewClient(log: log);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.SendWorkNoticeAsync(fx.School.App,
            Enumerable.Range(0, 101).Select(i => $"u{i}").ToList(), WorkNoticeMessages.Text("x"), default));

        Assert.Equal(0, log.Count(DingTalkApis.SendWorkNotice));
    }

    [Fact]
    public async Task SendWorkNotice_MessageOver2048Bytes_IsRefusedBeforeCalling()
    {
        using var client = fx.NewClient();

        await Assert.ThrowsAsync<ArgumentException>(() => client.SendWorkNoticeAsync(fx.School.App, Guardians(1),
            WorkNoticeMessages.Markdown("长通知", new string('通', 800)), default));
    }

    [Fact]
    public async Task RecallWorkNotice_WithinADay_Succeeds()
    {
        using var client = fx.NewClient();
        var taskId = await client.SendWorkNoticeAsync(fx.School.App, Guardians(1, skip: 30), WorkNoticeMessages.Text("撤回测试"), default);

        await client.RecallWorkNoticeAsync(fx.School.App, taskId, default);

        Assert.True(fx.Sandbox.Notices.Find(fx.School, taskId)!.Recalled);
    }
}

public sealed class ClientApprovalTests(SandboxFixture fx) : IClassFixture<SandboxFixture>
{
    private CreateProcessInstanceRequest Request(string originator) => new(originator, "PROC-EDUDING-AFTERSCHOOL",
        [new FormComponentValue("学生", "王小明"), new FormComponentValue("托管时段", "周一至周五 16:00-17:30")]);

    [Fact]
    public async Task CreateThenApprove_InstanceCompletesAgreed()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var teacher = corp.Users.Values.First(u => !u.Admin);
        var admin = corp.Users.Values.First(u => u.Admin);

        var id = await client.CreateProcessInstanceAsync(corp.App, Request(teacher.UserId), default);
        var running = await client.GetProcessInstanceAsync(corp.App, id, default);
        lock (fx.Sandbox.World.Sync)
        {
            fx.Sandbox.Publish(fx.Sandbox.Approvals.Decide(id, admin.UserId, agree: true, "同意"));
        }

        var done = await client.GetProcessInstanceAsync(corp.App, id, default);

        Assert.Equal("RUNNING", running.Status);
        Assert.Equal(admin.UserId, Assert.Single(running.Tasks!).UserId);
        Assert.True(done.IsApproved);
        Assert.Equal("王小明", done.FormComponentValues![0].Value);
    }

    [Fact]
    public async Task Refuse_InstanceCompletesRefused()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var id = await client.CreateProcessInstanceAsync(corp.App, Request(corp.Users.Values.First(u => !u.Admin).UserId), default);
        lock (fx.Sandbox.World.Sync)
        {
            fx.Sandbox.Approvals.Decide(id, corp.Users.Values.First(u => u.Admin).UserId, agree: false, "名额已满");
        }

        var done = await client.GetProcessInstanceAsync(corp.App, id, default);

        Assert.Equal(("COMPLETED", "refuse"), (done.Status, done.Result));
        Assert.False(done.IsApproved);
    }

    [Fact]
    public async Task Terminate_InstanceIsTerminatedWithoutResult()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var id = await client.CreateProcessInstanceAsync(corp.App, Request(corp.Users.Values.First(u => !u.Admin).UserId), default);
        lock (fx.Sandbox.World.Sync)
        {
            fx.Sandbox.Approvals.Terminate(id);
        }

        var done = await client.GetProcessInstanceAsync(corp.App, id, default);

        Assert.Equal(("TERMINATED", (string?)null), (done.Status, done.Result));
    }

    [Fact]
    public async Task AndNode_NeedsEveryApprover()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var approvers = corp.Users.Values.Where(u => !u.Admin).Take(2).Select(u => u.UserId).ToList();
        var id = await client.CreateProcessInstanceAsync(corp.App,
            Request(corp.Users.Values.First(u => u.Admin).UserId) with { Approvers = [new ProcessApprover("AND", approvers)] }, default);

        lock (fx.Sandbox.World.Sync)
        {
            fx.Sandbox.Approvals.Decide(id, approvers[0], agree: true, null);
        }

        var half = await client.GetProcessInstanceAsync(corp.App, id, default);
        lock (fx.Sandbox.World.Sync)
        {
            fx.Sandbox.Approvals.Decide(id, approvers[1], agree: true, null);
        }

        var done = await client.GetProcessInstanceAsync(corp.App, id, default);

        Assert.Equal("RUNNING", half.Status);
        Assert.True(done.IsApproved);
    }

    [Fact]
    public async Task Create_UnknownProcessCode_IsHttp400ProcessCodeError()
    {
        using var client = fx.NewClient();
        var corp = fx.School;

        var error = await Assert.ThrowsAsync<DingTalkException>(() => client.CreateProcessInstanceAsync(corp.App,
            Request(corp.Users.Keys.First()) with { ProcessCode = "PROC-NOPE" }, default));

        Assert.Equal(("processCodeError", 400), (error.Code, error.HttpStatus));
        Assert.Null(error.ErrCode);
        Assert.False(string.IsNullOrEmpty(error.RequestId));
    }
}
