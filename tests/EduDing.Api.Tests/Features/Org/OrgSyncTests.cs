using EduDing.Api.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk.Sandbox;

namespace EduDing.Api.Tests.Features.Org;

/// <summary>The full reconcile against the sandbox, written once and run on SQLite and on MySQL.</summary>
public abstract class OrgSyncTests<TDb>(TDb db) where TDb : TestDb
{
    [Fact]
    public async Task FullSync_DemoOrg_EveryEntityEqualsTheSandbox()
    {
        db.SkipUnlessAvailable();
        await using var harness = await OrgHarness.StartAsync(db);

        foreach (var corp in harness.Sandbox.World.Corps)
        {
            var run = await harness.FullSyncAsync(corp.CorpId);
            Assert.True(run.Status == SyncRunRepository.Succeeded, run.Error);
            await harness.AssertMirrorsAsync(corp.CorpId);
        }
    }

    [Fact]
    public async Task FullSync_AfterChanges_ReplacesMembershipsMarksRemovedAndKeepsStudentRows()
    {
        db.SkipUnlessAvailable();
        await using var harness = await OrgHarness.StartAsync(db);
        var sandbox = harness.Sandbox;
        var corp = sandbox.World.Schools.First();
        await harness.FullSyncAsync(corp.CorpId);
        var classes = corp.Classes.Keys.ToList();
        var graduating = classes[^1];
        var graduate = corp.Classes[graduating].Students[0].UserId;
        var mover = corp.Classes[classes[0]].Students[0].UserId;
        var leaver = corp.Users.Values.First(u => !u.Admin && u.DeptIds.Count > 1);
        var multi = corp.Users.Values.First(u => !u.Admin && u.UserId != leaver.UserId && u.DeptIds.Count > 1);

        sandbox.Mutate.MoveStudent(corp.CorpId, classes[0], mover, classes[1]);
        sandbox.Mutate.GraduateClass(corp.CorpId, graduating);
        sandbox.Mutate.RemoveUser(corp.CorpId, leaver.UserId);
        sandbox.Mutate.MoveUser(corp.CorpId, multi.UserId, [multi.DeptIds[0]]);
        var roster = corp.Classes[classes[2]];
        sandbox.Mutate.RemoveGuardian(corp.CorpId, classes[2], roster.Relations[0].GuardianUserId, roster.Relations[0].StudentUserId);
        var newClass = sandbox.Mutate.AddClass(corp.CorpId, corp.EduNodes[classes[0]].ParentId!.Value, "新班");
        sandbox.Mutate.AddStudent(corp.CorpId, newClass.Id, "新同学", withUnionId: false);
        var run = await harness.FullSyncAsync(corp.CorpId);

        Assert.True(run.Status == SyncRunRepository.Succeeded, run.Error);
        await harness.AssertMirrorsAsync(corp.CorpId);
        var allStudents = await harness.Org.ListStudentsAsync(corp.CorpId, includeRemoved: true, default);
        Assert.NotNull(Assert.Single(allStudents, s => s.UserId == graduate).RemovedAt);
        Assert.Null(Assert.Single(allStudents, s => s.UserId == mover).RemovedAt);
        var staff = await harness.Org.ListStaffAsync(corp.CorpId, includeRemoved: true, default);
        Assert.NotNull(Assert.Single(staff, s => s.UserId == leaver.UserId).RemovedAt);
    }

    [Fact]
    public async Task FullSync_TwoInstancesAtOnce_OnlyOneRuns()
    {
        db.SkipUnlessAvailable();
        await using var harness = await OrgHarness.StartAsync(db);
        var corpId = harness.Sandbox.World.Schools.Last().CorpId;
        var other = harness.AnotherInstance();

        var results = await Task.WhenAll(
            harness.Sync.RunFullSyncAsync(corpId, "test", default),
            other.RunFullSyncAsync(corpId, "test", default));

        Assert.Single(results, r => r is not null);
        await harness.AssertMirrorsAsync(corpId);
    }
}

