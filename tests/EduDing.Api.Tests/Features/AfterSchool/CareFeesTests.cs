using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.AfterSchool;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Features.Org;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.AfterSchool;

/// <summary>Fees by actual sessions: the calendar and the chosen weekdays decide the sessions; units, pro rata, exemptions, payments.</summary>
public sealed class CareFeesTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private static readonly DateOnly Monday = new(2026, 9, 7);

    private static CareProgram Term(string unit) => new(1, "school", "秋季", CareProgramKind.Term, Monday, Monday.AddDays(13), DateTime.UtcNow,
        DateTime.UtcNow, "3", CareProgramStatus.Open, "t", 1, unit, null, DateTime.UtcNow, "a", DateTime.UtcNow);

    [Fact]
    public void Sessions_FollowTheCalendar_AndTheChosenWeekdays()
    {
        var calendar = SchoolCalendar.Of(
        [
            new CalendarDay("school", Monday.AddDays(2), CalendarDayKind.Cancelled, null, null, "台风"),
            new CalendarDay("school", Monday.AddDays(5), CalendarDayKind.MakeUp, 5, null, "调休"),
        ]);

        // Mon, (Wed cancelled), Fri, the make-up Saturday on Friday's timetable; then Mon, Wed, Fri.
        Assert.Equal(6, CareFees.Sessions(Term("session"), new HashSet<int> { 1, 2, 3, 4, 5 }, calendar, new HashSet<int> { 1, 3, 5 }, Monday,
            Monday.AddDays(13)));
    }

    [Fact]
    public void Due_ByUnit_ProRata_AndExemption()
    {
        Assert.Equal(9000, CareFees.Due("session", 1500, 6, 10, proRata: true, exemptPercent: 0));
        Assert.Equal(0, CareFees.Due("day", 1500, 6, 10, proRata: true, exemptPercent: 100));
        Assert.Equal(15000, CareFees.Due("month", 30000, 4, 8, proRata: true, exemptPercent: 0));
        Assert.Equal(30000, CareFees.Due("month", 30000, 4, 8, proRata: false, exemptPercent: 0));
        Assert.Equal(7500, CareFees.Due("term", 30000, 4, 8, proRata: true, exemptPercent: 50));
        Assert.Equal(0, CareFees.Due("term", 30000, 0, 8, proRata: true, exemptPercent: 0));
    }

    [Fact]
    public async Task AStatement_ChargesTheSessionsHad_RecordsThePayment_AndShowsARefundAfterWithdrawal()
    {
        var live = fixture.Live;
        var school = live.Sandbox.World.Schools.First();
        var care = live.Factory.Services.GetRequiredService<CareRepository>();
        var today = ShanghaiTime.Today(TimeProvider.System);
        var now = DateTime.UtcNow;
        var programId = await care.CreateProgramAsync(new CareProgram(0, school.CorpId, "暑期托管", CareProgramKind.Holiday, today, today.AddDays(13),
                now.AddHours(-1), now.AddDays(1), "1,2,3,4,5,6", CareProgramStatus.Open, "t", 1, "session", null, now, "admin", now),
            Enumerable.Range(1, 7).Select(d => new CareSession(0, d, "15:30", "17:30")).ToList(),
            [new CareOffering(0, 0, OfferingKind.Elective, "书法", "1,2,3,4,5,6", null, "arts", 10, 1500, AllocationMode.FirstCome, 0)], default);
        var offering = (await care.OfferingsAsync(programId, default)).Single();
        var (classId, roster) = school.Classes.First();
        var id = (await care.SubmitAsync(new CareApplication(0, programId, school.CorpId, roster.Students[0].UserId, classId, school.CorpId,
            roster.Relations[0].GuardianUserId, null, "1,2,3,4,5,6,7", "[]", null, null, 1, CareApplicationStatus.Pending, now, null),
            [offering.Id], now, default))!.Value.Id;
        await care.SettleAsync(id, [CareApplicationStatus.Pending], CareApplicationStatus.Approved, now, default);
        var admin = live.Client(await live.SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId));

        var statement = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/care-programs/{programId}/fees?period=term"))!
            .Single(s => (long)s!["applicationId"]! == id)!;
        Assert.Equal(14, (int)statement["lines"]![0]!["sessions"]!);
        Assert.Equal(21000, (long)statement["dueCents"]!);

        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/payments/{id}/term",
            new { status = "paid", amountCents = 21000, note = "财务回执 2026-001" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/payments/{id}/term",
            new { status = "owed", amountCents = 1 })).StatusCode);
        var paid = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/care-programs/{programId}/fees"))!
            .Single(s => (long)s!["applicationId"]! == id)!;
        Assert.Equal(0, (long)paid["balanceCents"]!);

        // Withdrawn today: one session had, the rest is owed back.
        await care.SettleAsync(id, [CareApplicationStatus.Approved], CareApplicationStatus.Withdrawn, now, default);
        var after = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/care-programs/{programId}/fees"))!
            .Single(s => (long)s!["applicationId"]! == id)!;
        Assert.Equal(1500, (long)after["dueCents"]!);
        Assert.Equal(-19500, (long)after["balanceCents"]!);
        var xlsx = await admin.GetAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/fees.xlsx");
        Assert.Equal(HttpStatusCode.OK, xlsx.StatusCode);
    }
}
