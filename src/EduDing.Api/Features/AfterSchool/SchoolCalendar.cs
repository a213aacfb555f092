using System.ComponentModel;
namespace EduDing.Api.Features.AfterSchool;

/// <summary>What a day is in a school's calendar. Only days that differ from "Monday to Friday is a school day" are stored.</summary>
internal static class CalendarDayKind
{
    /// <summary>A school day (stored only to carry a seasonal end time).</summary>
    [Description("上课日")]
    public const string SchoolDay = "school-day";

    /// <summary>No school: a public holiday, a term break.</summary>
    [Description("放假")]
    public const string Holiday = "holiday";

    /// <summary>调休: a weekend day that is a school day, following the timetable of <c>followsWeekday</c>.</summary>
    [Description("调休上课")]
    public const string MakeUp = "make-up";

    /// <summary>A school day cancelled (weather, exams): no after-school session, no roll, no fee.</summary>
    [Description("停课")]
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [SchoolDay, Holiday, MakeUp, Cancelled];
}

/// <summary>A stored calendar day: its kind, the weekday a make-up day follows, and a seasonal end time for that day.</summary>
internal sealed record CalendarDay(string CorpId, DateOnly Day, string Kind, int? FollowsWeekday, string? EndsAt, string? Note);

/// <summary>
/// A school's calendar over a range (docs/after-school.md): Monday to Friday are school days unless stored otherwise;
/// a 调休 make-up day is a school day on the weekend with the timetable of the weekday it follows.
/// </summary>
internal sealed class SchoolCalendar(IReadOnlyDictionary<DateOnly, CalendarDay> days)
{
    public static SchoolCalendar Of(IEnumerable<CalendarDay> days) => new(days.ToDictionary(d => d.Day));

    /// <summary>The timetable weekday (1 = Monday … 5 = Friday) a day follows when it is a school day; null when there is no school.</summary>
    public int? TimetableWeekday(DateOnly day)
    {
        if (days.TryGetValue(day, out var stored))
        {
            return stored.Kind switch
            {
                CalendarDayKind.Holiday or CalendarDayKind.Cancelled => null,
                CalendarDayKind.MakeUp => stored.FollowsWeekday ?? Weekday(day),
                _ => Weekday(day) is var w and <= 5 ? w : null,
            };
        }

        return Weekday(day) is var weekday and <= 5 ? weekday : null;
    }

    /// <summary>Whether the day is stored as cancelled (weather, exams).</summary>
    public bool IsCancelled(DateOnly day) => days.TryGetValue(day, out var stored) && stored.Kind == CalendarDayKind.Cancelled;

    /// <summary>A seasonal end time set for the day, if any.</summary>
    public TimeOnly? EndsAt(DateOnly day) =>
        days.TryGetValue(day, out var stored) && stored.EndsAt is { } end && TimeOnly.TryParse(end, out var time) ? time : null;

    /// <summary>The school days in a range, each with the timetable weekday it follows.</summary>
    public IEnumerable<(DateOnly Day, int Weekday)> SchoolDays(DateOnly from, DateOnly to)
    {
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            if (TimetableWeekday(day) is { } weekday)
            {
                yield return (day, weekday);
            }
        }
    }

    /// <summary>ISO weekday: 1 = Monday … 7 = Sunday.</summary>
    public static int Weekday(DateOnly day) => day.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)day.DayOfWeek;
}
