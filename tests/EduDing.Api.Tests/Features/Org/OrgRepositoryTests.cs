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
        await org.ReplaceStaffAsync("corp-a", [new StaffRow("t1", unionId, "王老师", "教师", null, false, false, [new StaffMembership(1, false)])], now, default);
        await org.UpsertEduNodeAsync("corp-b", new EduNodeRow(501, "一年级(1)班", null, 500, "class", 1, "2026"), now, default);
        await org.ReplaceClassRosterAsync("corp-b", 501, new ClassRoster(
            [new RosterPerson("s1", "王小明", "", "2026101")], [new RosterPerson("g1", "王老师", unionId, null)],
            [], [new RosterRelation("g1", "s1", "M")]), now, markOrphans: true, default);

        var rows = await org.FindPersonAsync(unionId, default);

        Assert.Equal([("corp-a", "staff", (long?)null), ("corp-b", "guardian", 501L)], rows.Select(r => (r.CorpId, r.Role, r.ClassId)));
    }
}

public sealed class SqliteOrgRepositoryTests(SqliteTestDb db) : OrgRepositoryTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlOrgRepositoryTests(MySqlTestDb db) : OrgRepositoryTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
