using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Features.Privacy;
using EduDing.Api.Features.Vision;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Tests.Features.Privacy;

/// <summary>
/// 学籍 transfer and retention on each database: a child who left one school and appears in another of the same unionId
/// space takes their vision history there, once, even with two instances running; a school of another space does not
/// get it; once the retention period has passed the leaver's records are de-identified and the statistics stay.
/// </summary>
public abstract class RetentionTests<TDb>(TDb db) where TDb : TestDb
{
    private const string SchoolA = "corp-ret-a";
    private const string SchoolB = "corp-ret-b";
    private const string SchoolC = "corp-ret-c";

    private RetentionService Service(PrivacyOptions privacy)
    {
        var dingTalk = Options.Create(new DingTalkOptions
        {
            Corps =
            [
                new CorpSettings { CorpId = SchoolA, Kind = "School", Name = "甲校", AppKey = "a", AppSecret = "x", AgentId = 1, UnionIdSpace = "haining" },
                new CorpSettings { CorpId = SchoolB, Kind = "School", Name = "乙校", AppKey = "b", AppSecret = "x", AgentId = 2, UnionIdSpace = "haining" },
                new CorpSettings { CorpId = SchoolC, Kind = "School", Name = "丙校", AppKey = "c", AppSecret = "x", AgentId = 3 },
            ],
        });
        var corps = new CorpDirectory(dingTalk, new SandboxHost(dingTalk, NullLogger<SandboxHost>.Instance));
        var options = Options.Create(privacy);
        var consents = new ConsentService(new ConsentRepository(db.Database), options);
        return new RetentionService(db.Database, new LeaseRepository(db.Database, db.Time), new ServiceInstance(), corps,
            new ChildDataEraser(options, consents, db.Time), new AuditLog(db.Database, db.Time, Options.Create(new AuditOptions())), options, db.Time,
            NullLogger<RetentionService>.Instance);
    }

    private async Task StudentAsync(string corpId, long classId, string userId, string unionId)
    {
        var now = db.Time.GetUtcNow().UtcDateTime;
        var org = new OrgRepository(db.Database);
        await org.UpsertEduNodeAsync(corpId, new EduNodeRow(classId, "三年级(1)班", null, null, "class", 3, "2024"), now, default);
        await org.ApplyClassRosterAsync(corpId, classId, new ClassRoster([new RosterPerson(userId, "李小明", unionId, "1")], [], [], []), now, default);
    }

    private Task RecordAsync(long roundId, string corpId, long classId, string studentUserId, decimal ucva) => db.ExecuteAsync($"""
        INSERT INTO vision_records ({VisionRepository.RecordColumns})
        VALUES (@roundId, @corpId, @studentUserId, @classId, 'male', @birth, @screened, 9, 'none', @ucva, 5.0, NULL, NULL, NULL, NULL, -1.25, 0, 180,
                0.25, 0, 180, NULL, NULL, NULL, -1.25, 0.25, 'mild', 1, 'low', 1, 1, 0, 1, 'test', 'hash', 1, 'app', @corpId, 'teacher', @at, NULL)
        """, new
    {
        roundId, corpId, studentUserId, classId, ucva, birth = new DateOnly(2017, 3, 1), screened = new DateOnly(2026, 1, 10 + (int)roundId % 10),
        at = db.Time.GetUtcNow().UtcDateTime,
    });

    [Fact]
    public async Task ALeaversHistory_MovesWithTheirEnrolment_Once_ThenTheLeaversRecordsAreDeIdentified()
    {
        db.SkipUnlessAvailable();
        var now = db.Time.GetUtcNow().UtcDateTime;
        foreach (var round in new[] { 9101L, 9102L })
        {
            await db.ExecuteAsync("""
                INSERT INTO vision_rounds (id, kind, school_year, name, corp_id, opens_on, closes_on, rescreen_of, created_by_corp_id, created_by_user_id, created_at)
                VALUES (@round, 'ad-hoc', 2025, @name, NULL, @opens, @closes, NULL, 'bureau', 'admin', @now)
                """, new { round, name = $"测试轮次{round}", opens = new DateOnly(2026, 1, 5), closes = new DateOnly(2026, 1, 30), now });
        }

        await StudentAsync(SchoolA, 71, "kid-a", "u-kid");
        await StudentAsync(SchoolB, 72, "kid-b", "u-kid");
        await StudentAsync(SchoolC, 73, "kid-c", "u-kid");
        await RecordAsync(9101, SchoolA, 71, "kid-a", 4.8m);
        await RecordAsync(9102, SchoolA, 71, "kid-a", 4.7m);
        await db.ExecuteAsync("UPDATE students SET removed_at = @now WHERE corp_id = @SchoolA AND user_id = 'kid-a'", new { now, SchoolA });
        var privacy = new PrivacyOptions { TransferWindow = TimeSpan.FromDays(180), LeaverRecordsKept = TimeSpan.FromDays(3 * 365) };
        var vision = new VisionRepository(db.Database);

        // Two instances at once: one transfer.
        var runs = await Task.WhenAll(Service(privacy).RunAsync(default), Service(privacy).RunAsync(default));
        var again = await Service(privacy).RunAsync(default);

        Assert.Equal(1, runs.Where(r => r is not null).Sum(r => r!.Transfers) + (again?.Transfers ?? 0));
        var carried = await vision.StudentRecordsAsync(SchoolB, "kid-b", publishedOnly: true, default);
        Assert.Equal([4.8m, 4.7m], carried.OrderBy(r => r.Round.Id).Select(r => r.Record.UcvaR!.Value));
        Assert.Empty(await vision.StudentRecordsAsync(SchoolC, "kid-c", publishedOnly: false, default));
        await using var connection = await db.Database.OpenConnectionAsync(default);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM student_transfers WHERE from_corp_id = @SchoolA", new { SchoolA }));
        Assert.Equal(2, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM vision_records_transferred WHERE corp_id = @SchoolB", new { SchoolB }));

        // Within the retention period the leaver's records stay as they are; after it they are de-identified, and the
        // classification the statistics are built from stays.
        db.Time.Advance(TimeSpan.FromDays(3 * 365 + 1));
        var later = await Service(privacy).RunAsync(default);

        Assert.Equal(1, later!.VisionErased);
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM vision_records WHERE student_user_id = 'kid-a'"));
        Assert.Equal((2, 2, 0), await connection.QuerySingleAsync<(int, int, int)>("""
            SELECT COUNT(*), SUM(CASE WHEN myopic = 1 AND myopia_grade = 'low' THEN 1 ELSE 0 END), COUNT(ucva_r) + COUNT(eyes_sealed)
            FROM vision_records WHERE corp_id = @SchoolA AND student_user_id LIKE 'erased:%'
            """, new { SchoolA }));
        Assert.Equal(2, (await vision.StudentRecordsAsync(SchoolB, "kid-b", publishedOnly: true, default)).Count);
        Assert.Contains(await Service(privacy).RunsAsync(10, default), r => r.Id == later.Id && r.VisionErased == 1);
    }
}

public sealed class SqliteRetentionTests(SqliteTestDb db) : RetentionTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlRetentionTests(MySqlTestDb db) : RetentionTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
