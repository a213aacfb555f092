using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.AfterSchool;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Features.Org;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.AfterSchool;

/// <summary>
/// Participation and attendance over generated applications equal a computation made independently from the sandbox's
/// own world (its classes, grades and rosters) and the generated data.
/// </summary>
public sealed class CareStatisticsTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    [Fact]
    public async Task ParticipationAndAttendance_EqualAnIndependentComputation()
    {
        var live = fixture.Live;
        var school = live.Sandbox.World.Schools.Skip(2).First();
        var services = live.Factory.Services;
        var care = services.GetRequiredService<CareRepository>();
        var daily = services.GetRequiredService<CareDailyRepository>();
        var today = ShanghaiTime.Today(TimeProvider.System);
        var grades = school.Classes.Keys.Select(id => school.EduNodes[id].GradeLevel!.Value).Distinct().Order().Take(2).ToList();
        var now = DateTime.UtcNow;
        var programId = await care.CreateProgramAsync(new CareProgram(0, school.CorpId, "统计用托管", CareProgramKind.Holiday, today, today.AddDays(6),
                now.AddHours(-1), now.AddDays(1), string.Join(',', grades), CareProgramStatus.Open, "terms", 1, "day", null, now, "admin", now),
            Enumerable.Range(1, 7).Select(d => new CareSession(0, d, "15:30", "17:30")).ToList(),
            [new CareOffering(0, 0, OfferingKind.Basic, "基础托管", string.Join(',', grades), null, "homework", 500, 0, AllocationMode.FirstCome, 0)],
            default);
        var group = (await care.OfferingsAsync(programId, default)).Single().Id;

        // Generated data: about half the eligible children apply, two thirds of those are approved, some on weekdays only.
        var random = new Random(20261201);
        var eligible = school.Classes.Where(c => grades.Contains(school.EduNodes[c.Key].GradeLevel!.Value)).ToList();
        var approved = new List<(long ClassId, string Student, bool AllFive, long ApplicationId)>();
        foreach (var (classId, roster) in eligible)
        {
            foreach (var student in roster.Students.Where(_ => random.NextDouble() < 0.5))
            {
                var weekdays = random.NextDouble() < 0.3 ? "1,3,5" : "1,2,3,4,5,6,7";
                var guardian = roster.Relations.FirstOrDefault(r => r.StudentUserId == student.UserId)?.GuardianUserId ?? "nobody";
                var id = (await care.SubmitAsync(new CareApplication(0, programId, school.CorpId, student.UserId, classId, school.CorpId, guardian, null,
                    weekdays, "[]", null, null, 1, CareApplicationStatus.Pending, now, null), [group], now, default))!.Value.Id;
                if (random.NextDouble() < 0.67)
                {
                    await care.SettleAsync(id, [CareApplicationStatus.Pending], CareApplicationStatus.Approved, now, default);
                    approved.Add((classId, student.UserId, weekdays.StartsWith("1,2,3,4,5", StringComparison.Ordinal), id));
                }
            }
        }

        var statistics = services.GetRequiredService<CareStatistics>();
        var byClass = (await statistics.ParticipationAsync([school.CorpId], "class", today, default)).ToDictionary(r => r.Key);
        var byGrade = (await statistics.ParticipationAsync([school.CorpId], "grade", today, default)).ToDictionary(r => r.Key);
        var city = (await statistics.ParticipationAsync([school.CorpId], "city", today, default)).Single();

        foreach (var (classId, roster) in eligible)
        {
            var row = byClass[$"{school.CorpId}:{classId}"];
            Assert.Equal(roster.Students.Count, row.Eligible);
            Assert.Equal(approved.Count(a => a.ClassId == classId), row.Enrolled);
            Assert.Equal(approved.Count(a => a.ClassId == classId && a.AllFive), row.AllFiveDays);
        }

        foreach (var grade in grades)
        {
            var classes = eligible.Where(c => school.EduNodes[c.Key].GradeLevel == grade).Select(c => c.Key).ToHashSet();
            Assert.Equal(eligible.Where(c => classes.Contains(c.Key)).Sum(c => c.Value.Students.Count), byGrade[$"{grade}"].Eligible);
            Assert.Equal(approved.Count(a => classes.Contains(a.ClassId)), byGrade[$"{grade}"].Enrolled);
        }

        var allEligible = eligible.Sum(c => c.Value.Students.Count);
        Assert.Equal(allEligible, city.Eligible);
        Assert.Equal(approved.Count, city.Enrolled);
        Assert.Equal(Math.Round(100m * approved.Count / allEligible, 2, MidpointRounding.AwayFromZero), city.Rate);

        // Today's attendance: everyone approved who chose today's weekday is expected; mark a few of each kind.
        var weekday = SchoolCalendar.Weekday(today);
        var expected = approved.Where(a => a.AllFive || new[] { 1, 3, 5 }.Contains(weekday)).Select(a => a.ApplicationId).ToList();
        Assert.True(expected.Count >= 8, "the generated data expects at least 8 children today");
        var present = expected.Take(5).ToList();
        var absent = expected.Skip(5).Take(3).ToList();
        await daily.SaveRollAsync(group, today, present.Select(id => (id, "present")).Concat(absent.Select(id => (id, "absent"))).ToList(), false,
            "admin", now, default);
        await daily.AddLeaveAsync(absent[0], today, today, "病假", school.CorpId, "g", now, default);

        var attendance = (await statistics.AttendanceAsync([school.CorpId], today, default)).Single();
        Assert.Equal(expected.Count, attendance.Expected);
        Assert.Equal(present.Count, attendance.Present);
        Assert.Equal(1, attendance.OnLeave);
        Assert.Equal(absent.Count - 1, attendance.Absent);
        Assert.Equal(expected.Count - present.Count - absent.Count, attendance.Unmarked);

        // The bureau's city view carries the 2020 baseline.
        var bureau = live.Client(await live.SignInAsync(live.Sandbox.World.Bureau.CorpId, live.Sandbox.World.Bureau.Users.Values.First(u => u.Admin).UserId));
        var view = (await bureau.GetFromJsonAsync<JsonObject>("/api/care/statistics?by=school"))!;
        Assert.Equal(63.34m, (decimal)view["baselineRate"]!);
        Assert.Contains(view["participation"]!.AsArray(), r => r!["key"]!.ToString() == school.CorpId && (int)r["enrolled"]! == approved.Count);

        // The same figures as a workbook: participation, attendance and electives, one sheet each.
        var workbook = await bureau.GetAsync("/api/care/statistics.xlsx?by=school");
        Assert.Equal(System.Net.HttpStatusCode.OK, workbook.StatusCode);
        await using var xlsx = new MemoryStream(await workbook.Content.ReadAsByteArrayAsync());
        Assert.Equal(["参与率", "出勤", "拓展课程"], MiniExcelLibs.MiniExcel.GetSheetNames(xlsx));
        var sheet = MiniExcelLibs.MiniExcel.Query(xlsx, useHeaderRow: true, sheetName: "参与率").Cast<IDictionary<string, object>>().ToList();
        Assert.Equal(view["participation"]!.AsArray().Count, sheet.Count);
        var schoolRow = sheet.Single(r => r["编号"]?.ToString() == school.CorpId);
        Assert.Equal(approved.Count, Convert.ToInt32(schoolRow["参与人数"], System.Globalization.CultureInfo.InvariantCulture));
        var teacher = live.Client(await live.SignInAsync(school.CorpId, school.Classes.First().Value.Teachers[0].UserId));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await teacher.GetAsync("/api/care/statistics.xlsx")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await teacher.GetAsync($"/api/corps/{school.CorpId}/care/statistics.xlsx")).StatusCode);
    }
}
