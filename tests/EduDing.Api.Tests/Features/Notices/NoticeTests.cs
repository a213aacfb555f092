using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Tests.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk.Sandbox.Model;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Notices;

/// <summary>The demo org with a per-minute cap scaled up (both sides), so a fan-out takes seconds, not minutes.</summary>
public sealed class NoticeFixture : IAsyncLifetime
{
    public const int RecipientsPerMinute = 60_000;

    internal LiveOrg Live { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var sandbox = LiveOrg.DefaultSandboxOptions();
        sandbox.RecipientsPerMinute = RecipientsPerMinute;
        Live = await LiveOrg.StartAsync(Api.Features.DingTalk.EventDelivery.Http, sandbox, new Dictionary<string, string>
        {
            ["DingTalk:Client:WorkNoticeRecipientsPerMinute"] = RecipientsPerMinute.ToString(),
        });
        await Live.WaitForInitialSyncAsync();
    }

    public ValueTask DisposeAsync() => Live.DisposeAsync();
}

/// <summary>Notices end to end: compose, approval, fan-out through the sandbox's work notices, reading, reminding, recalling.</summary>
public sealed class NoticeTests(NoticeFixture fixture) : IClassFixture<NoticeFixture>
{
    private readonly LiveOrg _live = fixture.Live;

    private SandboxCorp Bureau => _live.Sandbox.World.Bureau;

    private SandboxCorp School => _live.Sandbox.World.Schools.First();

    private async Task<HttpClient> AsAsync(SandboxCorp corp, string userId) => _live.Client(await _live.SignInAsync(corp.CorpId, userId));

    private Task<HttpClient> AsBureauAdminAsync() => AsAsync(Bureau, Bureau.Users.Values.First(u => u.Admin).UserId);

    private Task<HttpClient> AsSchoolAdminAsync(SandboxCorp school) => AsAsync(school, school.Users.Values.First(u => u.Admin).UserId);

