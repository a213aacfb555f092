using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Notices;
using EduDing.Api.Features.Org;
using EduDing.Api.Features.Vision;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Demo;

internal enum DemoSeedOutcome
{
    /// <summary>Not every corp has completed its first sync yet: try again later.</summary>
    MirrorNotReady,

    /// <summary>Seeded now.</summary>
    Seeded,

    /// <summary>The database already holds the demo (or another instance is seeding it).</summary>
    AlreadyThere,
}

/// <summary>What the demo put in place, for the log.</summary>
internal sealed record DemoSeed(DemoSeedOutcome Outcome, long? RoundId = null, int Records = 0, long? SentNoticeId = null,
    long? PendingNoticeId = null);

/// <summary>
/// Gives the sandbox's demo organization some life once it is mirrored, so that a front-end developer's first run does not
/// face empty lists: an open city-wide screening round with the records of two classes, a notice the bureau sent to every
/// class adviser, and a teacher's notice awaiting the school admin's approval. Everything goes through the same services
/// the API calls, as the people of the demo org. It runs only beside the in-process sandbox with
/// DingTalk:Sandbox:DemoData on (the Development default), never against real corps, and once per database.
/// </summary>
internal sealed class DemoData(Database db, CorpDirectory corps, OrgDirectory directory,
    IdentityRepository identity, IOptions<IdentityOptions> identityOptions, VisionService vision, NoticeService notices, LeaseRepository leases,
    ServiceInstance instance, TimeProvider time)
{
    public const string RoundName = "演示：寒假离校视力筛查";
    private const string LeaseName = "demo-data";
    private const int Seed = 20261201;

    public async Task<DemoSeed> SeedAsync(CancellationToken ct)
    {
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            var synced = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "SELECT COUNT(*) FROM corps WHERE last_full_sync_at IS NOT NULL", cancellationToken: ct));
            if (synced < corps.All.Count)
            {
                return new DemoSeed(DemoSeedOutcome.MirrorNotReady);
            }

            if (await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                    "SELECT COUNT(*) FROM vision_rounds WHERE name = @RoundName", new { RoundName }, cancellationToken: ct)) > 0)
            {
                return new DemoSeed(DemoSeedOutcome.AlreadyThere);
            }
        }

        // One instance seeds; the round's name is the mark that it was done.
        if (!await leases.TryAcquireAsync(LeaseName, instance.Id, TimeSpan.FromMinutes(10), ct))
        {
            return new DemoSeed(DemoSeedOutcome.AlreadyThere);
        }

        var bureau = corps.All.First(c => c.Kind == CorpKind.Bureau).CorpId;
        var school = corps.All.First(c => c.Kind == CorpKind.School).CorpId;
        var bureauAdmin = await CallerAsync(bureau, await FirstAsync(
            "SELECT user_id FROM staff WHERE corp_id = @corpId AND is_admin = 1 AND removed_at IS NULL ORDER BY user_id", new { corpId = bureau }, ct), ct);

        var today = ShanghaiTime.Today(time);
        var round = await vision.CreateRoundAsync(bureauAdmin, new CreateRound(RoundKind.WinterLeave, today.Month >= 9 ? today.Year : today.Year - 1,
            RoundName, null, today.AddDays(-3), today.AddDays(11), null), ct);
        var classes = (await directory.ClassesAsync(school, new ClassFilter(), ct)).Take(2).ToList();
        var records = 0;
        var random = new Random(Seed);
        foreach (var schoolClass in classes)
        {
            var adviser = await FirstAsync("""
                SELECT user_id FROM class_members WHERE corp_id = @corpId AND class_id = @classId AND role = 'teacher'
                ORDER BY is_adviser DESC, user_id
                """, new { corpId = school, classId = schoolClass.ClassId }, ct);
            var students = (await QueryAsync("""
                SELECT user_id FROM class_members WHERE corp_id = @corpId AND class_id = @classId AND role = 'student' ORDER BY user_id
                """, new { corpId = school, classId = schoolClass.ClassId }, ct)).ToList();
            var age = 5 + (schoolClass.GradeLevel ?? 3);
            var inputs = students.Select(s => (VisionRecordInput?)Record(s, age, today.AddDays(-1), random)).ToList();
            var outcome = await vision.EnterAsync(await CallerAsync(school, adviser, ct), round.Id, school, inputs, VisionRecordSource.Class, ct);
            records += outcome.Created;
        }

        var sent = await notices.ComposeAsync(bureauAdmin, new ComposeNotice(bureau, "关于做好寒假学生近视防控工作的通知（演示）",
            "各学校：\n\n请在**寒假离校前**完成视力筛查，并将结果反馈家长。\n\n- 每天户外活动 2 小时\n- 减少近距离用眼", [],
            [new AudienceSelector(null, [AudienceRole.Advisers], null, null, null, null)], null), ct);

        var teacherClass = classes.First();
        var teacher = await FirstAsync("""
            SELECT m.user_id FROM class_members m JOIN staff s ON s.corp_id = m.corp_id AND s.user_id = m.user_id
            WHERE m.corp_id = @corpId AND m.class_id = @classId AND m.role = 'teacher' AND s.is_admin = 0
            ORDER BY m.is_adviser, m.user_id
            """, new { corpId = school, classId = teacherClass.ClassId }, ct);
        var pending = await notices.ComposeAsync(await CallerAsync(school, teacher, ct), new ComposeNotice(school, "本周五家长开放日安排（演示）",
            "各位家长：\n\n本周五下午 2 点举行家长开放日，欢迎到校参加。", [],
            [new AudienceSelector(school, [AudienceRole.Guardians], null, null, [teacherClass.ClassId], null)], null), ct);

        await leases.ReleaseAsync(LeaseName, instance.Id, ct);
        return new DemoSeed(DemoSeedOutcome.Seeded, round.Id, records, sent.Id, pending.Id);
    }

    /// <summary>A plausible record: most children see well, about a third are myopic, a few very much so.</summary>
    private static VisionRecordInput Record(string studentUserId, int age, DateOnly screenedOn, Random random)
    {
        decimal[] sphereSteps = [0.50m, 0.25m, 0m, -0.25m, -0.75m, -1.25m, -2.00m, -3.50m, -6.25m];
        decimal[] ucvaFor = [5.0m, 5.0m, 5.0m, 4.9m, 4.8m, 4.6m, 4.4m, 4.2m, 4.0m];
        int Pick() => Math.Min(sphereSteps.Length - 1, (int)(random.NextDouble() * random.NextDouble() * sphereSteps.Length * 1.6));
        var (right, left) = (Pick(), Pick());
        return new VisionRecordInput(studentUserId, random.Next(2) == 0 ? "male" : "female",
            screenedOn.AddYears(-age).AddDays(-random.Next(365)), screenedOn, GlassesType.None,
            ucvaFor[right], ucvaFor[left], null, null, null, null,
            sphereSteps[right], 0m, null, sphereSteps[left], 0m, null, null, null, null);
    }

    private async Task<Caller> CallerAsync(string corpId, string userId, CancellationToken ct)
    {
        var account = await directory.FindAccountAsync(corpId, userId, ct)
                      ?? throw new InvalidOperationException($"The demo org has no {userId} in {corpId}.");
        var identities = await identity.IdentitiesAsync(account, ct);
        var roles = await identity.RolesAsync(identities, identityOptions.Value, ct);
        return new Caller(account, identities, roles.Select(r => r.Claim).ToHashSet(StringComparer.Ordinal));
    }

    private async Task<string> FirstAsync(string sql, object args, CancellationToken ct) =>
        (await QueryAsync(sql, args, ct)).FirstOrDefault() ?? throw new InvalidOperationException("The demo org lacks a person the demo needs.");

    private async Task<IEnumerable<string>> QueryAsync(string sql, object args, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QueryAsync<string>(new CommandDefinition(sql, args, cancellationToken: ct));
    }
}

