using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Tests.Features.Identity;

/// <summary>
/// A unionid names one person only within its unionId space (one developer account): the same string in a corp of
/// another space is somebody else, whatever the database holds, and a former account is nobody's identity.
/// </summary>
public abstract class UnionIdSpaceTests<TDb>(TDb db) where TDb : TestDb
{
    private const string SchoolA = "corp-space-a";
    private const string SchoolB = "corp-space-b";
    private const string SchoolC = "corp-space-c";
    private const string SchoolD = "corp-space-d";

    private IdentityRepository Repository()
    {
        var dingTalk = Options.Create(new DingTalkOptions
        {
            Corps =
            [
                new CorpSettings { CorpId = SchoolA, Kind = "School", Name = "甲校", AppKey = "a", AppSecret = "x", AgentId = 1, UnionIdSpace = "haining" },
                new CorpSettings { CorpId = SchoolB, Kind = "School", Name = "乙校", AppKey = "b", AppSecret = "x", AgentId = 2, UnionIdSpace = "haining" },
                new CorpSettings { CorpId = SchoolC, Kind = "School", Name = "丙校", AppKey = "c", AppSecret = "x", AgentId = 3 },
                new CorpSettings { CorpId = SchoolD, Kind = "School", Name = "丁校", AppKey = "d", AppSecret = "x", AgentId = 4, UnionIdSpace = "haining" },
            ],
        });
        var corps = new CorpDirectory(dingTalk, new SandboxHost(dingTalk, NullLogger<SandboxHost>.Instance));
        return new IdentityRepository(db.Database, corps, new OrgDirectory(db.Database));
    }

    private async Task GuardianAsync(string corpId, long classId, string userId, string unionId)
    {
        var now = db.Time.GetUtcNow().UtcDateTime;
        var org = new OrgRepository(db.Database);
        await org.UpsertEduNodeAsync(corpId, new EduNodeRow(classId, "三年级(1)班", null, null, "class", 3, "2024"), now, default);
        await org.ApplyClassRosterAsync(corpId, classId, new ClassRoster(
            [new RosterPerson($"kid-{userId}", "李小明", "", "1")], [new RosterPerson(userId, "李爸爸", unionId, null)], [],
            [new RosterRelation(userId, $"kid-{userId}", "F")]), now, default);
    }

    [Fact]
    public async Task TheSameUnionId_JoinsAccountsOnlyWithinItsSpace()
    {
        db.SkipUnlessAvailable();
        await GuardianAsync(SchoolA, 81, "dad-a", "u-space-dad");
        await GuardianAsync(SchoolB, 82, "dad-b", "u-space-dad");
        await GuardianAsync(SchoolC, 83, "dad-c", "u-space-dad");
        await GuardianAsync(SchoolD, 84, "dad-d", "u-space-dad");
        await db.ExecuteAsync("UPDATE guardians SET removed_at = @now WHERE corp_id = @SchoolD",
            new { now = db.Time.GetUtcNow().UtcDateTime, SchoolD });

        var repository = Repository();
        var inA = await repository.IdentitiesAsync(new Account(SchoolA, "dad-a", "李爸爸", "u-space-dad"), default);
        Assert.Equal([(SchoolA, "dad-a"), (SchoolB, "dad-b")], inA.Order());
        // The school of another space holds the same string: its account is on its own.
        var inC = await repository.IdentitiesAsync(new Account(SchoolC, "dad-c", "李爸爸", "u-space-dad"), default);
        Assert.Equal([(SchoolC, "dad-c")], inC);
    }
}

public sealed class SqliteUnionIdSpaceTests(SqliteTestDb db) : UnionIdSpaceTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlUnionIdSpaceTests(MySqlTestDb db) : UnionIdSpaceTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
