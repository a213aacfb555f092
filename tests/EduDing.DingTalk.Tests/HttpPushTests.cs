using EduDing.DingTalk.Tests.Infrastructure;

namespace EduDing.DingTalk.Tests;

public sealed class HttpPushTests(SandboxFixture fx) : IClassFixture<SandboxFixture>, IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public void Dispose()
    {
        fx.Sandbox.Options.PushDuplicateRate = 0;
        foreach (var corp in fx.Sandbox.World.Corps)
        {
            corp.CallbackUrl = null;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Register_SendsCheckUrl_ThenEventsArriveEncryptedWithBothSignatureNames()
    {
        var corp = fx.School;
        await using var receiver = await CallbackReceiver.StartAsync(corp);

        await fx.Sandbox.RegisterCallbackAsync(corp.CorpId, receiver.Url, verify: true, default);
        var user = corp.Users.Keys.First();
        fx.Sandbox.Mutate.UpdateUser(corp.CorpId, user, title: "教研组长");
        await WaitUntilAsync(() => receiver.Received.Count >= 2);

        var events = receiver.Received.ToList();
        Assert.Equal("check_url", events[0]["EventType"]!.ToString());
        var modified = events[1];
        Assert.Equal("user_modify_org", modified["EventType"]!.ToString());
        Assert.Equal(corp.CorpId, modified["CorpId"]!.ToString());
        Assert.Equal(user, modified["userId"]![0]!.ToString());
        Assert.False(string.IsNullOrEmpty(modified["eventId"]?.ToString()));
        var query = receiver.Queries.Last();
        Assert.Equal(query["signature"].ToString(), query["msg_signature"].ToString());
    }

    [Fact]
    public async Task Register_ReceiverThatDoesNotAnswerSuccess_IsRefused()
    {
        var corp = fx.Sandbox.World.Schools.Skip(1).First();
        await using var receiver = await CallbackReceiver.StartAsync(fx.Bureau); // wrong app's keys: cannot decrypt
        receiver.Down = true;

        await Assert.ThrowsAnyAsync<Exception>(() => fx.Sandbox.RegisterCallbackAsync(corp.CorpId, receiver.Url, verify: true, default));

        Assert.Null(corp.CallbackUrl);
    }

    [Fact]
    public async Task FailedPush_IsRetriedAndDelivered()
    {
        var corp = fx.Sandbox.World.Schools.Skip(2).First();
        await using var receiver = await CallbackReceiver.StartAsync(corp);
        await fx.Sandbox.RegisterCallbackAsync(corp.CorpId, receiver.Url, verify: false, default);
        var failuresBefore = fx.Sandbox.Counters.Get("push.failures");
        receiver.FailNext(1);

        fx.Sandbox.Mutate.AddDepartment(corp.CorpId, "新建部门", 1);
        await WaitUntilAsync(() => !receiver.Received.IsEmpty);

        Assert.Equal("org_dept_create", Assert.Single(receiver.Received)["EventType"]!.ToString());
        Assert.True(fx.Sandbox.Counters.Get("push.failures") > failuresBefore);
    }

    [Fact]
    public async Task PushFailingEveryRetry_EndsInTheFailedList_WhichTheClientDrainsOnce()
    {
        var corp = fx.Sandbox.World.Schools.Skip(3).First();
        await using var receiver = await CallbackReceiver.StartAsync(corp);
        await fx.Sandbox.RegisterCallbackAsync(corp.CorpId, receiver.Url, verify: false, default);
        receiver.Down = true;
        var classId = corp.Classes.Keys.First();
        var student = corp.Classes[classId].Students[0].UserId;

        fx.Sandbox.Mutate.RenameStudent(corp.CorpId, classId, student, "王改名");
        fx.Sandbox.Mutate.UpdateUser(corp.CorpId, corp.Users.Keys.First(), title: "副校长");
        await WaitUntilAsync(() => fx.Sandbox.Push.FailedCount(corp.CorpId) == 2);
        using var client = fx.NewClient();
        var page = await client.GetFailedCallbacksAsync(corp.App, default);
        var again = await client.GetFailedCallbacksAsync(corp.App, default);

        Assert.Empty(receiver.Received);
        Assert.Equal(["edu_user_update", "user_modify_org"], page.Events.Select(e => e.EventType).Order());
        var rename = page.Events.Single(e => e.EventType == "edu_user_update");
        Assert.Equal(student, rename.Data!["userid"]!.ToString());
        Assert.Equal(corp.CorpId, rename.Data!["corpid"]!.ToString());
        Assert.False(page.HasMore);
        Assert.Empty(again.Events);
    }

    [Fact]
    public async Task DuplicateDelivery_CarriesTheSameEventId()
    {
        var corp = fx.Sandbox.World.Schools.Last();
        await using var receiver = await CallbackReceiver.StartAsync(corp);
        await fx.Sandbox.RegisterCallbackAsync(corp.CorpId, receiver.Url, verify: false, default);
        fx.Sandbox.Options.PushDuplicateRate = 1;

        fx.Sandbox.Mutate.UpdateUser(corp.CorpId, corp.Users.Keys.Last(), title: "体育教师");
        await WaitUntilAsync(() => receiver.Received.Count >= 2);

        var ids = receiver.Received.Select(e => e["eventId"]!.ToString()).ToList();
        Assert.Equal(2, ids.Count);
        Assert.Single(ids.Distinct());
    }
}
