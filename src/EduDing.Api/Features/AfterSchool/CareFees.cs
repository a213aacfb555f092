namespace EduDing.Api.Features.AfterSchool;

/// <summary>
/// Fees by actual sessions (docs/after-school.md), pure: the sessions a child had in a period follow the calendar (a
/// cancelled day is no session, a 调休 make-up day is one) and the weekdays the family chose, from the application until a
/// withdrawal. Per-session and per-day fees are charged per session; per-term and per-month fees in full, or pro rata to
/// the sessions had when the child joined or left within the period (AfterSchool:ProRataFees); an exemption category
/// waives its configured share.
/// </summary>
internal static class CareFees
{
    /// <summary>The session days of the program in [from, to] on the child's chosen weekdays.</summary>
    public static int Sessions(CareProgram program, IReadOnlySet<int> sessionWeekdays, SchoolCalendar calendar, IReadOnlySet<int> chosen,
        DateOnly from, DateOnly to)
    {
        var count = 0;
        for (var day = Max(from, program.StartsOn); day <= Min(to, program.EndsOn); day = day.AddDays(1))
        {
            int? weekday = program.Kind == CareProgramKind.Term ? calendar.TimetableWeekday(day)
                : calendar.IsCancelled(day) ? null : SchoolCalendar.Weekday(day);
            if (weekday is { } w && sessionWeekdays.Contains(w) && chosen.Contains(w))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// The amount due in cents: <paramref name="had"/> sessions of the <paramref name="full"/> the period holds for the
    /// child's weekdays, less the exempt percentage.
    /// </summary>
    public static long Due(string unit, int feeCents, int had, int full, bool proRata, int exemptPercent)
    {
        decimal gross = unit switch
        {
            "session" or "day" => (decimal)feeCents * had,
            _ when full == 0 || had == 0 => 0m,
            _ when proRata => (decimal)feeCents * had / full,
            _ => feeCents,
        };
        return (long)Math.Round(gross * (100 - Math.Clamp(exemptPercent, 0, 100)) / 100m, MidpointRounding.AwayFromZero);
    }

    private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;

    private static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;
}
