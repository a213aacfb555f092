namespace EduDing.Api.Features.AfterSchool;

/// <summary>One day a program breaks "5+2": which rule, and what the day has.</summary>
internal sealed record ComplianceViolation(DateOnly Day, string Rule, string Detail);

/// <summary>
/// The "5+2" check of a term program (docs/after-school.md): a session on every school day of the term (by the
/// school's calendar, 调休 make-up days included, holidays and cancelled days not), of at least
/// AfterSchool:MinimumDailyHours, ending no earlier than the local off-work time for that date. Holiday programs run on
/// the dates they list and are checked for none of this. Pure: the calendar and the settings come in.
/// </summary>
internal static class CareCompliance
{
    public const string NoSession = "no-session";
    public const string TooShort = "too-short";
    public const string EndsBeforeOffWork = "ends-before-off-work";

    public static IReadOnlyList<ComplianceViolation> Check(CareProgram program, IReadOnlyList<CareSession> sessions, SchoolCalendar calendar,
        AfterSchoolOptions options)
    {
        if (program.Kind != CareProgramKind.Term)
        {
            return [];
        }

        var byWeekday = sessions.ToDictionary(s => s.Weekday);
        var violations = new List<ComplianceViolation>();
        foreach (var (day, weekday) in calendar.SchoolDays(program.StartsOn, program.EndsOn))
        {
            if (!byWeekday.TryGetValue(weekday, out var session))
            {
                violations.Add(new ComplianceViolation(day, NoSession, $"no session on this school day (timetable of weekday {weekday})"));
                continue;
            }

            var start = TimeOnly.Parse(session.StartsAt, System.Globalization.CultureInfo.InvariantCulture);
            var end = calendar.EndsAt(day) ?? TimeOnly.Parse(session.EndsAt, System.Globalization.CultureInfo.InvariantCulture);
            var hours = (decimal)(end - start).TotalHours;
            if (end <= start || hours < options.MinimumDailyHours)
            {
                violations.Add(new ComplianceViolation(day, TooShort,
                    $"{start:HH\\:mm}–{end:HH\\:mm} is {Math.Max(0, hours):0.##} h; at least {options.MinimumDailyHours:0.##} h a day"));
            }

            var offWork = options.OffWorkTimeOn(day);
            if (end < offWork)
            {
                violations.Add(new ComplianceViolation(day, EndsBeforeOffWork,
                    $"ends {end:HH\\:mm}, before the local off-work time {offWork:HH\\:mm}"));
            }
        }

        return violations;
    }
}
