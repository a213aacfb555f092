using EduDing.Api.Features.AfterSchool;

namespace EduDing.Api.Tests.Features.AfterSchool;

/// <summary>"5+2" against the school calendar: the examples of the rules (docs/after-school.md) and the boundaries they imply.</summary>
public sealed class CareComplianceTests
{
    // 2026-09-07 is a Monday; the program runs two weeks.
    private static readonly DateOnly Monday = new(2026, 9, 7);

    private static CareProgram Term(string kind = CareProgramKind.Term) => new(1, "school", "秋季课后服务", kind, Monday, Monday.AddDays(13),
        DateTime.UtcNow, DateTime.UtcNow.AddDays(1), "1,2,3", CareProgramStatus.Draft, "terms", 1, "term", null, DateTime.UtcNow, "admin",
        DateTime.UtcNow);

    private static IReadOnlyList<CareSession> Weekdays(string start, string end, params int[] days) =>
        (days.Length == 0 ? [1, 2, 3, 4, 5] : days).Select(d => new CareSession(1, d, start, end)).ToList();

    private static IReadOnlyList<ComplianceViolation> Check(IReadOnlyList<CareSession> sessions, AfterSchoolOptions? options = null,
        params CalendarDay[] days) =>
        CareCompliance.Check(Term(), sessions, SchoolCalendar.Of(days), options ?? new AfterSchoolOptions());

    [Fact]
    public void MondayToFriday_TwoHours_EndingAtTheOffWorkTime_IsCompliant() =>
        Assert.Empty(Check(Weekdays("15:30", "17:30")));

    [Fact]
    public void EndingBeforeTheOffWorkTime_IsAViolationEverySchoolDay()
    {
        var violations = Check(Weekdays("15:00", "17:00"));

        Assert.Equal(10, violations.Count);
        Assert.All(violations, v => Assert.Equal(CareCompliance.EndsBeforeOffWork, v.Rule));
    }

    [Fact]
    public void ADayOfOneAndAHalfHours_IsAViolationOfThatDay()
    {
        var sessions = Weekdays("15:30", "17:30", 1, 2, 4, 5).Append(new CareSession(1, 3, "16:00", "17:30")).ToList();

        var violations = Check(sessions);

        Assert.Equal([Monday.AddDays(2), Monday.AddDays(9)], violations.Select(v => v.Day));
        Assert.All(violations, v => Assert.Equal(CareCompliance.TooShort, v.Rule));
    }

    [Fact]
    public void AMissingWeekday_IsAViolation_ButHolidaysAndCancelledDaysNeedNoSession()
    {
        var noFriday = Weekdays("15:30", "17:30", 1, 2, 3, 4);
        var fridays = new[] { Monday.AddDays(4), Monday.AddDays(11) };

        Assert.Equal(fridays, Check(noFriday).Select(v => v.Day));
        Assert.Empty(Check(noFriday, null,
            new CalendarDay("school", fridays[0], CalendarDayKind.Holiday, null, null, "国庆"),
            new CalendarDay("school", fridays[1], CalendarDayKind.Cancelled, null, null, "台风")));
    }

    [Fact]
    public void AMakeUpSaturday_IsASchoolDayOnTheTimetableOfTheWeekdayItFollows()
    {
        var saturday = Monday.AddDays(5);
        var makeUp = new CalendarDay("school", saturday, CalendarDayKind.MakeUp, 3, null, "调休");

        Assert.Empty(Check(Weekdays("15:30", "17:30"), null, makeUp));
        var noWednesday = Weekdays("15:30", "17:30", 1, 2, 4, 5);
        Assert.Contains(Check(noWednesday, null, makeUp), v => v.Day == saturday && v.Rule == CareCompliance.NoSession);
    }

    [Fact]
    public void ASeasonalEndTime_AndSeasonalOffWorkTimes_DecideEachDay()
    {
        var winter = new AfterSchoolOptions { SeasonalOffWorkTimes = new() { ["05-01"] = new TimeOnly(17, 30), ["09-14"] = new TimeOnly(17, 0) } };
        var earlyEnd = new CalendarDay("school", Monday, CalendarDayKind.SchoolDay, null, "17:00", "冬令时");

        // Until 09-13 the off-work time is 17:30; from 09-14 it is 17:00, so a 15:00–17:00 session is compliant in the second week only.
        var violations = Check(Weekdays("15:00", "17:00"), winter);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => Monday.AddDays(i)), violations.Select(v => v.Day));
        Assert.Contains(Check(Weekdays("15:30", "17:30"), null, earlyEnd), v => v.Day == Monday && v.Rule == CareCompliance.EndsBeforeOffWork);
    }

    [Fact]
    public void AHolidayProgram_RunsOnTheDatesItLists_AndIsNotHeldTo5Plus2() =>
        Assert.Empty(CareCompliance.Check(Term(CareProgramKind.Holiday), Weekdays("09:00", "10:00"), SchoolCalendar.Of([]), new AfterSchoolOptions()));
}
