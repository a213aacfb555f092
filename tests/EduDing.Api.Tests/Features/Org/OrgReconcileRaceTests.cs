using EduDing.Api.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk;
using EduDing.DingTalk.Sandbox;

namespace EduDing.Api.Tests.Features.Org;

/// <summary>
/// The reconcile and the event stream compose: changes whose events are applied while a full reconcile of the same
/// corp is reading (at each phase: the department listing, the member listing, the 家校 class listing and relations)
/// are not undone by the reconcile's older snapshot. The mirror equals the sandbox right after the run, with no further
/// event or night needed.
/// </summary>
public abstract class OrgReconcileRaceTests<TDb>(TDb db) where TDb : TestDb
{
    [Fact]
    public Task DepartmentRemovedAndStaffChanged_WhileDepartmentsAreListed_StayChanged() =>
        EnterpriseChangeAsync(school: 0, call => call.Api.Name == DingTalkApis.ListSubDepartments.Name);

    [Fact]
    public Task DepartmentRemovedAndStaffChanged_WhileMembersAreListed_StayChanged() =>
        EnterpriseChangeAsync(school: 1, call => call.Api.Name == DingTalkApis.ListUsers.Name);

    [Fact]
    public Task ClassesChanged_WhileClassMembersAreListed_StayChanged() =>
        EduChangeAsync(school: 2, call => call.Api.Name == DingTalkApis.EduListUsers.Name);

    [Fact]
    public Task ClassesChanged_WhileRelationsAreListed_StayChanged() =>
        EduChangeAsync(school: 3, call => call.Api.Name == DingTalkApis.EduListRelations.Name);

    // Each test takes its own school: the tests of a class share one database.
    private async Task EnterpriseChangeAsync(int school, Func<DingTalkCall, bool> when)
    {
        db.SkipUnlessAvailable();
        await using var harness = await StartAsync(school);
        var corp = harness.Sandbox.World.Schools.ElementAt(school);
        await harness.FullSyncAsync(corp.CorpId);
        var removedDept = harness.Sandbox.Mutate.AddDepartment(corp.CorpId, "临时教研组", 1);
        var leaver = corp.Users.Values.First(u => !u.Admin && u.DeptIds.Count > 0);
        var mover = corp.Users.Values.First(u => !u.Admin && u.UserId != leaver.UserId && u.DeptIds.Count > 0);
        var movedTo = corp.Departments.Keys.First(d => d != 1 && d != removedDept.Id && !mover.DeptIds.Contains(d));
        await harness.FullSyncAsync(corp.CorpId);
        await ApplyEventsAsync(harness, corp.CorpId);

        harness.OnceAfterCall(call => call.App.CorpId == corp.CorpId && when(call), async () =>
        {
            harness.Sandbox.Mutate.RemoveDepartment(corp.CorpId, removedDept.Id);
            harness.Sandbox.Mutate.RemoveUser(corp.CorpId, leaver.UserId);
            harness.Sandbox.Mutate.MoveUser(corp.CorpId, mover.UserId, [movedTo]);
            await ApplyEventsAsync(harness, corp.CorpId);
        });
        var run = await harness.FullSyncAsync(corp.CorpId);

        Assert.True(run.Status == SyncRunRepository.Succeeded, run.Error);
        await harness.AssertMirrorsAsync(corp.CorpId);
        var staff = await harness.Org.ListStaffAsync(corp.CorpId, includeRemoved: true, default);
        Assert.NotNull(Assert.Single(staff, s => s.UserId == leaver.UserId).RemovedAt);
        Assert.DoesNotContain(await harness.Org.ListDepartmentsAsync(corp.CorpId, default), d => d.DeptId == removedDept.Id);
    }

    private async Task EduChangeAsync(int school, Func<DingTalkCall, bool> when)
    {
        db.SkipUnlessAvailable();
        await using var harness = await StartAsync(school);
        var corp = harness.Sandbox.World.Schools.ElementAt(school);
        await harness.FullSyncAsync(corp.CorpId);
        var classes = corp.Classes.Keys.ToList();

        harness.OnceAfterCall(call => call.App.CorpId == corp.CorpId && when(call), async () =>
        {
            // Every class changes, so whichever classes the reconcile has read but not yet written are among them.
            foreach (var classId in classes.SkipLast(1))
            {
                var roster = corp.Classes[classId];
                var relation = roster.Relations[0];
                harness.Sandbox.Mutate.RemoveGuardian(corp.CorpId, classId, relation.GuardianUserId, relation.StudentUserId);
                harness.Sandbox.Mutate.AddStudent(corp.CorpId, classId, "插班生", withUnionId: false);
            }

            harness.Sandbox.Mutate.GraduateClass(corp.CorpId, classes[^1]);
            await ApplyEventsAsync(harness, corp.CorpId);
        });
        var run = await harness.FullSyncAsync(corp.CorpId);

        Assert.True(run.Status == SyncRunRepository.Succeeded, run.Error);
        await harness.AssertMirrorsAsync(corp.CorpId);
    }

    private async Task<OrgHarness> StartAsync(int school)
    {
        var harness = await OrgHarness.StartAsync(db, new SandboxOptions { Preset = "demo", Seed = 12, QpsPerApi = 0, PushRetryDelays = [] });

        // A callback address that refuses connections: every push fails at once and lands in DingTalk's failed-push list.
        harness.Sandbox.World.Schools.ElementAt(school).CallbackUrl = new Uri("http://127.0.0.1:1/");
        return harness;
    }

    /// <summary>Takes the corp's events as DingTalk hands them out (no callback is registered: the failed-push list) and applies them.</summary>
    private static async Task ApplyEventsAsync(OrgHarness harness, string corpId)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!harness.Sandbox.EventsDrained && DateTime.UtcNow < until)
        {
            await Task.Delay(10);
        }

        await harness.Intake.DrainFailedPushesAsync(harness.Corps.Get(corpId), default);
        await harness.Events.ProcessPendingAsync(corpId, default);
        Assert.Equal(0, await harness.Inbox.PendingCountAsync(default));
    }
}

public sealed class SqliteOrgReconcileRaceTests(SqliteTestDb db) : OrgReconcileRaceTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlOrgReconcileRaceTests(MySqlTestDb db) : OrgReconcileRaceTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