/// <summary>Seeds the demo once the mirror is complete, then idles.</summary>
internal sealed class DemoDataWorker(IServiceScopeFactory scopes, TimeProvider time, ILogger<DemoDataWorker> log, SandboxHost sandbox,
    IOptions<DingTalkOptions> dingTalk) : PeriodicWorker(scopes, time, log)
{
    private volatile bool _done;

    protected override bool Enabled => sandbox.Enabled && dingTalk.Value.Sandbox.DemoData;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(5);

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken ct)
    {
        if (_done)
        {
            return;
        }

        var seed = await services.GetRequiredService<DemoData>().SeedAsync(ct);
        if (seed.Outcome == DemoSeedOutcome.MirrorNotReady)
        {
            return;
        }

        _done = true;
        if (seed.Outcome == DemoSeedOutcome.Seeded)
        {
            log.LogInformation("Demo data: open round {RoundId} with {Records} records, sent notice {SentNoticeId}, " +
                               "notice {PendingNoticeId} awaiting approval", seed.RoundId, seed.Records, seed.SentNoticeId, seed.PendingNoticeId);
        }
    }
}

internal static class DemoExtensions
{
    public static IServiceCollection AddDemoData(this IServiceCollection services)
    {
        services.AddScoped<DemoData>();
        services.AddHostedService<DemoDataWorker>();
        return services;
    }
}
