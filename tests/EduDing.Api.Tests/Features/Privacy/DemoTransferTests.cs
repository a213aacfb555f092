using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Privacy;
using EduDing.Api.Features.Vision;
using EduDing.Api.Tests.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using EduDing.DingTalk.Sandbox;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Privacy;

/// <summary>The demo org with every school's app on one developer account: a child keeps their unionId from school to school.</summary>
public sealed class SharedAccountOrgFixture<TDb> : LiveOrgOnDbFixture<TDb> where TDb : TestDb, new()
{
    protected override SandboxOptions? SandboxOptions
    {
        get
        {
            var options = LiveOrg.DefaultSandboxOptions();
            options.SharedDeveloperAccount = true;
            return options;
        }
    }
}

/// <summary>
/// 学籍 transfer through the live demo org on each database (docs/privacy.md "Transfer"): a pupil leaves one demo school's
/// 家校通讯录 and is added to another's with the same unionId; once the mirror has both, the retention job carries their
/// vision history (still sealed) to the receiving school.
/// </summary>
public abstract class DemoTransferTests<TDb>(SharedAccountOrgFixture<TDb> fixture) where TDb : TestDb, new()
{
    [Fact]
    public async Task APupilMovingBetweenTwoDemoSchools_TakesTheirVisionHistory()
    {
        fixture.Db.SkipUnlessAvailable();
        var live = fixture.Live;
        var world = live.Sandbox.World;
        var (from, to) = (world.Schools.First(), world.Schools.Skip(1).First());
        var (fromClass, pupil) = from.Classes.SelectMany(c => c.Value.Students.Select(s => (c.Key, s))).First(x => x.s.UnionId.Length > 0);
        var services = live.Factory.Services;
        var vision = services.GetRequiredService<VisionRepository>();
        var now = DateTime.UtcNow;
        var round = await vision.CreateRoundAsync("ad-hoc", 2026, "转学前筛查", null, DateOnly.FromDateTime(now).AddDays(-20),
            DateOnly.FromDateTime(now).AddDays(-10), null, world.Bureau.CorpId, "admin", [from.CorpId], [], now, default);
        var input = new VisionRecordInput(pupil.UserId, "female", new DateOnly(2017, 5, 1), DateOnly.FromDateTime(now).AddDays(-15), GlassesType.Frame,
            4.6m, 4.7m, null, null, 5.0m, 5.0m, -1.75m, -0.5m, 175, -1.5m, -0.25m, 5, 23.9m, 23.8m, null);
        await vision.SaveRecordsAsync(round, from.CorpId, [new ClassifiedInput(input, fromClass, services.GetRequiredService<VisionService>().Classify(input))],
            "app", from.CorpId, "teacher", now, default);

        // The pupil leaves the first school and joins a class of the second, the same person.
        live.Sandbox.Mutate.RemoveStudent(from.CorpId, fromClass, pupil.UserId);
        var arrived = live.Sandbox.Mutate.AddStudent(to.CorpId, to.Classes.Keys.First(), pupil.Name, unionId: world.PersonOf(from.CorpId, pupil.UnionId));
        Assert.Null(await live.WaitUntilMirroredAsync(TimeSpan.FromSeconds(60)));

        var run = await services.GetRequiredService<RetentionService>().RunAsync(default);

        Assert.Equal(1, run!.Transfers);
        var carried = Assert.Single(await vision.StudentRecordsAsync(to.CorpId, arrived.UserId, publishedOnly: true, default));
        Assert.Equal((round, 4.6m, -1.75m, 23.9m), (carried.Round.Id, carried.Record.UcvaR, carried.Record.SphereR, carried.Record.AxialLengthR));
        var database = services.GetRequiredService<Database>();
        await using var connection = await database.OpenConnectionAsync(default);
        Assert.StartsWith(FieldProtector.Prefix, await connection.ExecuteScalarAsync<string>(
            "SELECT eyes_sealed FROM vision_records_transferred WHERE corp_id = @CorpId AND student_user_id = @UserId",
            new { to.CorpId, arrived.UserId }));
    }
}

public sealed class SqliteDemoTransferTests(SharedAccountOrgFixture<SqliteTestDb> fixture)
    : DemoTransferTests<SqliteTestDb>(fixture), IClassFixture<SharedAccountOrgFixture<SqliteTestDb>>;

public sealed class MySqlDemoTransferTests(SharedAccountOrgFixture<MySqlTestDb> fixture)
    : DemoTransferTests<MySqlTestDb>(fixture), IClassFixture<SharedAccountOrgFixture<MySqlTestDb>>;
