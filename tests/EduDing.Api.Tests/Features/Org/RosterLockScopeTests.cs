using Dapper;
using EduDing.Api.Features.Org;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Features.Org;

/// <summary>
/// Many classes of two corps written at once into empty tables — an initial sync of two schools on two instances — and
/// then rewritten with changes: every roster lands exactly, and on MySQL no transaction had to be re-run, because the
/// roster write locks only the rows it touches (docs/org-mirror.md, "Lock scope"). The empty tables are the worst case:
/// the old range delete locked the gap at the end of the index, which every class being written shared.
/// </summary>
public abstract class RosterLockScopeTests<TDb>(TDb db) where TDb : TestDb
{
    private const int ClassesPerCorp = 16;
    private const int StudentsPerClass = 25;

    private static ClassRoster Roster(string corp, int c, int generation)
    {
        // A child's guardians: one of their own, and one shared with the next class (siblings), so classes share rows.
        var students = Enumerable.Range(0, StudentsPerClass).Select(s => new RosterPerson($"{corp}-s{c:D2}{s:D2}", $"学生{c}-{s}", null, null)).ToList();
        var guardians = students.Select((s, i) => new RosterPerson($"{corp}-g{c:D2}{i:D2}", $"家长{c}-{i}", null, null))
            .Concat(Enumerable.Range(0, 5).Select(i => new RosterPerson($"{corp}-shared{(c + i % 2) % ClassesPerCorp:D2}{i}", "共同家长", null, null)))
            .DistinctBy(g => g.UserId).ToList();
        var relations = students.Select((s, i) => new RosterRelation($"{corp}-g{c:D2}{i:D2}", s.UserId, generation == 0 ? "M" : "F"))
            .Concat(guardians.Where(g => g.UserId.Contains("shared")).Select(g => new RosterRelation(g.UserId, students[0].UserId, "O")))
            .ToList();
        // The second generation drops the class's last two children and their guardians and changes every relation code.
        var keep = generation == 0 ? StudentsPerClass : StudentsPerClass - 2;
        return new ClassRoster(students.Take(keep).ToList(), guardians.Where(g => !g.UserId.Contains($"-g{c:D2}2") || generation == 0).ToList(),
            [new RosterTeacher($"{corp}-t{c:D2}", generation == 0)],
            relations.Where(r => students.Take(keep).Any(s => s.UserId == r.StudentUserId)).ToList());
    }

    [Fact]
    public async Task ManyClassesWrittenAtOnce_IntoEmptyTables_AndAgainWithChanges_LandExactly_WithoutDeadlocks()
    {
        db.SkipUnlessAvailable();
        var org = new OrgRepository(db.Database);
        var now = db.Time.GetUtcNow().UtcDateTime;
        string[] corps = ["corp-lock-a", "corp-lock-b"];
        var classes = corps.SelectMany(corp => Enumerable.Range(0, ClassesPerCorp).Select(c => (Corp: corp, Class: c, Id: 7000L + c))).ToList();
        foreach (var (corp, c, id) in classes)
        {
            await org.UpsertEduNodeAsync(corp, new EduNodeRow(id, $"{c}班", null, null, "class", 1, "2026"), now, default);
        }

        var retriesBefore = db.Database.TransientRetries;
        foreach (var generation in new[] { 0, 1 })
        {
            await Task.WhenAll(classes.Select(k => Task.Run(() =>
                org.ReconcileClassRosterAsync(k.Corp, k.Id, Roster(k.Corp, k.Class, generation), now, now.AddDays(1), default))));

            foreach (var (corp, c, id) in classes)
            {
                var expected = Roster(corp, c, generation);
                await using var connection = await db.Database.OpenConnectionAsync(default);
                var members = (await connection.QueryAsync<(string Role, string UserId, bool IsAdviser)>(
                    "SELECT role, user_id, is_adviser FROM class_members WHERE corp_id = @corp AND class_id = @id", new { corp, id })).ToHashSet();
                var relations = (await connection.QueryAsync<(string GuardianUserId, string StudentUserId, string RelationCode)>(
                    "SELECT guardian_user_id, student_user_id, relation_code FROM guardian_students WHERE corp_id = @corp AND class_id = @id",
                    new { corp, id })).ToHashSet();
                var expectedMembers = expected.Students.Select(s => ("student", s.UserId, false))
                    .Concat(expected.Guardians.Select(g => ("guardian", g.UserId, false)))
                    .Concat(expected.Teachers.Select(t => ("teacher", t.UserId, t.IsAdviser))).ToHashSet();
                Assert.Equal(expectedMembers.Order(), members.Order());
                Assert.Equal(expected.Relations.Select(r => (r.GuardianUserId, r.StudentUserId, r.RelationCode)).ToHashSet().Order(), relations.Order());
            }
        }

        if (db is MySqlTestDb)
        {
            Assert.Equal(retriesBefore, db.Database.TransientRetries);
        }
    }
}

public sealed class SqliteRosterLockScopeTests(SqliteTestDb db) : RosterLockScopeTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlRosterLockScopeTests(MySqlTestDb db) : RosterLockScopeTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
