using EduDing.DingTalk.Models;
using EduDing.DingTalk.Tests.Infrastructure;

namespace EduDing.DingTalk.Tests;

public sealed class ClientTokenAndLoginTests(SandboxFixture fx) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task Token_ManyConcurrentCalls_FetchOneTokenOnly()
    {
        using var client = fx.NewClient();
        var app = fx.School.App;

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.ListSubDepartmentIdsAsync(app, 1, default)));

        Assert.Equal(1, client.Tokens.FetchCount(app));
    }

    [Fact]
    public async Task Token_RejectedByDingTalk_IsRefetchedAndTheCallRetriedOnce()
    {
        var log = new CallLog();
        using var client = fx.NewClient(log: log);
        var app = fx.Bureau.App;
        await client.ListSubDepartmentIdsAsync(app, 1, default);
        fx.Sandbox.World.ExpireAllTokens();

        var ids = await client.ListSubDepartmentIdsAsync(app, 1, default);

        Assert.NotEmpty(ids);
        Assert.Equal(2, client.Tokens.FetchCount(app));
        Assert.Equal(1, log.Count(DingTalkApis.ListSubDepartmentIds, "40014"));
    }

    [Fact]
    public async Task Token_WrongSecret_IsInvalidClientIdOrSecret()
    {
        using var client = fx.NewClient();
        var app = fx.School.App with { AppSecret = "wrong" };

        var error = await Assert.ThrowsAsync<DingTalkException>(() => client.ListSubDepartmentIdsAsync(app, 1, default));

        Assert.Equal("invalidClientIdOrSecret", error.Code);
        Assert.Equal(400, error.HttpStatus);
    }

    [Fact]
    public async Task GetUserInfo_WithFreshCode_IdentifiesTheUserAndTheCodeWorksOnce()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var admin = corp.Users.Values.First(u => u.Admin);
        var code = fx.Sandbox.World.IssueAuthCode(corp.CorpId, admin.UserId);

        var info = await client.GetUserInfoAsync(corp.App, code, default);
        var reuse = await Assert.ThrowsAsync<DingTalkException>(() => client.GetUserInfoAsync(corp.App, code, default));

        Assert.Equal(admin.UserId, info.UserId);
        Assert.Equal(admin.UnionId, info.UnionId);
        Assert.True(info.Sys);
        Assert.Equal(40078, reuse.ErrCode);
    }

    [Fact]
    public async Task GetUserInfo_GuardianCode_IdentifiesTheGuardian()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var guardian = corp.Classes.Values.First().Guardians[0];

        var info = await client.GetUserInfoAsync(corp.App, fx.Sandbox.World.IssueAuthCode(corp.CorpId, guardian.UserId), default);

        Assert.Equal(guardian.UserId, info.UserId);
        Assert.False(info.Sys);
    }

    [Fact]
    public async Task GetUserInfo_CodeOfAnotherCorp_Is40078()
    {
        using var client = fx.NewClient();
        var other = fx.Sandbox.World.Schools.Skip(1).First();
        var code = fx.Sandbox.World.IssueAuthCode(other.CorpId, other.Users.Keys.First());

        var error = await Assert.ThrowsAsync<DingTalkException>(() => client.GetUserInfoAsync(fx.School.App, code, default));

        Assert.Equal(40078, error.ErrCode);
    }

    [Fact]
    public async Task GetUser_ReturnsDetailWithDepartmentsAndLeaderFlags()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var leader = corp.Users.Values.First(u => u.LeaderOf.Count > 0);

        var detail = await client.GetUserAsync(corp.App, leader.UserId, default);

        Assert.Equal(leader.Name, detail.Name);
        Assert.Equal(leader.DeptIds, detail.DeptIdList);
        Assert.Contains(detail.LeaderInDept!, l => l.Leader && leader.LeaderOf.Contains(l.DeptId));
    }

    [Fact]
    public async Task GetUser_Unknown_Is60121WithRequestId()
    {
        using var client = fx.NewClient();

        var error = await Assert.ThrowsAsync<DingTalkException>(() => client.GetUserAsync(fx.School.App, "nobody", default));

        Assert.Equal(60121, error.ErrCode);
        Assert.False(string.IsNullOrEmpty(error.RequestId));
    }
}

