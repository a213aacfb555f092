using System.Text.Json;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Features.Privacy;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Tests.Features.Privacy;

/// <summary>
/// The record of processing on each database: children counted per category, the period's reads of identifiable records
/// grouped by the reader's role (staff of the bureau or a school, a guardian), the exports, and the grants in force —
/// and no child named anywhere in it.
/// </summary>
public abstract class ProcessingRecordsTests<TDb>(TDb db) where TDb : TestDb
{
    private const string School = "corp-pr-school";
    private const string Bureau = "corp-pr-bureau";

    [Fact]
    public async Task Report_CountsCategoriesAndGroupsReadsByRole_NamingNoChild()
    {
        db.SkipUnlessAvailable();
        var now = db.Time.GetUtcNow().UtcDateTime;
        var today = DateOnly.FromDateTime(now.AddHours(8));
        var org = new OrgRepository(db.Database);
        await org.ReplaceStaffAsync(School, [new StaffRow("teacher-1", null, "王老师", "教师", null, false, false, [])], now, now, default);
        await org.ReplaceStaffAsync(Bureau, [new StaffRow("officer-1", null, "李科长", "科长", null, false, false, [])], now, now, default);
        await org.UpsertEduNodeAsync(School, new EduNodeRow(9101, "一年级(1)班", null, null, "class", 1, "2026"), now, default);
        await org.ApplyClassRosterAsync(School, 9101, new ClassRoster(
            [new RosterPerson("child-aaa1", "张一", null, "1"), new RosterPerson("child-aaa2", "张二", null, "2")],
            [new RosterPerson("parent-1", "张爸爸", null, null)], [new RosterTeacher("teacher-1", true)],
            [new RosterRelation("parent-1", "child-aaa1", "F")]), now, default);
        await db.ExecuteAsync("""
            INSERT INTO care_applications (id, program_id, corp_id, student_user_id, class_id, guardian_corp_id, guardian_user_id, weekdays, pickup,
                                           terms_version, status, submitted_at)
            VALUES (@id, @id, @school, @child, 9101, @school, 'parent-1', '[1,2,3,4,5]', '[]', 1, 'pending', @now)
            """, new[] { ("child-aaa1", 1), ("child-aaa1", 2), ("child-aaa2", 3) }.Select(x => new { id = x.Item2, school = School, child = x.Item1, now }));
        await db.ExecuteAsync("""
            INSERT INTO access_grants (school_corp_id, grantee_corp_id, grantee_user_id, purpose, granted_by_user_id, granted_at, expires_at, revoked_at)
            VALUES (@School, @Bureau, 'officer-1', '复核近视个案', 'admin', @granted, @expires, NULL)
            """, new[] { (now.AddDays(-1), now.AddDays(2)), (now.AddDays(-90), now.AddDays(-60)) }
            .Select(g => new { School, Bureau, granted = g.Item1, expires = g.Item2 }));
        var audit = new AuditLog(db.Database, db.Time, Options.Create(new AuditOptions()));
        await audit.WriteAsync(School, "teacher-1", "roster.class.read", School, ["child-aaa1", "child-aaa2"], "class 9101", AuditLog.Allowed, default);
        await audit.WriteAsync(School, "teacher-1", "roster.class.read", School, ["child-aaa1"], "class 9101", AuditLog.Allowed, default);
        await audit.WriteAsync(Bureau, "officer-1", "student.record.read", School, ["child-aaa1"], "no grant", AuditLog.Denied, default);
        await audit.WriteAsync(School, "parent-1", "vision.record.read", School, ["child-aaa1"], "own child", AuditLog.Allowed, default);
        await audit.WriteAsync(Bureau, "officer-1", "vision.export", School, [], "统计导出", AuditLog.Allowed, default);
        var dingTalk = Options.Create(new DingTalkOptions
        {
            Corps =
            [
                new CorpSettings { CorpId = Bureau, Kind = "Bureau", Name = "教育局", AppKey = "b", AppSecret = "x", AgentId = 1 },
                new CorpSettings { CorpId = School, Kind = "School", Name = "学校", AppKey = "s", AppSecret = "x", AgentId = 2 },
            ],
        });
        var records = new ProcessingRecords(db.Database, new CorpDirectory(dingTalk, new SandboxHost(dingTalk, NullLogger<SandboxHost>.Instance)), db.Time);

        var report = await records.ReportAsync(today.AddDays(-1), today, default);

        var categories = report.Categories.ToDictionary(c => c.Category);
        Assert.True(categories["roster"].Children >= 2);
        Assert.Equal((2, 3), (categories["care-applications"].Children, categories["care-applications"].Rows));
        Assert.Contains(report.Access, a => a is { Role: "school-staff", Action: "roster.class.read", Outcome: "allowed", Entries: 2, Actors: 1, Children: 2 });
        Assert.Contains(report.Access, a => a is { Role: "bureau-staff", Action: "student.record.read", Outcome: "denied", Entries: 1, Children: 1 });
        Assert.Contains(report.Access, a => a is { Role: "guardian", Action: "vision.record.read", Entries: 1 });
        Assert.Single(report.Exports, e => e.Action == "vision.export" && e.ActorUserId == "officer-1");
        Assert.Single(report.Grants, g => g.SchoolCorpId == School);
        Assert.DoesNotContain("child-aaa", JsonSerializer.Serialize(report));
        // A day without any of it: reads and exports are counted by day.
        var before = await records.ReportAsync(today.AddDays(-30), today.AddDays(-20), default);
        Assert.DoesNotContain(before.Access, a => a.Action == "roster.class.read");
    }
}

public sealed class SqliteProcessingRecordsTests(SqliteTestDb db) : ProcessingRecordsTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlProcessingRecordsTests(MySqlTestDb db) : ProcessingRecordsTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