public sealed class SqliteOrgSyncTests(SqliteTestDb db) : OrgSyncTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlOrgSyncTests(MySqlTestDb db) : OrgSyncTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;

/// <summary>What goes wrong: faults, missing permissions, the monthly budget. On SQLite.</summary>
public sealed class OrgSyncFailureTests(SqliteTestDb db) : IClassFixture<SqliteTestDb>
{
    [Fact]
    public async Task FullSync_WithTransientErrorsAndQpsLimits_StillConvergesExactly()
    {
        await using var harness = await OrgHarness.StartAsync(db,
            new SandboxOptions { Preset = "demo", Seed = 12, QpsPerApi = 20, TransientErrorRate = 0.1 },
            client => client.MaxCallsPerSecondPerApi = 20);
        var corp = harness.Sandbox.World.Schools.First();

        var run = await harness.FullSyncAsync(corp.CorpId);

        Assert.True(run.Status == SyncRunRepository.Succeeded, run.Error);
        Assert.True(harness.Sandbox.Limits.FaultsPerKind.GetValueOrDefault("Transient") > 0, "faults were injected");
        await harness.AssertMirrorsAsync(corp.CorpId);
    }

    [Fact]
    public async Task FullSync_WithoutEduReadPermission_FailsNamingIt()
    {
        var options = new SandboxOptions { Preset = "demo", Seed = 13, QpsPerApi = 0 };
        options.DeniedApis.Add("edu/dept/list");
        await using var harness = await OrgHarness.StartAsync(db, options);

        var run = await harness.FullSyncAsync(harness.Sandbox.World.Schools.First().CorpId);

        Assert.Equal(SyncRunRepository.Failed, run.Status);
        Assert.Contains("qyapi_addresslist_edu_read", run.Error);
        Assert.Contains("60011", run.Error);
    }

    [Fact]
    public async Task FullSync_WithoutAddressBookScope_FailsInsteadOfSucceedingEmpty()
    {
        var options = new SandboxOptions { Preset = "demo", Seed = 14, QpsPerApi = 0 };
        options.DeniedApis.Add("user/list");
        await using var harness = await OrgHarness.StartAsync(db, options);
        var corpId = harness.Sandbox.World.Bureau.CorpId;

        var run = await harness.FullSyncAsync(corpId);

        Assert.Equal(SyncRunRepository.Failed, run.Status);
        Assert.Contains("address-book scope", run.Error);
        Assert.Empty(await harness.Org.ListStaffAsync(corpId, true, default));
    }

    [Fact]
    public async Task FullSync_HittingDingTalksMonthlyQuota_FailsLoudlyNeverSilently()
    {
        await using var harness = await OrgHarness.StartAsync(db, new SandboxOptions { Preset = "demo", Seed = 15, QpsPerApi = 0, MonthlyQuota = 20 });

        var run = await harness.FullSyncAsync(harness.Sandbox.World.Schools.First().CorpId);

        Assert.Equal(SyncRunRepository.Failed, run.Status);
        Assert.Contains("monthly call quota", run.Error);
        Assert.Contains("90020", run.Error);
    }