    private static async Task<JsonObject> ComposeAsync(HttpClient sender, object request)
    {
        var response = await sender.PostAsJsonAsync("/api/notices", request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>Polls the sender's view until every targeted recipient has an outcome and the notice is complete.</summary>
    private static async Task<JsonObject> WaitUntilSentAsync(HttpClient sender, long id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        JsonObject? detail = null;
        while (DateTime.UtcNow < deadline)
        {
            detail = await sender.GetFromJsonAsync<JsonObject>($"/api/notices/{id}");
            var totals = detail!["progress"]!["totals"]!;
            if (detail["notice"]!["status"]!.ToString() == "sent" && (int)totals["pending"]! == 0 && (int)totals["sent"]! == 0)
            {
                return detail;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Notice {id} did not finish: {detail}");
        return null!;
    }

    private IEnumerable<(string CorpId, string UserId)> GuardiansOf(IEnumerable<SandboxCorp> schools) =>
        schools.SelectMany(s => s.Classes.Values.SelectMany(c => c.Guardians).Select(g => (s.CorpId, g.UserId))).Distinct();

    [Fact]
    public async Task NoticeToThreeSchools_EachSchoolsMessageOpensThatSchoolsOwnMiniApp()
    {
        var schools = _live.Sandbox.World.Schools.Take(3).ToList();
        var bureau = await AsBureauAdminAsync();
        var tasksBefore = schools.ToDictionary(s => s.CorpId, s => _live.Sandbox.Notices.TasksOf(s.CorpId).Count);

        var notice = await ComposeAsync(bureau, new
        {
            corpId = Bureau.CorpId, title = "三校联合通知", body = "请查看。",
            audience = schools.Select(s => new { corpId = s.CorpId, roles = new[] { "guardians" }, classIds = new[] { s.Classes.Keys.First() } }).ToArray(),
        });
        await WaitUntilSentAsync(bureau, (long)notice["id"]!);

        Assert.Equal(3, schools.Select(s => s.MiniAppId).Distinct().Count());
        foreach (var school in schools)
        {
            var sent = _live.Sandbox.Notices.TasksOf(school.CorpId).Skip(tasksBefore[school.CorpId]).Select(t => t.Message.ToJsonString()).ToList();
            Assert.NotEmpty(sent);
            Assert.All(sent, m => Assert.Contains($"miniAppId={school.MiniAppId}", m));
            Assert.All(sent, m => Assert.DoesNotContain(schools.Where(o => o != school), o => m.Contains(o.MiniAppId, StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task BureauNoticeToEveryGuardian_EachGetsExactlyOneMessage_NoneDropped()
    {
        var guardians = GuardiansOf(_live.Sandbox.World.Schools).ToList();
        var before = guardians.ToDictionary(g => g, g => _live.Sandbox.Notices.DeliveredTo(g.CorpId, g.UserId));
        var droppedBefore = _live.Sandbox.Notices.DroppedCount();
        var bureau = await AsBureauAdminAsync();

        var notice = await ComposeAsync(bureau, new
        {
            corpId = Bureau.CorpId, title = "寒假安全告家长书", body = "各位家长：寒假将至，请注意孩子的出行安全。",
            audience = new[] { new { roles = new[] { "guardians" } } },
        });
        Assert.Equal("scheduled", notice["status"]!.ToString());
        var detail = await WaitUntilSentAsync(bureau, (long)notice["id"]!);

        var totals = detail["progress"]!["totals"]!;
        Assert.Equal(guardians.Count, (int)totals["targeted"]!);
        Assert.Equal(guardians.Count, (int)totals["delivered"]!);
        Assert.Equal(0, (int)totals["failed"]!);
        Assert.All(guardians, g => Assert.Equal(before[g] + 1, _live.Sandbox.Notices.DeliveredTo(g.CorpId, g.UserId)));
        Assert.Equal(droppedBefore, _live.Sandbox.Notices.DroppedCount());
        Assert.Equal(_live.Sandbox.World.Schools.Count(), detail["progress"]!["bySchool"]!.AsArray().Count);
        Assert.Equal(guardians.Count, detail["progress"]!["byClass"]!.AsArray().Sum(c => (int)c!["counts"]!["targeted"]!));
    }

    [Fact]
    public async Task TeacherNotice_WaitsForTheSchoolAdmin_ThenReachesTheClassGuardians_AndTheTeacherHearsTheOutcome()
    {
        var (classId, roster) = School.Classes.First();
        var teacherId = roster.Teachers[0].UserId;
        var teacher = await AsAsync(School, teacherId);
        var guardians = roster.Guardians.Select(g => g.UserId).Distinct().ToList();
        var before = guardians.ToDictionary(g => g, g => _live.Sandbox.Notices.DeliveredTo(School.CorpId, g));

        var notice = await ComposeAsync(teacher, new
        {
            corpId = School.CorpId, title = "明天春游", body = "请带好水壶。",
            audience = new[] { new { roles = new[] { "guardians" }, classIds = new[] { classId } } },
        });
        var id = (long)notice["id"]!;
        Assert.Equal("awaiting-approval", notice["status"]!.ToString());
        await Task.Delay(500);
        Assert.All(guardians, g => Assert.Equal(before[g], _live.Sandbox.Notices.DeliveredTo(School.CorpId, g)));

        var admin = await AsSchoolAdminAsync(School);
        var approved = await admin.PostAsJsonAsync($"/api/notices/{id}/approve", new { comment = "同意" });
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        var again = await admin.PostAsJsonAsync($"/api/notices/{id}/approve", new { });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        var detail = await WaitUntilSentAsync(teacher, id);
        Assert.Equal(guardians.Count, (int)detail["progress"]!["totals"]!["delivered"]!);
        Assert.All(guardians, g => Assert.Equal(before[g] + 1, _live.Sandbox.Notices.DeliveredTo(School.CorpId, g)));

        // The teacher's own notice list carries the approval, sent through the same pipeline.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonObject mine;
        do
        {
            mine = (await teacher.GetFromJsonAsync<JsonObject>("/api/me/notices"))!;
        }
        while (!mine["items"]!.AsArray().Any(n => n!["category"]!.ToString() == "notice-review" && n["title"]!.ToString().Contains("明天春游"))
               && DateTime.UtcNow < deadline && await Task.Delay(100).ContinueWith(_ => true));
        Assert.Contains(mine["items"]!.AsArray(), n => n!["title"]!.ToString() == "通知已批准：明天春游");
    }

    [Fact]
    public async Task RejectedNotice_IsNeverSent()
    {
        var (classId, roster) = School.Classes.Last();
        var teacher = await AsAsync(School, roster.Teachers[0].UserId);
        var notice = await ComposeAsync(teacher, new
        {
            corpId = School.CorpId, title = "收费通知", body = "请缴纳资料费。",
            audience = new[] { new { roles = new[] { "guardians" }, classIds = new[] { classId } } },
        });
        var id = (long)notice["id"]!;

        var admin = await AsSchoolAdminAsync(School);
        var rejected = await (await admin.PostAsJsonAsync($"/api/notices/{id}/reject", new { comment = "不得收取资料费" }))
            .Content.ReadFromJsonAsync<JsonObject>();

        Assert.Equal("rejected", rejected!["status"]!.ToString());
        Assert.Equal("不得收取资料费", rejected["reviewComment"]!.ToString());
        await Task.Delay(500);
        var detail = await teacher.GetFromJsonAsync<JsonObject>($"/api/notices/{id}");
        Assert.Equal(0, (int)detail!["progress"]!["totals"]!["targeted"]!);
    }

    [Fact]
    public async Task Teacher_CannotAddressOtherClassesOrStaff_AndEachRefusalNamesTheField()
    {
        var classes = School.Classes.ToList();
        var teacherId = classes[0].Value.Teachers[0].UserId;
        var notTaught = classes.First(c => c.Value.Teachers.All(t => t.UserId != teacherId)).Key;
        var teacher = await AsAsync(School, teacherId);

        var response = await teacher.PostAsJsonAsync("/api/notices", new
        {
            corpId = School.CorpId, title = "t", body = "b",
            audience = new object[]
            {
                new { roles = new[] { "guardians" }, classIds = new[] { notTaught } },
                new { roles = new[] { "staff" }, classIds = new[] { classes[0].Key } },
            },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("audience[0].classIds"), errors.ToJsonString());
        Assert.True(errors.ContainsKey("audience[1].roles"), errors.ToJsonString());
    }

    [Fact]
    public async Task BadInput_IsA400NamingEachField_AndNothingIsStored()
    {
        var admin = await AsSchoolAdminAsync(School);
        var before = (await admin.GetFromJsonAsync<JsonObject>("/api/notices"))!["total"]!.GetValue<int>();

        var response = await admin.PostAsJsonAsync("/api/notices", new
        {
            corpId = School.CorpId, title = "", body = new string('x', 5001),
            links = new[] { new { title = "a", url = "javascript:alert(1)" } },
            audience = new[] { new { corpId = _live.Sandbox.World.Schools.Last().CorpId, roles = new[] { "pupils" } } },
            sendAt = "2020-01-01T08:00:00+08:00",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        foreach (var field in new[] { "title", "body", "links[0].url", "sendAt" })
        {
            Assert.True(errors.ContainsKey(field), $"{field} missing in {errors.ToJsonString()}");
        }

        var audience = await admin.PostAsJsonAsync("/api/notices", new
        {
            corpId = School.CorpId, title = "t", body = "b",
            audience = new[] { new { corpId = _live.Sandbox.World.Schools.Last().CorpId, roles = new[] { "pupils" } } },
        });
        var audienceErrors = (await audience.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.True(audienceErrors.ContainsKey("audience[0].corpId"), audienceErrors.ToJsonString());
        Assert.True(audienceErrors.ContainsKey("audience[0].roles"), audienceErrors.ToJsonString());

        var status = await admin.GetAsync("/api/notices?status=lost");
        Assert.Equal(HttpStatusCode.BadRequest, status.StatusCode);
        Assert.Equal(before, (await admin.GetFromJsonAsync<JsonObject>("/api/notices"))!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Guardian_SeesTheNoticeUnread_OpeningItMarksItRead_AndOthersCannotOpenIt()
    {
        var (classId, roster) = School.Classes.Skip(1).First();
        var guardianId = roster.Guardians[0].UserId;
        var admin = await AsSchoolAdminAsync(School);
        var notice = await ComposeAsync(admin, new
        {
            corpId = School.CorpId, title = "家长会", body = "周五下午三点召开家长会。",
            audience = new[] { new { roles = new[] { "guardians" }, classIds = new[] { classId } } },
        });
        var id = (long)notice["id"]!;
        await WaitUntilSentAsync(admin, id);

        var guardian = await AsAsync(School, guardianId);
        var mine = (await guardian.GetFromJsonAsync<JsonObject>("/api/me/notices"))!;
        var item = mine["items"]!.AsArray().Single(n => (long)n!["id"]! == id);
        Assert.Null(item!["readAt"]);
        var unreadBefore = (int)mine["unread"]!;

        var opened = (await guardian.GetFromJsonAsync<JsonObject>($"/api/me/notices/{id}"))!;
        Assert.Equal("周五下午三点召开家长会。", opened["body"]!.ToString());
        Assert.EndsWith("+08:00", opened["readAt"]!.ToString());
        var after = (await guardian.GetFromJsonAsync<JsonObject>("/api/me/notices"))!;
        Assert.Equal(unreadBefore - 1, (int)after["unread"]!);
        Assert.NotNull(after["items"]!.AsArray().Single(n => (long)n!["id"]! == id)!["readAt"]);

        var detail = (await admin.GetFromJsonAsync<JsonObject>($"/api/notices/{id}"))!;
        Assert.Equal(1, (int)detail["progress"]!["totals"]!["read"]!);
        var readers = (await admin.GetFromJsonAsync<JsonObject>($"/api/notices/{id}/recipients?read=true"))!;
        Assert.Equal(guardianId, readers["items"]!.AsArray().Single()!["userId"]!.ToString());

        var outsider = School.Classes.Values.SelectMany(c => c.Guardians).First(g => roster.Guardians.All(r => r.UserId != g.UserId));
        var stranger = await AsAsync(School, outsider.UserId);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/me/notices/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/notices/{id}")).StatusCode);
    }

    [Fact]
    public async Task Remind_ReachesOnlyTheUnread_OncePerDay()
    {
        var (classId, roster) = School.Classes.Skip(2).First();
        var guardians = roster.Guardians.Select(g => g.UserId).Distinct().ToList();
        var admin = await AsSchoolAdminAsync(School);
        var notice = await ComposeAsync(admin, new
        {
            corpId = School.CorpId, title = "体检回执", body = "请在小程序里确认体检时间。",
            audience = new[] { new { roles = new[] { "guardians" }, classIds = new[] { classId } } },
        });
        var id = (long)notice["id"]!;
        await WaitUntilSentAsync(admin, id);
        var reader = guardians[0];
        await (await AsAsync(School, reader)).GetFromJsonAsync<JsonObject>($"/api/me/notices/{id}");
        var before = guardians.ToDictionary(g => g, g => _live.Sandbox.Notices.DeliveredTo(School.CorpId, g));

        var reminded = await admin.PostAsync($"/api/notices/{id}/remind", null);
        Assert.Equal(HttpStatusCode.Accepted, reminded.StatusCode);
        Assert.Equal(guardians.Count - 1, (int)(await reminded.Content.ReadFromJsonAsync<JsonObject>())!["queued"]!);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (guardians.Skip(1).Any(g => _live.Sandbox.Notices.DeliveredTo(School.CorpId, g) == before[g]) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.All(guardians.Skip(1), g => Assert.Equal(before[g] + 1, _live.Sandbox.Notices.DeliveredTo(School.CorpId, g)));
        Assert.Equal(before[reader], _live.Sandbox.Notices.DeliveredTo(School.CorpId, reader));
        var second = await admin.PostAsync($"/api/notices/{id}/remind", null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, second.StatusCode);
        Assert.StartsWith("今天已经提醒过未读的人", (await second.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.ToString());
    }

    [Fact]
    public async Task Recall_HidesTheNoticeFromRecipients_AndRecallsItInDingTalk()
    {
        var (classId, roster) = School.Classes.Skip(3).First();
        var admin = await AsSchoolAdminAsync(School);
        var notice = await ComposeAsync(admin, new
        {
            corpId = School.CorpId, title = "错误的通知", body = "此通知发错了。",
            audience = new[] { new { roles = new[] { "guardians", "teachers" }, classIds = new[] { classId } } },
        });
        var id = (long)notice["id"]!;
        await WaitUntilSentAsync(admin, id);
        var guardian = await AsAsync(School, roster.Guardians[0].UserId);
        Assert.Contains((await guardian.GetFromJsonAsync<JsonObject>("/api/me/notices"))!["items"]!.AsArray(), n => (long)n!["id"]! == id);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/notices/{id}/recall", null)).StatusCode);

        Assert.DoesNotContain((await guardian.GetFromJsonAsync<JsonObject>("/api/me/notices"))!["items"]!.AsArray(), n => (long)n!["id"]! == id);
        Assert.Equal(HttpStatusCode.NotFound, (await guardian.GetAsync($"/api/me/notices/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/notices/{id}/recall", null)).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!_live.Sandbox.Notices.RecalledTasks().Any() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var recipients = roster.Guardians.Select(g => g.UserId).Concat(roster.Teachers.Select(t => t.UserId)).ToHashSet();
        Assert.Contains(_live.Sandbox.Notices.RecalledTasks(), t => t.Delivered.Any(recipients.Contains));
    }

    [Fact]
    public async Task SchoolAdmin_SetsWhetherTeacherNoticesNeedApproval()
    {
        var school = _live.Sandbox.World.Schools.Last();
        var admin = await AsSchoolAdminAsync(school);
        var (classId, roster) = school.Classes.First();
        var teacher = await AsAsync(school, roster.Teachers[0].UserId);

        var put = await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/notice-settings", new { teacherNoticesNeedApproval = false });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var notice = await ComposeAsync(teacher, new
        {
            corpId = school.CorpId, title = "作业提醒", body = "今天的作业是第三课。",
            audience = new[] { new { roles = new[] { "guardians" }, classIds = new[] { classId } } },
        });
        Assert.Equal("scheduled", notice["status"]!.ToString());
        // Let it finish: the other tests of this class count what reaches each guardian.
        await WaitUntilSentAsync(teacher, (long)notice["id"]!);

        Assert.Equal(HttpStatusCode.Forbidden, (await teacher.PutAsJsonAsync($"/api/corps/{school.CorpId}/notice-settings",
            new { teacherNoticesNeedApproval = true })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/notice-settings", new { })).StatusCode);
        await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/notice-settings", new { teacherNoticesNeedApproval = true });
        var settings = await admin.GetFromJsonAsync<JsonObject>($"/api/corps/{school.CorpId}/notice-settings");
        Assert.True((bool)settings!["teacherNoticesNeedApproval"]!);
    }

    [Fact]
    public async Task ScheduledNotice_IsResolvedAndSentOnlyAtItsTime()
    {
        var (classId, roster) = School.Classes.Skip(4).First();
        var admin = await AsSchoolAdminAsync(School);
        // Ten seconds ahead: far enough that a busy machine cannot reach it before the first check below.
        var sendAt = DateTimeOffset.UtcNow.AddSeconds(10);
        var notice = await ComposeAsync(admin, new
        {
            corpId = School.CorpId, title = "定时通知", body = "十秒后发送。", sendAt = sendAt.ToString("O"),
            audience = new[] { new { roles = new[] { "guardians" }, classIds = new[] { classId } } },
        });
        var id = (long)notice["id"]!;

        var early = (await admin.GetFromJsonAsync<JsonObject>($"/api/notices/{id}"))!;
        Assert.Equal("scheduled", early["notice"]!["status"]!.ToString());
        Assert.Equal(0, (int)early["progress"]!["totals"]!["targeted"]!);

        // Operators see it among the fan-outs to come, and not once it is sent.
        var ops = _live.Client(TestTokens.SystemAdmin());
        async Task<JsonNode?> FanOutAsync() =>
            (await ops.GetFromJsonAsync<JsonArray>("/api/ops/notice-fan-outs"))!.SingleOrDefault(f => (long)f!["noticeId"]! == id);
        Assert.Equal("scheduled", (await FanOutAsync())?["status"]?.ToString());

        var detail = await WaitUntilSentAsync(admin, id);
        Assert.Null(await FanOutAsync());
        Assert.True(DateTimeOffset.Parse(detail["notice"]!["resolvedAt"]!.ToString()) >= sendAt.AddMilliseconds(-1));
        Assert.Equal(roster.Guardians.Select(g => g.UserId).Distinct().Count(), (int)detail["progress"]!["totals"]!["delivered"]!);
    }

    [Fact]
    public async Task SystemNotice_ToAnUnknownUserid_RecordsThatRecipientAsFailed_AndDeliversTheOthers()
    {
        var service = _live.Factory.Services.GetRequiredService<Api.Features.Notices.SystemNotices>();
        var guardian = School.Classes.Values.First().Guardians[0];
        var id = await service.SendAsync(new Api.Features.Notices.SystemNotice("test", School.CorpId, "学校", "系统通知", "正文", null,
        [
            new Api.Features.Notices.NoticeRecipient(School.CorpId, guardian.UserId, null, guardian.Name, "guardians", null, "test"),
            new Api.Features.Notices.NoticeRecipient(School.CorpId, "ghost-user", null, "不存在", "guardians", null, "test"),
        ]), default);

        var repository = _live.Factory.Services.GetRequiredService<Api.Features.Notices.NoticeRepository>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<Api.Features.Notices.RecipientView> recipients;
        do
        {
            recipients = (await repository.RecipientsAsync(id, null, null, null, null, 0, 10, default)).Items;
            await Task.Delay(100);
        }
        while (recipients.Any(r => r.Status is "pending" or "sent") && DateTime.UtcNow < deadline);

        Assert.Equal("delivered", recipients.Single(r => r.UserId == guardian.UserId).Status);
        var ghost = recipients.Single(r => r.UserId == "ghost-user");
        Assert.Equal("failed", ghost.Status);
        Assert.StartsWith("invalid-userid", ghost.Failure);
    }
}
