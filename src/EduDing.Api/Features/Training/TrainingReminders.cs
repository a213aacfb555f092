using System.Data.Common;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Notices;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Training;

/// <summary>What one pass of the reminders did.</summary>
internal sealed record ReminderPass(DateOnly Day, int BehindSchedule, int BeforeRegistration);

/// <summary>
/// Reminders through the notice pipeline (docs/training.md): on each of <see cref="TrainingOptions.ReminderDays"/>, to
/// every teacher behind schedule in their cycle; on the listed days before <see cref="TrainingOptions.RegistrationDeadline"/>,
/// to every teacher who would not pass 定期注册 as things stand. One message per teacher, kind and day: each is claimed
/// in the database before it is sent, so several instances and repeated passes never send it twice.
/// </summary>
internal sealed class TrainingReminders(Database db, TrainingStandings standings, SystemNotices notices, CorpDirectory corps,
    IOptions<TrainingOptions> options, TimeProvider time)
{
    public const string BehindSchedule = "behind-schedule";
    public const string BeforeRegistration = "before-registration";

    public async Task<ReminderPass> RunAsync(CancellationToken ct)
    {
        var rules = options.Value;
        var now = time.GetUtcNow();
        var today = ShanghaiTime.Today(time);
        var due = new List<string>();
        if (TimeOnly.FromDateTime(ShanghaiTime.FromUtc(now.UtcDateTime).DateTime) >= rules.RemindFrom)
        {
            if (rules.ReminderDaysOrDefault.Contains(today.ToString("MM-dd", System.Globalization.CultureInfo.InvariantCulture)))
            {
                due.Add(BehindSchedule);
            }

            if (rules.RegistrationDeadline is { } deadline && rules.RegistrationRemindDaysBeforeOrDefault.Contains(deadline.DayNumber - today.DayNumber))
            {
                due.Add(BeforeRegistration);
            }
        }

        if (due.Count == 0)
        {
            return new ReminderPass(today, 0, 0);
        }

        var schools = corps.All.Where(c => c.Kind == CorpKind.School).Select(c => c.CorpId).ToList();
        var everyone = await standings.OfSchoolsAsync(schools, rules, ct);
        var counts = new Dictionary<string, int>();
        foreach (var kind in due)
        {
            var meant = everyone.Where(t => kind == BehindSchedule ? IsBehind(t.Compliance, today.Year, rules) : t.Compliance.Registration != RegistrationOutcome.Pass);
            var sent = 0;
            foreach (var school in meant.GroupBy(t => t.CorpId))
            {
                var claimed = new List<PersonStanding>();
                foreach (var teacher in school)
                {
                    if (await TryClaimAsync(today, kind, teacher.CorpId, teacher.UserId, ct))
                    {
                        claimed.Add(teacher);
                    }
                }

                if (claimed.Count > 0)
                {
                    await notices.SendAsync(Message(kind, school.Key, claimed, rules), ct);
                    sent += claimed.Count;
                }
            }

            counts[kind] = sent;
        }

        return new ReminderPass(today, counts.GetValueOrDefault(BehindSchedule), counts.GetValueOrDefault(BeforeRegistration));
    }

    /// <summary>
    /// Behind schedule: this year's credits under the yearly minimum, or the cycle's total under its share of the cycle
    /// minimum for the years before this one. Only for a teacher whose cycle includes this year.
    /// </summary>
    public static bool IsBehind(CycleCompliance c, int year, TrainingOptions rules) =>
        year >= c.CycleStart && year <= c.CycleEnd &&
        (c.Years.Any(y => y.Year == year && !y.MeetsMinimum) || c.Total < rules.CycleMinimum * (year - c.CycleStart) / rules.CycleYears);

    private SystemNotice Message(string kind, string corpId, IReadOnlyList<PersonStanding> teachers, TrainingOptions rules)
    {
        var (title, body) = kind == BehindSchedule
            ? ("培训学分进度提醒",
                $"您本周期的培训学分进度落后（每年至少 {rules.YearMinimum:0.##} 学分，五年周期至少 {rules.CycleMinimum:0.##} 学分）。请在“我的培训学分”中查看差距，及时参加培训并申报学分。")
            : ("教师资格定期注册提醒",
                $"教师资格定期注册将于 {rules.RegistrationDeadline:yyyy年M月d日} 截止。按目前的记录，您的注册结果将为暂缓或不合格，请在“我的培训学分”中查看原因并尽快补齐。");
        return new SystemNotice($"training-{kind}", corpId, corps.Find(corpId)?.Name ?? corpId, title, body, null,
            teachers.Select(t => new NoticeRecipient(t.CorpId, t.UserId, null, t.Name, "staff", null, $"training reminder: {kind}")).ToList());
    }

    private async Task<bool> TryClaimAsync(DateOnly day, string kind, string corpId, string userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO training_reminders (reminder_on, kind, corp_id, user_id, sent_at) VALUES (@day, @kind, @corpId, @userId, @now)
                """, new { day, kind, corpId, userId, now = time.UtcNowForDatabase() }, cancellationToken: ct));
            return true;
        }
        catch (DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            return false;
        }
    }
}

/// <summary>The training reminders (<see cref="TrainingReminders.RunAsync"/>) on every instance; claims keep each message single.</summary>
internal sealed class TrainingWorker(IServiceScopeFactory scopes, IOptions<TrainingOptions> options, TimeProvider time, ILogger<TrainingWorker> log)
    : PeriodicWorker(scopes, time, log)
{
    protected override bool Enabled => options.Value.RunWorker;

    protected override TimeSpan Interval => options.Value.ReminderInterval;

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken ct)
    {
        await services.GetRequiredService<TrainingReminders>().RunAsync(ct);

        // The day's first city report recomputes every kept standing (seconds for a city): done here, not by a person waiting.
        await services.GetRequiredService<TrainingReports>().KeepCityCurrentAsync(ct);
    }
}