public sealed class ClientOrgTests(SandboxFixture fx) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task ListSubDepartments_Root_ListsChildrenAndTheVirtualEduRootThatCannotBeRead()
    {
        using var client = fx.NewClient();
        var corp = fx.School;

        var children = await client.ListSubDepartmentsAsync(corp.App, 1, default);
        var ids = await client.ListSubDepartmentIdsAsync(corp.App, 1, default);
        var virtualRoot = await Assert.ThrowsAsync<DingTalkException>(() => client.GetDepartmentAsync(corp.App, -7, default));

        var expected = corp.Departments.Values.Where(d => d.ParentId == 1).Select(d => d.Id).Append(-7).Order();
        Assert.Equal(expected, children.Select(c => c.DeptId).Order());
        Assert.Equal(expected, ids.Order());
        Assert.Equal(60003, virtualRoot.ErrCode);
    }

    [Fact]
    public async Task GetDepartment_EnterpriseAndEduNode_CarryNameParentManagersAndEduTag()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var managed = corp.Departments.Values.First(d => d.ManagerUserIds.Count > 0);
        var classId = corp.Classes.Keys.First();

        var dept = await client.GetDepartmentAsync(corp.App, managed.Id, default);
        var eduNode = await client.GetDepartmentAsync(corp.App, classId, default);

        Assert.Equal((managed.Name, managed.ParentId), (dept.Name, dept.ParentId!.Value));
        Assert.Equal(managed.ManagerUserIds, dept.DeptManagerUserIdList);
        Assert.Equal("class", eduNode.Tags);
    }

    [Fact]
    public async Task ListAllUsers_DepartmentOfMoreThanOnePage_PagesToTheEnd()
    {
        using var client = fx.NewClient();
        var corp = fx.Bureau;
        var dept = fx.Sandbox.Mutate.AddDepartment(corp.CorpId, "临时专班", 1);
        var added = Enumerable.Range(0, 230)
            .Select(i => fx.Sandbox.Mutate.AddUser(corp.CorpId, $"专班成员{i}", [dept.Id]).UserId).ToList();

        var users = await client.ListAllUsersAsync(corp.App, dept.Id, default);
        var ids = await client.ListUserIdsAsync(corp.App, dept.Id, default);

        Assert.Equal(added, users.Select(u => u.UserId));
        Assert.Equal(added, ids);
        Assert.All(users, u => Assert.Contains(dept.Id, u.DeptIdList!));
    }

    [Fact]
    public async Task ListUsersPage_SmallPages_WalkTheSameUsersAsOneList()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var dept = corp.Departments.Values.OrderByDescending(d => corp.Users.Values.Count(u => u.DeptIds.Contains(d.Id))).First();
        var walked = new List<string>();
        long cursor = 0;
        while (true)
        {
            var page = await client.ListUsersPageAsync(corp.App, dept.Id, cursor, default, size: 3);
            walked.AddRange(page.List.Select(u => u.UserId));
            if (!page.HasMore)
            {
                break;
            }

            cursor = page.NextCursor!.Value;
        }

        Assert.Equal((await client.ListAllUsersAsync(corp.App, dept.Id, default)).Select(u => u.UserId), walked);
        Assert.True(walked.Count > 3);
    }

    [Fact]
    public async Task ListUsers_LeaderFlag_IsAboutTheListedDepartment()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var leader = corp.Users.Values.First(u => u.LeaderOf.Count > 0 && u.DeptIds.Count > 1);
        var led = leader.LeaderOf.First();
        var notLed = leader.DeptIds.First(d => !leader.LeaderOf.Contains(d));

        var inLed = (await client.ListAllUsersAsync(corp.App, led, default)).Single(u => u.UserId == leader.UserId);
        var inOther = (await client.ListAllUsersAsync(corp.App, notLed, default)).Single(u => u.UserId == leader.UserId);

        Assert.True(inLed.Leader);
        Assert.False(inOther.Leader);
    }

    [Fact]
    public async Task ListUsers_UnknownDepartment_Is60003()
    {
        using var client = fx.NewClient();

        var error = await Assert.ThrowsAsync<DingTalkException>(() => client.ListAllUsersAsync(fx.School.App, 987654, default));

        Assert.Equal(60003, error.ErrCode);
    }
}

