using EduDing.Api.Features.Org;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Features.Org;

public abstract class OrgRepositoryTests<TDb>(TDb db) where TDb : TestDb
{
    [Fact]
    public async Task FindPerson_UnknownUnionId_ReturnsNothing()
    {
        db.SkipUnlessAvailable();

        var rows = await new OrgRepository(db.Database).FindPersonAsync("no-such-union-id", default);

        Assert.Empty(rows);
    }

    [Fact]
    public async Task FindPerson_TeacherWhoIsAParentInAnotherCorp_HasBothRoles()
    {
        db.SkipUnlessAvailable();
        var org = new OrgRepository(db.Database);
        var now = db.Time.GetUtcNow().UtcDateTime;
        var unionId = $"u-{Guid.NewGuid():N}"[..20];
        await org.ReplaceStaffAsync("corp-a", [new StaffRow("t1", unionId, "王老师", "教师", null, false, false, [new StaffMembership(1, false)])], now, now, default);
        await org.UpsertEduNodeAsync("corp-b", new EduNodeRow(501, "一年级(1)班", null, 500, "class", 1, "2026"), now, default);
        await org.ApplyClassRosterAsync("corp-b", 501, new ClassRoster(
            [new RosterPerson("s1", "王小明", "", "2026101")], [new RosterPerson("g1", "王老师", unionId, null)],
            [], [new RosterRelation("g1", "s1", "M")]), now, default);

        var rows = await org.FindPersonAsync(unionId, default);

        Assert.Equal([("corp-a", "staff", (long?)null), ("corp-b", "guardian", 501L)], rows.Select(r => (r.CorpId, r.Role, r.ClassId)));
    }

    [Fact]
    public async Task StudentAndClassReads_ReturnOnlyThatStudentOrClass()
    {
        db.SkipUnlessAvailable();
        var org = new OrgRepository(db.Database);
        var now = db.Time.GetUtcNow().UtcDateTime;
        var corp = $"corp-{Guid.NewGuid():N}"[..20];
        await org.ReplaceStaffAsync(corp, [new StaffRow("t1", null, "李老师", "教师", null, false, false, [new StaffMembership(1, false)])], now, now, default);
        foreach (var (id, name) in new[] { (601L, "一年级(1)班"), (602L, "一年级(2)班") })
        {
            await org.UpsertEduNodeAsync(corp, new EduNodeRow(id, name, null, 600, "class", 1, "2026"), now, default);
        }

        await org.ApplyClassRosterAsync(corp, 601, new ClassRoster(
            [new RosterPerson("s1", "王小明", null, "1"), new RosterPerson("s2", "王小红", null, "2")],
            [new RosterPerson("g1", "王爸爸", "u1", null)], [new RosterTeacher("t1", true)],
            [new RosterRelation("g1", "s1", "F"), new RosterRelation("g1", "s2", "F")]), now, default);
        await org.ApplyClassRosterAsync(corp, 602, new ClassRoster(
            [new RosterPerson("s3", "赵小刚", null, "3")], [new RosterPerson("g1", "王爸爸", "u1", null)], [new RosterTeacher("t9", false)],
            [new RosterRelation("g1", "s3", "GF")]), now, default);

        var directory = new OrgDirectory(db.Database);
        var (students, guardians, teachers) = await directory.ClassRosterAsync(corp, 601, default);
        var classes = await directory.ClassesOfStudentAsync(corp, "s3", default);
        var ofStudent = await directory.GuardiansOfStudentAsync(corp, "s1", default);

        Assert.Equal(["s1", "s2"], students.Select(s => s.UserId));
        Assert.Equal([("g1", "s1", "王爸爸", "F"), ("g1", "s2", "王爸爸", "F")], guardians);
        Assert.Equal([("t1", "李老师", true)], teachers);
        Assert.Equal([(602L, "一年级(2)班")], classes);
        Assert.Equal([("g1", "王爸爸", "F")], ofStudent);
        Assert.Equal("王小红", (await directory.FindStudentAsync(corp, "s2", default))!.Name);
        Assert.Null(await directory.FindStudentAsync(corp, "nobody", default));
        Assert.Equal([("t9", "t9", false)], (await directory.ClassRosterAsync(corp, 602, default)).Teachers);
    }
}


public sealed class SqliteOrgRepositoryTests(SqliteTestDb db) : OrgRepositoryTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlOrgRepositoryTests(MySqlTestDb db) : OrgRepositoryTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
