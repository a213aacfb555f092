using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Tests.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk.Sandbox.Model;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Approvals;

/// <summary>A kind of the tests' own, recording every outcome it is handed.</summary>
internal sealed class RecordingApprovalKind : IApprovalKind
{
    public const string Name = "test-request";

    public ConcurrentQueue<(long Id, string Status)> Applied { get; } = new();

    public string Kind => Name;

    public string DisplayName => "测试申请";

    public ApprovalChain DefaultChain { get; } = new([new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any)]);

    public Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct)
    {
        Applied.Enqueue((request.Id, request.Status));
        return Task.CompletedTask;
    }
}

/// <summary>The service with the demo org mirrored, on one database provider, and the recording kind registered.</summary>
public abstract class ApprovalFixture<TDb> : LiveOrgOnDbFixture<TDb> where TDb : TestDb, new()
{
    internal RecordingApprovalKind Kind { get; } = new();

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string> { ["Approvals:RemindFrom"] = "00:00" };

    protected override void AddServices(IServiceCollection services) => services.AddSingleton<IApprovalKind>(Kind);
}

public sealed class SqliteApprovalFixture : ApprovalFixture<SqliteTestDb>;

public sealed class MySqlApprovalFixture : ApprovalFixture<MySqlTestDb>;

/// <summary>
/// Chains resolved from the mirror, "any" and "all" steps, the race between deciders, leavers and empty pools, return,
/// resubmit and withdraw, and the daily digest; on each database provider.
/// </summary>
public abstract class ApprovalTests<TDb>(ApprovalFixture<TDb> fixture) where TDb : TestDb, new()
{
    private LiveOrg Live => fixture.Live;

    private IServiceProvider Services => Live.Factory.Services;

    private SandboxCorp School => Live.Sandbox.World.Schools.First();

    /// <summary>Staff of the school who are no admins (DingTalk's flag, or the configured admin title 主任).</summary>
    private IReadOnlyList<SandboxUser> Staff(int count, int skip = 0) =>
        School.Users.Values.Where(u => !u.Admin && u.Title != "主任").OrderBy(u => u.UserId).Skip(skip).Take(count).ToList();

    private IReadOnlyList<SandboxUser> SchoolAdmins => School.Users.Values.Where(u => u.Admin || u.Title == "主任").ToList();

    private async Task<ApprovalRequest> SubmitAsync(string requesterUserId, params ApprovalStep[] steps)
    {
        await Services.GetRequiredService<ApprovalRepository>().SaveChainAsync(School.CorpId, RecordingApprovalKind.Name,
            new ApprovalChain(steps), School.CorpId, "test", DateTime.UtcNow, default);
        return await Services.GetRequiredService<ApprovalService>().SubmitAsync(new ApprovalSubmission(RecordingApprovalKind.Name, School.CorpId,
            Guid.NewGuid().ToString("N"), "春游申请", "请批准"), (School.CorpId, requesterUserId), default);
    }

    private static ApprovalStep Named(string mode, params SandboxUser[] people) =>
        new(ApproverSource.Named, mode, null, people.Select(p => p.UserId).ToList());

    private async Task<HttpClient> AsAsync(string userId, string? corpId = null) =>
        Live.Client(await Live.SignInAsync(corpId ?? School.CorpId, userId));

    private async Task<JsonObject> DetailAsync(HttpClient client, long id) =>
        (await client.GetFromJsonAsync<JsonObject>($"/api/approvals/{id}"))!;

    [Fact]
    public async Task EachStepType_ResolvesToCurrentPeopleOfTheMirror()
    {
        fixture.Db.SkipUnlessAvailable();
        var resolver = Services.GetRequiredService<ChainResolver>();
        var none = new HashSet<(string, string)>();
        var (classId, roster) = School.Classes.First(c => c.Value.Teachers.Any(t => t.IsAdviser));

        var advisers = await resolver.ResolveAsync(new ApprovalStep(ApproverSource.ClassAdviser, StepMode.Any), School.CorpId, classId, none, default);
        var admins = await resolver.ResolveAsync(new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any), School.CorpId, null, none, default);
        var named = await resolver.ResolveAsync(new ApprovalStep(ApproverSource.Named, StepMode.Any, null, [Staff(1)[0].UserId, "nobody-here"]),
            School.CorpId, null, none, default);
        var bureau = await resolver.ResolveAsync(new ApprovalStep(ApproverSource.BureauAdmins, StepMode.Any), School.CorpId, null, none, default);

