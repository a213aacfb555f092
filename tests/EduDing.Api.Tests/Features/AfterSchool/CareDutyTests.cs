using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Features.Org;

namespace EduDing.Api.Tests.Features.AfterSchool;

/// <summary>Teachers' duty: the group's teacher signs in once, a cover named by the admin signs in instead, hours per teacher add up.</summary>
public sealed class CareDutyTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    [Fact]
    public async Task TheTeacherAndTheDaysCover_SignIn_AndTheHoursAddUp()
    {
        var live = fixture.Live;
        var school = live.Sandbox.World.Schools.Skip(3).First();
        var admin = live.Client(await live.SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId));
        var staff = school.Users.Values.Where(u => !u.Admin && u.Title != "主任").OrderBy(u => u.UserId).Take(2).ToList();
        var (teacherId, coverId) = (staff[0].UserId, staff[1].UserId);
        var today = ShanghaiTime.Today(TimeProvider.System);
        var grade = (int)(await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/classes"))![0]!["gradeLevel"]!;
        var program = (await (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", new
        {
            name = "暑期托管", kind = "holiday", startsOn = today, endsOn = today.AddDays(6), signupOpensAt = DateTime.UtcNow.AddHours(-1),
            signupClosesAt = DateTime.UtcNow.AddDays(1), gradeLevels = new[] { grade }, terms = "条款", feeUnit = "day",
            sessions = Enumerable.Range(1, 7).Select(d => new { weekday = d, startsAt = "15:30", endsAt = "17:30" }).ToArray(),
            offerings = new[] { new { kind = "basic", name = "基础托管", contentType = "homework", capacity = 40, teacherUserId = teacherId } },
        })).Content.ReadFromJsonAsync<JsonObject>())!;
        var programId = (long)program["id"]!;
        var group = (long)program["offerings"]![0]!["id"]!;
        var teacher = live.Client(await live.SignInAsync(school.CorpId, teacherId));
        var cover = live.Client(await live.SignInAsync(school.CorpId, coverId));

        var first = (await (await teacher.PostAsync($"/api/corps/{school.CorpId}/care-groups/{group}/duty", null)).Content.ReadFromJsonAsync<JsonObject>())!;
        var again = await teacher.PostAsync($"/api/corps/{school.CorpId}/care-groups/{group}/duty", null);
        var notTheirs = await cover.PostAsync($"/api/corps/{school.CorpId}/care-groups/{group}/duty", null);

        Assert.Equal("teacher", first["role"]!.ToString());
        Assert.Equal(120, (int)first["minutes"]!);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, notTheirs.StatusCode);

        // The teacher is away tomorrow: the admin names a cover, who signs in then (tested for today by naming them today).
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/care-groups/{group}/cover/{today:yyyy-MM-dd}",
            new { teacherUserId = coverId, reason = "" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/care-groups/{group}/cover/{today:yyyy-MM-dd}",
            new { teacherUserId = coverId, reason = "教研活动" })).StatusCode);
        var covered = (await (await cover.PostAsync($"/api/corps/{school.CorpId}/care-groups/{group}/duty", null)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("cover", covered["role"]!.ToString());

        var hours = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/care-programs/{programId}/hours"))!
            .ToDictionary(h => h!["teacherUserId"]!.ToString());
        Assert.Equal(1, (int)hours[teacherId]!["sessions"]!);
        Assert.Equal(2.0m, (decimal)hours[teacherId]!["hours"]!);
        Assert.Equal(1, (int)hours[coverId]!["coverSessions"]!);
        Assert.True((bool)hours[coverId]!["schoolStaff"]!);
        var xlsx = await admin.GetAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/hours.xlsx");
        Assert.Equal("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, (await teacher.GetAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/hours")).StatusCode);
    }
}