public sealed class ClientEduTests(SandboxFixture fx) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task EduTree_WalkedFromTheTop_IsCampusPeriodGradeClassWithFeatures()
    {
        using var client = fx.NewClient();
        var corp = fx.School;

        var campuses = await client.ListAllEduDeptsAsync(corp.App, null, default);
        var periods = await client.ListAllEduDeptsAsync(corp.App, campuses[0].DeptId, default);
        var grades = await client.ListAllEduDeptsAsync(corp.App, periods[0].DeptId, default);
        var classes = await client.ListAllEduDeptsAsync(corp.App, grades[0].DeptId, default);

        Assert.Equal(("campus", "period", "grade", "class"),
            (campuses[0].DeptType, periods[0].DeptType, grades[0].DeptType, classes[0].DeptType));
        Assert.Equal([campuses[0].DeptId, periods[0].DeptId, grades[0].DeptId], classes[0].Ancestors);
        Assert.Equal(1, classes[0].ParsedFeature.GradeLevel);
        Assert.Equal("2026", classes[0].ParsedFeature.StartYear);
        var detail = await client.GetEduDeptAsync(corp.App, classes[0].DeptId, default);
        Assert.Equal(classes[0], detail);
    }

    [Fact]
    public async Task ListAllEduDepts_GradeWithMoreThan30Classes_PagesToTheEnd()
    {
        using var client = fx.NewClient();
        var corp = fx.Sandbox.World.Schools.Last();
        var gradeId = corp.EduNodes.Values.First(n => n.Type == Sandbox.Model.EduNodeType.Grade).Id;
        for (var i = 0; i < 40; i++)
        {
            fx.Sandbox.Mutate.AddClass(corp.CorpId, gradeId, $"扩班{i}");
        }

        var classes = await client.ListAllEduDeptsAsync(corp.App, gradeId, default);

        Assert.Equal(corp.EduNodes.Values.Count(n => n.ParentId == gradeId), classes.Count);
        Assert.True(classes.Count > 40);
        Assert.Equal(classes.Count, classes.Select(c => c.DeptId).Distinct().Count());
    }

    [Fact]
    public async Task ListAllEduUsers_EachRole_MatchesTheRosterAcrossPages()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var classId = corp.Classes.Keys.First();
        for (var i = 0; i < 12; i++)
        {
            fx.Sandbox.Mutate.AddStudent(corp.CorpId, classId, $"插班生{i}", withUnionId: i % 2 == 0);
        }

        var roster = corp.Classes[classId];
        var students = await client.ListAllEduUsersAsync(corp.App, classId, EduRoles.Student, default);
        var guardians = await client.ListAllEduUsersAsync(corp.App, classId, EduRoles.Guardian, default);
        var teachers = await client.ListAllEduUsersAsync(corp.App, classId, EduRoles.Teacher, default);

        Assert.True(students.Count > 30);
        Assert.Equal(roster.Students.Select(s => (s.UserId, s.StudentNo)), students.Select(s => (s.UserId, s.StudentNumber)));
        Assert.Contains(students, s => s.UnionId == "");
        Assert.Equal(roster.Guardians.Select(g => g.UserId), guardians.Select(g => g.UserId));
        Assert.Equal(roster.Teachers.Select(t => (t.UserId, t.IsAdviser)), teachers.Select(t => (t.UserId, t.IsAdviser)));
        Assert.All(students, s => Assert.Equal(classId, s.ClassIdOrVariant));
    }

    [Fact]
    public async Task ListAllEduRelations_MatchTheRosterAcrossPages()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var classId = corp.Classes.Keys.Skip(1).First();

        var relations = await client.ListAllEduRelationsAsync(corp.App, classId, default);

        var expected = corp.Classes[classId].Relations.Select(r => (r.GuardianUserId, r.StudentUserId, r.RelationCode));
        Assert.True(relations.Count > 30);
        Assert.Equal(expected, relations.Select(r => (r.FromUserId, r.ToUserId, r.RelationCode)));
        Assert.All(relations, r => Assert.Equal(EduRelationCodes.Names[r.RelationCode], r.RelationName));
    }

    [Fact]
    public async Task GetEduUser_Student_ReturnsTheStudent()
    {
        using var client = fx.NewClient();
        var corp = fx.School;
        var classId = corp.Classes.Keys.Last();
        var student = corp.Classes[classId].Students[0];

        var found = await client.GetEduUserAsync(corp.App, classId, EduRoles.Student, student.UserId, default);

        Assert.Equal(student.Name, Assert.Single(found).Name);
    }

    [Fact]
    public async Task ListEduUsers_UpperCaseRole_IsRefusedWith40035()
    {
        using var client = fx.NewClient();

        var error = await Assert.ThrowsAsync<DingTalkException>(() =>
            client.ListEduUsersPageAsync(fx.School.App, fx.School.Classes.Keys.First(), "STUDENT", 1, default));

        Assert.Equal(40035, error.ErrCode);
    }

    [Fact]
    public async Task ListEduUsers_PageSizeOver30_IsRefusedWith40035()
    {
        using var client = fx.NewClient();

        var error = await Assert.ThrowsAsync<DingTalkException>(() =>
            client.ListEduUsersPageAsync(fx.School.App, fx.School.Classes.Keys.First(), EduRoles.Student, 1, default, pageSize: 31));

        Assert.Equal(40035, error.ErrCode);
    }
}