    [Fact]
    public async Task FullSync_MonthlyBudgetTooSmall_ReadsEveryClassOnceThenARotatingShareAndSaysSo()
    {
        // Mid-month: 21 nights left, so a budget of 1,000 covers a first read of every class but then only a few
        // classes a night, not a full pass each night.
        var november10 = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 10, 18, 10, 0, TimeSpan.Zero));
        await using var harness = await OrgHarness.StartAsync(db,
            sync: new OrgSyncOptions { MonthlyCallBudget = 1000, EventReserveShare = 0.2 }, time: november10);
        var corp = harness.Sandbox.World.Schools.First();

        var first = await harness.FullSyncAsync(corp.CorpId);
        var second = await harness.FullSyncAsync(corp.CorpId);
        var afterSecond = (await harness.Org.ClassesByRosterAgeAsync(corp.CorpId, default)).Select(c => c.ClassId).ToList();
        var third = await harness.FullSyncAsync(corp.CorpId);

        // Never-read classes are read whatever the night's share: events only keep current what was read once.
        Assert.Equal(SyncRunRepository.Succeeded, first.Status);
        Assert.Null(first.Note);
        Assert.Equal(corp.Classes.Count, SyncRunDto.From(first).Counts["classesReconciled"]);
        Assert.StartsWith("partial: reconciled", second.Note);
        var reconciledSecond = (int)SyncRunDto.From(second).Counts.GetValueOrDefault("classesReconciled");
        Assert.InRange(reconciledSecond, 1, corp.Classes.Count - 1);
        // The third pass starts with the classes the second one left out.
        Assert.StartsWith("partial", third.Note);
        var reconciledThird = (int)SyncRunDto.From(third).Counts.GetValueOrDefault("classesReconciled");
        var leftOut = afterSecond.Take(corp.Classes.Count - reconciledSecond).ToHashSet();
        Assert.Subset(leftOut, afterSecond.Take(Math.Min(reconciledThird, leftOut.Count)).ToHashSet());
        Assert.True(await harness.Usage.MeteredThisMonthAsync(corp.CorpId, default) > 0);
        await harness.AssertMirrorsAsync(corp.CorpId);
    }

    [Fact]
    public async Task FullSync_BudgetShortOfAFirstRead_ReadsAsManyNeverReadClassesAsItCovers()
    {
        // 21 nights left: 80 metered calls after the reserve are 3 a night, under one class; a first read takes them all.
        // Corps of their own (seed 17): the other tests' calls to the demo corps count against the same month.
        var november10 = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 10, 18, 10, 0, TimeSpan.Zero));
        await using var harness = await OrgHarness.StartAsync(db, new SandboxOptions { Preset = "demo", Seed = 17, QpsPerApi = 0 },
            sync: new OrgSyncOptions { MonthlyCallBudget = 100, EventReserveShare = 0.2 }, time: november10);
        var corp = harness.Sandbox.World.Schools.First();

        var run = await harness.FullSyncAsync(corp.CorpId);

        Assert.Equal(SyncRunRepository.Succeeded, run.Status);
        Assert.StartsWith("partial: reconciled", run.Note);
        var reconciled = SyncRunDto.From(run).Counts.GetValueOrDefault("classesReconciled");
        Assert.InRange(reconciled, 1, corp.Classes.Count - 1);
        Assert.InRange(await harness.Usage.MeteredThisMonthAsync(corp.CorpId, default), 1, 100);
    }

    [Fact]
    public async Task FullSync_RecordsCallsPerApiAndCountsInTheRun()
    {
        await using var harness = await OrgHarness.StartAsync(db);
        var corp = harness.Sandbox.World.Schools.Last();

        var run = SyncRunDto.From(await harness.FullSyncAsync(corp.CorpId));

        // The minimum the data requires: a page of 30 per role and for relations, at least one each.
        static int Pages(int count) => Math.Max(1, (count + 29) / 30);
        var rosters = corp.Classes.Values.ToList();
        Assert.Equal(corp.Classes.Count, run.Counts["classesReconciled"]);
        Assert.Equal(corp.Users.Count, run.Counts["staff"]);
        Assert.Equal(rosters.Sum(r => Pages(r.Students.Count) + Pages(r.Guardians.Count) + Pages(r.Teachers.Count)), run.Calls["edu/user/list"]);
        Assert.Equal(rosters.Sum(r => Pages(r.Relations.Count)), run.Calls["edu/user/relation/list"]);
        Assert.Equal(corp.Departments.Count, run.Calls["department/listsub"]);
        Assert.Equal(corp.Departments.Count, run.Calls["user/list"]);
        Assert.Equal(corp.EduNodes.Values.Count(n => n.Type != EduDing.DingTalk.Sandbox.Model.EduNodeType.Class) + 1, run.Calls["edu/dept/list"]);
        Assert.False(run.Calls.ContainsKey("user/get"), "no per-user detail call: user/list carries every field");
    }
}