        Assert.Equal(roster.Teachers.Where(t => t.IsAdviser).Select(t => t.UserId).Order(), advisers.Select(a => a.UserId).Order());
        Assert.Equal(SchoolAdmins.Select(u => u.UserId).Order(), admins.Select(a => a.UserId).Order());
        Assert.Equal([Staff(1)[0].UserId], named.Select(a => a.UserId));
        Assert.Equal(Live.Sandbox.World.Bureau.Users.Values.Where(u => u.Admin).Select(u => u.UserId).Order(), bureau.Select(a => a.UserId).Order());
        Assert.All(bureau, b => Assert.Equal(Live.Sandbox.World.Bureau.CorpId, b.CorpId));
        Assert.All(advisers.Concat(admins).Concat(named).Concat(bureau), a => Assert.Equal(ChainResolver.Resolved, a.How));
    }

    [Fact]
    public async Task AllStep_NeedsEveryApprover_AnyStep_IsSettledByTheFirst_AndTheInboxFollows()
    {
        fixture.Db.SkipUnlessAvailable();
        var people = Staff(5);
        var (a, b, c, d, requester) = (people[0], people[1], people[2], people[3], people[4]);
        var request = await SubmitAsync(requester.UserId, Named(StepMode.All, a, b), Named(StepMode.Any, c, d));
        var (asA, asB, asC, asD) = (await AsAsync(a.UserId), await AsAsync(b.UserId), await AsAsync(c.UserId), await AsAsync(d.UserId));

        var inboxOfC = (await asC.GetFromJsonAsync<JsonObject>("/api/me/approvals/inbox"))!;
        Assert.DoesNotContain(inboxOfC["items"]!.AsArray(), i => (long)i!["id"]! == request.Id);
        var inboxOfB = (await asB.GetFromJsonAsync<JsonObject>($"/api/me/approvals/inbox?kind={RecordingApprovalKind.Name}"))!;
        Assert.Contains(inboxOfB["items"]!.AsArray(), i => (long)i!["id"]! == request.Id);
        Assert.True((int)inboxOfB["countsByKind"]![RecordingApprovalKind.Name]! >= 1);

        Assert.Equal(HttpStatusCode.OK, (await asA.PostAsJsonAsync($"/api/approvals/{request.Id}/approve", new { comment = "同意" })).StatusCode);
        var afterA = await DetailAsync(asA, request.Id);
        Assert.Equal(ApprovalStatus.Pending, afterA["status"]!.ToString());
        Assert.Equal(0, (int)afterA["currentStep"]!);

        Assert.Equal(HttpStatusCode.OK, (await asB.PostAsJsonAsync($"/api/approvals/{request.Id}/approve", new { })).StatusCode);
        Assert.Equal(1, (int)(await DetailAsync(asB, request.Id))["currentStep"]!);
        inboxOfC = (await asC.GetFromJsonAsync<JsonObject>("/api/me/approvals/inbox"))!;
        Assert.Contains(inboxOfC["items"]!.AsArray(), i => (long)i!["id"]! == request.Id);

        var noReason = await asC.PostAsJsonAsync($"/api/approvals/{request.Id}/reject", new { reason = "" });
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.NotNull((await noReason.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["reason"]);

        Assert.Equal(HttpStatusCode.OK, (await asC.PostAsJsonAsync($"/api/approvals/{request.Id}/approve", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await asD.PostAsJsonAsync($"/api/approvals/{request.Id}/approve", new { })).StatusCode);

        var done = await DetailAsync(await AsAsync(requester.UserId), request.Id);
        Assert.Equal(ApprovalStatus.Approved, done["status"]!.ToString());
        Assert.Equal(["submit", "approve", "approve", "approve"], done["actions"]!.AsArray().Select(x => x!["action"]!.ToString()));
        Assert.Equal([(request.Id, ApprovalStatus.Approved)], fixture.Kind.Applied.Where(x => x.Id == request.Id));
        var mine = (await (await AsAsync(requester.UserId)).GetFromJsonAsync<JsonObject>("/api/me/approvals/requests?status=approved"))!;
        Assert.Contains(mine["items"]!.AsArray(), i => (long)i!["id"]! == request.Id);
        Assert.DoesNotContain((await asD.GetFromJsonAsync<JsonObject>("/api/me/approvals/inbox"))!["items"]!.AsArray(),
            i => (long)i!["id"]! == request.Id);
    }

    [Fact]
    public async Task ManyApproversOfAnAnyStep_DecidingAtOnce_ExactlyOneDecisionIsRecorded()
    {
        fixture.Db.SkipUnlessAvailable();
        var approvers = Staff(10, skip: 5);
        var request = await SubmitAsync(Staff(1, skip: 20)[0].UserId, Named(StepMode.Any, [.. approvers]));
        var clients = new List<HttpClient>();
        foreach (var approver in approvers)
        {
            clients.Add(await AsAsync(approver.UserId));
        }

        using var start = new ManualResetEventSlim();
        var decisions = clients.Select((client, i) => Task.Run(async () =>
        {
            start.Wait();
            return (await client.PostAsJsonAsync($"/api/approvals/{request.Id}/{(i % 2 == 0 ? "approve" : "reject")}",
                new { comment = "同意", reason = "不同意" })).StatusCode;
        })).ToList();
        start.Set();
        var statuses = await Task.WhenAll(decisions);

        Assert.Single(statuses, s => s == HttpStatusCode.OK);
        Assert.Equal(9, statuses.Count(s => s == HttpStatusCode.Conflict));
        var detail = await DetailAsync(clients[0], request.Id);
        Assert.Single(detail["actions"]!.AsArray(), x => x!["action"]!.ToString() is "approve" or "reject");
        Assert.Single(detail["steps"]![0]!["assignees"]!.AsArray(), x => x!["decision"] is not null);
        Assert.Single(fixture.Kind.Applied, x => x.Id == request.Id);
    }

    [Fact]
    public async Task ApproversOfAnAllStep_DecidingAtOnce_AreEachRecorded_AndTheRequestIsApprovedOnce()
    {
        fixture.Db.SkipUnlessAvailable();
        var approvers = Staff(5, skip: 15);
        var request = await SubmitAsync(Staff(1, skip: 20)[0].UserId, Named(StepMode.All, [.. approvers]));
        var clients = new List<HttpClient>();
        foreach (var approver in approvers)
        {
            clients.Add(await AsAsync(approver.UserId));
        }

        using var start = new ManualResetEventSlim();
        var decisions = clients.Select(client => Task.Run(async () =>
        {
            start.Wait();
            return (await client.PostAsJsonAsync($"/api/approvals/{request.Id}/approve", new { })).StatusCode;
        })).ToList();
        start.Set();
        var statuses = await Task.WhenAll(decisions);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        var detail = await DetailAsync(clients[0], request.Id);
        Assert.Equal(ApprovalStatus.Approved, detail["status"]!.ToString());
        Assert.Equal(5, detail["actions"]!.AsArray().Count(x => x!["action"]!.ToString() == "approve"));
        Assert.Equal([(request.Id, ApprovalStatus.Approved)], fixture.Kind.Applied.Where(x => x.Id == request.Id));
    }

    [Fact]
    public async Task ApproversWhoLeft_AreReResolved_AndAnEmptyPool_EscalatesToTheSchoolAdmins()
    {
        fixture.Db.SkipUnlessAvailable();
        var leavers = Staff(2, skip: 25);
        var request = await SubmitAsync(Staff(1, skip: 20)[0].UserId, Named(StepMode.Any, [.. leavers]));
        var ghost = await SubmitAsync(Staff(1, skip: 20)[0].UserId,
            new ApprovalStep(ApproverSource.Named, StepMode.Any, null, ["left-long-ago"]));

        foreach (var leaver in leavers)
        {
            Live.Sandbox.Mutate.RemoveUser(School.CorpId, leaver.UserId);
        }

        var directory = Services.GetRequiredService<OrgDirectory>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await directory.CurrentStaffAsync(School.CorpId, leavers.Select(l => l.UserId).ToList(), default)).Count > 0 &&
               DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(await Services.GetRequiredService<ApprovalService>().ReResolveDepartedAsync(default) >= 1);

        var admin = await AsAsync(SchoolAdmins[0].UserId);
        var detail = await DetailAsync(admin, request.Id);
        var assignees = detail["steps"]![0]!["assignees"]!.AsArray();
        Assert.All(assignees.Where(a => leavers.Any(l => l.UserId == a!["userId"]!.ToString())), a =>
        {
            Assert.Equal("left", a!["decision"]!.ToString());
            Assert.False((bool)a["open"]!);
        });
        Assert.Equal(SchoolAdmins.Select(u => u.UserId).Order(),
            assignees.Where(a => (bool)a!["open"]!).Select(a => a!["userId"]!.ToString()).Order());
        Assert.All(assignees.Where(a => (bool)a!["open"]!), a => Assert.Equal(ChainResolver.Escalated, a!["how"]!.ToString()));

        var ghostDetail = await DetailAsync(admin, ghost.Id);
        Assert.Contains(ghostDetail["actions"]!.AsArray(), x => x!["action"]!.ToString() == "escalate");
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/approvals/{ghost.Id}/approve", new { })).StatusCode);
    }

    [Fact]
    public async Task Returned_Resubmitted_Withdrawn_EachIsTheRequestersStep()
    {
        fixture.Db.SkipUnlessAvailable();
        var (approver, requester) = (Staff(1, skip: 30)[0], Staff(1, skip: 31)[0]);
        var request = await SubmitAsync(requester.UserId, Named(StepMode.Any, approver));
        var (asApprover, asRequester) = (await AsAsync(approver.UserId), await AsAsync(requester.UserId));

        Assert.Equal(HttpStatusCode.OK, (await asApprover.PostAsJsonAsync($"/api/approvals/{request.Id}/return", new { reason = "补充行程" })).StatusCode);
        Assert.Equal(ApprovalStatus.Returned, (await DetailAsync(asRequester, request.Id))["status"]!.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await asApprover.PostAsJsonAsync($"/api/approvals/{request.Id}/resubmit", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await asRequester.PostAsJsonAsync($"/api/approvals/{request.Id}/resubmit", new { comment = "已补充" })).StatusCode);
        Assert.Equal(ApprovalStatus.Pending, (await DetailAsync(asRequester, request.Id))["status"]!.ToString());
        Assert.Equal(HttpStatusCode.OK, (await asRequester.PostAsync($"/api/approvals/{request.Id}/withdraw", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await asApprover.PostAsJsonAsync($"/api/approvals/{request.Id}/approve", new { })).StatusCode);

        Assert.Equal([ApprovalStatus.Returned, ApprovalStatus.Withdrawn],
            fixture.Kind.Applied.Where(x => x.Id == request.Id).Select(x => x.Status));
        Assert.Equal(["submit", "return", "resubmit", "withdraw"],
            (await DetailAsync(asRequester, request.Id))["actions"]!.AsArray().Select(x => x!["action"]!.ToString()));
    }

    [Fact]
    public async Task WaitingApprovers_GetOneDigestADay_NotOneMessagePerRequest()
    {
        fixture.Db.SkipUnlessAvailable();
        var approver = Staff(1, skip: 35)[0];
        var requester = Staff(1, skip: 36)[0];
        var first = await SubmitAsync(requester.UserId, Named(StepMode.Any, approver));
        var second = await SubmitAsync(requester.UserId, Named(StepMode.Any, approver));
        await fixture.Db.ExecuteAsync("UPDATE approval_assignees SET opened_at = @at WHERE request_id IN @ids",
            new { at = DateTime.UtcNow.AddDays(-2), ids = new[] { first.Id, second.Id } });
        var service = Services.GetRequiredService<ApprovalService>();

        var sent = await service.SendRemindersAsync(default);
        var again = await service.SendRemindersAsync(default);

        Assert.True(sent >= 1);
        Assert.Equal(0, again);
        var notices = (await (await AsAsync(approver.UserId)).GetFromJsonAsync<JsonObject>("/api/me/notices"))!["items"]!.AsArray();
        Assert.Single(notices, n => n!["title"]!.ToString() == "您有 2 项审批等待处理");
    }

    [Fact]
    public async Task BulkApproval_DecidesWhatTheCallerMay_AndSaysWhyNotForTheRest()
    {
        fixture.Db.SkipUnlessAvailable();
        var (approver, other, requester) = (Staff(1, skip: 40)[0], Staff(1, skip: 41)[0], Staff(1, skip: 42)[0]);
        var mine = new[]
        {
            await SubmitAsync(requester.UserId, Named(StepMode.Any, approver)), await SubmitAsync(requester.UserId, Named(StepMode.Any, approver)),
        };
        var notMine = await SubmitAsync(requester.UserId, Named(StepMode.Any, other));
        var asApprover = await AsAsync(approver.UserId);

        var response = await asApprover.PostAsJsonAsync("/api/approvals/bulk-approve",
            new { ids = new[] { mine[0].Id, mine[1].Id, notMine.Id, 987654321L }, comment = "同意" });
        var empty = await asApprover.PostAsJsonAsync("/api/approvals/bulk-approve", new { ids = Array.Empty<long>() });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonObject>())!["results"]!.AsArray()
            .ToDictionary(r => (long)r!["id"]!, r => r!["outcome"]!.ToString());
        Assert.Equal("approved", results[mine[0].Id]);
        Assert.Equal("approved", results[mine[1].Id]);
        Assert.Equal("forbidden", results[notMine.Id]);
        Assert.Equal("not-found", results[987654321L]);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(ApprovalStatus.Pending, (await Services.GetRequiredService<ApprovalRepository>().FindAsync(notMine.Id, default))!.Status);
    }

    [Fact]
    public async Task BureauAccessRequest_IsDecidedByTheSchool_ThenTheChildDataOfficer_AndCreatesTheGrant()
    {
        fixture.Db.SkipUnlessAvailable();
        var bureau = Live.Sandbox.World.Bureau;
        var asBureau = await AsAsync(bureau.Users.Values.First(u => !u.Admin).UserId, bureau.CorpId);
        var response = await asBureau.PostAsJsonAsync($"/api/corps/{School.CorpId}/access-requests", new { purpose = "近视防控督查抽样", days = 3 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (long)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        var tooLong = await asBureau.PostAsJsonAsync($"/api/corps/{School.CorpId}/access-requests", new { purpose = "x", days = 400 });
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);

        var admin = await AsAsync(SchoolAdmins[0].UserId);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/approvals/{id}/approve", new { })).StatusCode);
        var afterSchool = await DetailAsync(admin, id);
        var grantsBefore = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{School.CorpId}/access-grants"))!;
        var (officerCorp, officerUser) = LiveOrg.ChildDataOfficer(Live.Sandbox.World);
        var officer = await AsAsync(officerUser, officerCorp);
        Assert.Equal(HttpStatusCode.OK, (await officer.PostAsJsonAsync($"/api/approvals/{id}/approve", new { })).StatusCode);
        await Services.GetRequiredService<ApprovalService>().ApplyPendingOutcomesAsync(default);

        Assert.Equal(ApprovalStatus.Pending, afterSchool["status"]!.ToString());
        Assert.DoesNotContain(grantsBefore, g => g!["grantedByUserId"]!.ToString() == $"approval:{id}");
        var grants = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{School.CorpId}/access-grants"))!;
        Assert.Contains(grants, g => g!["granteeCorpId"]!.ToString() == bureau.CorpId && g["purpose"]!.ToString() == "近视防控督查抽样"
                                     && g["grantedByUserId"]!.ToString() == $"approval:{id}" && g["status"]!.ToString() == AccessGrantStatus.Active);
    }

    [Fact]
    public async Task AChainThatLeavesOutTheChildDataOfficer_StillEndsWithThem_AndTheirStepNeverEscalates()
    {
        fixture.Db.SkipUnlessAvailable();
        var repo = Services.GetRequiredService<ApprovalRepository>();
        var service = Services.GetRequiredService<ApprovalService>();
        await repo.SaveChainAsync(School.CorpId, AccessGrantApprovalKind.Name,
            new ApprovalChain([new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any)], AutoApprove: true), School.CorpId, "test", DateTime.UtcNow, default);

        var effective = await service.EffectiveChainAsync(School.CorpId, AccessGrantApprovalKind.Name, default);
        Assert.False(effective.Chain.AutoApprove);
        Assert.Equal([ApproverSource.SchoolAdmins, ApproverSource.ChildDataOfficer], effective.Chain.Steps.Select(s => s.Approvers));

        // With no officer in the mirror the step waits with nobody assigned: nobody else may stand in for them.
        var resolver = Services.GetRequiredService<ChainResolver>();
        Assert.Empty(await resolver.EscalateAsync(AccessGrantApprovalKind.OfficerStep, School.CorpId, new HashSet<(string, string)>(), default));
        Assert.NotEmpty(await resolver.EscalateAsync(new ApprovalStep(ApproverSource.ClassAdviser, StepMode.Any), School.CorpId,
            new HashSet<(string, string)>(), default));
        var officer = LiveOrg.ChildDataOfficer(Live.Sandbox.World);
        Assert.Equal([officer], (await resolver.ResolveAsync(AccessGrantApprovalKind.OfficerStep, School.CorpId, null,
            new HashSet<(string, string)>(), default)).Select(p => (p.CorpId, p.UserId)));
        Assert.Empty(await resolver.ResolveAsync(AccessGrantApprovalKind.OfficerStep, School.CorpId, null,
            new HashSet<(string, string)> { officer }, default));
    }
}

public sealed class SqliteApprovalTests(SqliteApprovalFixture fixture)
    : ApprovalTests<SqliteTestDb>(fixture), IClassFixture<SqliteApprovalFixture>;

public sealed class MySqlApprovalTests(MySqlApprovalFixture fixture)
    : ApprovalTests<MySqlTestDb>(fixture), IClassFixture<MySqlApprovalFixture>;
