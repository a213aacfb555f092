using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.AfterSchool;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Features.Org;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.AfterSchool;

/// <summary>
/// The daily loop: leave reported ahead, the roll, a delegate collector, an unlisted collector with a reason, and the
/// two alerts (absent without leave → the family; present without handover by the end plus grace → the staff), each
/// exactly once and only for the right children.
/// </summary>
public sealed class CareDailyTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private LiveOrg Live => fixture.Live;

    private async Task<HttpClient> AsAsync(string corpId, string userId) => Live.Client(await Live.SignInAsync(corpId, userId));

    [Fact]
    public async Task Roll_Leave_Handover_AndTheAlerts_ReachExactlyTheRightPeopleOnce()
    {
        var school = Live.Sandbox.World.Schools.Skip(1).First();
        var adminId = school.Users.Values.First(u => u.Admin).UserId;
        var admin = await AsAsync(school.CorpId, adminId);
        var (classId, roster) = school.Classes.First(c => c.Value.Teachers.Any(t => t.IsAdviser) &&
                                                          c.Value.Relations.Select(r => r.StudentUserId).Distinct().Count() >= 3);
        var grade = (int)(await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/classes"))!
            .First(c => (long)c!["classId"]! == classId)!["gradeLevel"]!;
        var today = ShanghaiTime.Today(TimeProvider.System);

        // A holiday program (its own dates, every day of the week) running this week.
        var created = (await (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", new
        {
            name = "暑期托管", kind = "holiday", startsOn = today, endsOn = today.AddDays(6), signupOpensAt = DateTime.UtcNow.AddHours(-1),
            signupClosesAt = DateTime.UtcNow.AddDays(1), gradeLevels = new[] { grade }, terms = "条款", feeUnit = "day",
            sessions = Enumerable.Range(1, 7).Select(d => new { weekday = d, startsAt = "15:30", endsAt = "17:30" }).ToArray(),
            offerings = new[] { new { kind = "basic", name = "基础托管", contentType = "homework", capacity = 40 } },
        })).Content.ReadFromJsonAsync<JsonObject>())!;
        var programId = (long)created["id"]!;
        var group = (long)created["offerings"]![0]!["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/open", null)).StatusCode);

        var families = roster.Relations.GroupBy(r => r.StudentUserId).Take(3).Select(g => (Student: g.Key, Guardian: g.First().GuardianUserId)).ToList();
        var clients = new List<HttpClient>();
        var applications = new List<long>();
        var requests = new List<long>();
        foreach (var (student, guardianId) in families)
        {
            var guardian = await AsAsync(school.CorpId, guardianId);
            var application = (await (await guardian.PostAsJsonAsync("/api/me/care/applications", new
            {
                programId, corpId = school.CorpId, studentUserId = student, offeringIds = new[] { group }, weekdays = Enumerable.Range(1, 7).ToArray(),
                pickup = new[] { new { name = "张妈妈", relation = "母亲", phone = "13900000000" } }, termsVersion = 1,
            })).Content.ReadFromJsonAsync<JsonObject>())!;
            clients.Add(guardian);
            applications.Add((long)application["id"]!);
            requests.Add((long)application["approvalRequestId"]!);
        }

        var adviser = await AsAsync(school.CorpId, roster.Teachers.First(t => t.IsAdviser).UserId);
        foreach (var id in requests)
        {
            (await adviser.PostAsJsonAsync($"/api/approvals/{id}/approve", new { })).EnsureSuccessStatusCode();
        }

        (await admin.PostAsJsonAsync("/api/approvals/bulk-approve", new { ids = requests })).EnsureSuccessStatusCode();
        var (a, b, c) = (applications[0], applications[1], applications[2]);

        // The third family reports leave ahead; the first sends a delegate today.
        Assert.Equal(HttpStatusCode.Created, (await clients[2].PostAsJsonAsync($"/api/me/care/applications/{c}/leaves",
            new { from = today, to = today, reason = "看牙医" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await clients[2].PostAsJsonAsync($"/api/me/care/applications/{c}/leaves",
            new { from = today.AddDays(-1), to = today, reason = "补请" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await clients[0].PutAsJsonAsync($"/api/me/care/applications/{a}/delegates/{today:yyyy-MM-dd}",
            new { name = "李叔叔", relation = "邻居", phone = "13700000000" })).StatusCode);

        var roll = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/care-groups/{group}/roll/{today:yyyy-MM-dd}"))!;
        Assert.Equal(applications.Order(), roll.Select(r => (long)r!["applicationId"]!).Order());
        Assert.True((bool)roll.First(r => (long)r!["applicationId"]! == c)!["onLeave"]!);
        var marked = await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/care-groups/{group}/roll/{today:yyyy-MM-dd}", new
        {
            entries = new[] { new { applicationId = a, status = "present" }, new { applicationId = b, status = "absent" }, new { applicationId = c, status = "absent" } },
        });
        Assert.Equal(HttpStatusCode.OK, marked.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsJsonAsync($"/api/corps/{school.CorpId}/care-groups/{group}/roll/{today:yyyy-MM-dd}",
            new { entries = new[] { new { applicationId = 999999L, status = "present" } } })).StatusCode);

        var daily = Live.Factory.Services.GetRequiredService<CareDaily>();
        DateTime At(int hour, int minute) => today.ToDateTime(new TimeOnly(hour, minute), DateTimeKind.Utc) - ShanghaiTime.Offset;
        Assert.Equal((1, 0), await daily.RunAlertsAsync(At(17, 40), default));
        Assert.Equal((0, 1), await daily.RunAlertsAsync(At(17, 50), default));
        Assert.Equal((0, 0), await daily.RunAlertsAsync(At(18, 30), default));

        // An unlisted collector needs a reason and is flagged; the delegate counts as listed.
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-groups/{group}/handovers/{today:yyyy-MM-dd}",
            new { applicationId = a, collectedBy = "王某", relation = "朋友" })).StatusCode);
        var flagged = (await (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-groups/{group}/handovers/{today:yyyy-MM-dd}",
            new { applicationId = a, collectedBy = "王某", relation = "朋友", reason = "家长电话确认" })).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False((bool)flagged["listed"]!);
        var listed = (await (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-groups/{group}/handovers/{today:yyyy-MM-dd}",
            new { applicationId = a, collectedBy = "李叔叔", relation = "邻居" })).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True((bool)listed["listed"]!);

        async Task<bool> NotifiedAsync(HttpClient client, string title)
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            do
            {
                var items = (await client.GetFromJsonAsync<JsonObject>("/api/me/notices"))!["items"]!.AsArray();
                if (items.Any(n => n!["title"]!.ToString() == title))
                {
                    return true;
                }

                await Task.Delay(100);
            }
            while (DateTime.UtcNow < deadline);
            return false;
        }

        Assert.True(await NotifiedAsync(clients[1], "课后服务缺勤提醒"));
        Assert.True(await NotifiedAsync(admin, "课后服务接送提醒"));
        Assert.DoesNotContain((await clients[2].GetFromJsonAsync<JsonObject>("/api/me/notices"))!["items"]!.AsArray(),
            n => n!["title"]!.ToString() == "课后服务缺勤提醒");
        Assert.DoesNotContain((await clients[0].GetFromJsonAsync<JsonObject>("/api/me/notices"))!["items"]!.AsArray(),
            n => n!["title"]!.ToString() == "课后服务缺勤提醒");

        // The end-of-term survey: one answer per child and group, results for the school's admins.
        Assert.Equal(HttpStatusCode.NoContent, (await clients[0].PostAsJsonAsync($"/api/me/care/applications/{a}/survey",
            new { offeringId = group, rating = 5, comment = "老师很负责" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await clients[1].PostAsJsonAsync($"/api/me/care/applications/{b}/survey",
            new { offeringId = group, rating = 4 })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await clients[0].PostAsJsonAsync($"/api/me/care/applications/{a}/survey",
            new { offeringId = group, rating = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await clients[2].PostAsJsonAsync($"/api/me/care/applications/{c}/survey",
            new { offeringId = group, rating = 9 })).StatusCode);
        var results = (await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/care-programs/{programId}/survey"))!;
        Assert.Equal(2, (int)results[0]!["answers"]!);
        Assert.Equal(4.5m, (decimal)results[0]!["averageRating"]!);
        Assert.Equal(["老师很负责"], results[0]!["comments"]!.AsArray().Select(x => x!.ToString()));
    }

    [Fact]
    public async Task AfterTheDay_AMarkChangesOnlyThroughACorrectionTheSchoolApproves_WithinTheConfiguredDays()
    {
        var school = Live.Sandbox.World.Schools.Skip(2).First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var (classId, roster) = school.Classes.First(c => c.Value.Teachers.Any(t => t.IsAdviser) && c.Value.Relations.Count > 0);
        var adviserId = roster.Teachers.First(t => t.IsAdviser).UserId;
        var grade = (int)(await admin.GetFromJsonAsync<JsonArray>($"/api/corps/{school.CorpId}/classes"))!
            .First(c => (long)c!["classId"]! == classId)!["gradeLevel"]!;
        var today = ShanghaiTime.Today(TimeProvider.System);
        var created = (await (await admin.PostAsJsonAsync($"/api/corps/{school.CorpId}/care-programs", new
        {
            name = "春假托管", kind = "holiday", startsOn = today.AddDays(-6), endsOn = today.AddDays(6), signupOpensAt = DateTime.UtcNow.AddDays(-10),
            signupClosesAt = DateTime.UtcNow.AddDays(1), gradeLevels = new[] { grade }, terms = "条款", feeUnit = "day",
            sessions = Enumerable.Range(1, 7).Select(d => new { weekday = d, startsAt = "15:30", endsAt = "17:30" }).ToArray(),
            offerings = new[] { new { kind = "basic", name = "基础托管", contentType = "homework", capacity = 40, teacherUserId = adviserId } },
        })).Content.ReadFromJsonAsync<JsonObject>())!;
        var programId = (long)created["id"]!;
        var group = (long)created["offerings"]![0]!["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/corps/{school.CorpId}/care-programs/{programId}/open", null)).StatusCode);
        var relation = roster.Relations[0];
        var guardian = await AsAsync(school.CorpId, relation.GuardianUserId);
        var application = (await (await guardian.PostAsJsonAsync("/api/me/care/applications", new
        {
            programId, corpId = school.CorpId, studentUserId = relation.StudentUserId, offeringIds = new[] { group },
            weekdays = Enumerable.Range(1, 7).ToArray(), pickup = new[] { new { name = "张妈妈", relation = "母亲", phone = "13900000000" } },
            termsVersion = 1,
        })).Content.ReadFromJsonAsync<JsonObject>())!;
        var applicationId = (long)application["id"]!;
        var teacher = await AsAsync(school.CorpId, adviserId);
        (await teacher.PostAsJsonAsync($"/api/approvals/{(long)application["approvalRequestId"]!}/approve", new { })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/api/approvals/{(long)application["approvalRequestId"]!}/approve", new { })).EnsureSuccessStatusCode();

        var twoDaysAgo = today.AddDays(-2);
        string Roll(DateOnly day) => $"/api/corps/{school.CorpId}/care-groups/{group}/roll/{day:yyyy-MM-dd}";
        // A late entry (补签) two days on is allowed; changing it afterwards is not.
        Assert.Equal(HttpStatusCode.OK, (await teacher.PutAsJsonAsync(Roll(twoDaysAgo),
            new { entries = new[] { new { applicationId, status = "absent" } } })).StatusCode);
        var changed = await teacher.PutAsJsonAsync(Roll(twoDaysAgo), new { entries = new[] { new { applicationId, status = "present" } } });
        Assert.Equal(HttpStatusCode.BadRequest, changed.StatusCode);
        Assert.Contains("corrections", (await changed.Content.ReadAsStringAsync()));

        // Nothing marked, too old, today: not corrections.
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await teacher.PostAsJsonAsync($"{Roll(today.AddDays(-1))}/corrections",
            new { applicationId, status = "present", reason = "漏记" })).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await teacher.PostAsJsonAsync($"{Roll(today.AddDays(-5))}/corrections",
            new { applicationId, status = "present", reason = "漏记" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await teacher.PostAsJsonAsync($"{Roll(today)}/corrections",
            new { applicationId, status = "present", reason = "漏记" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await teacher.PostAsJsonAsync($"{Roll(twoDaysAgo)}/corrections",
            new { applicationId, status = "present" })).StatusCode);
        // The family cannot ask for one.
        Assert.Equal(HttpStatusCode.Forbidden, (await guardian.PostAsJsonAsync($"{Roll(twoDaysAgo)}/corrections",
            new { applicationId, status = "present", reason = "孩子到了" })).StatusCode);

        var requested = await teacher.PostAsJsonAsync($"{Roll(twoDaysAgo)}/corrections", new { applicationId, status = "present", reason = "家长接送时发现漏签" });
        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        var requestId = (long)(await requested.Content.ReadFromJsonAsync<JsonObject>())!["approvalRequestId"]!;
        Assert.Equal(HttpStatusCode.Conflict, (await teacher.PostAsJsonAsync($"{Roll(twoDaysAgo)}/corrections",
            new { applicationId, status = "late", reason = "再改" })).StatusCode);
        string MarkOn(JsonArray roll) => roll.First(r => (long)r!["applicationId"]! == applicationId)!["status"]!.ToString();
        Assert.Equal("absent", MarkOn((await teacher.GetFromJsonAsync<JsonArray>(Roll(twoDaysAgo)))!));

        // The school's admin approves: the new mark is on the roll, as a late entry; the request and the outcome are audited.
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/approvals/{requestId}/approve", new { })).StatusCode);
        var after = (await teacher.GetFromJsonAsync<JsonArray>(Roll(twoDaysAgo)))!;
        Assert.Equal("present", MarkOn(after));
        Assert.True((bool)after.First(r => (long)r!["applicationId"]! == applicationId)!["lateEntry"]!);
        var audit = (await admin.GetFromJsonAsync<JsonObject>($"/api/audit?corpId={school.CorpId}"))!.ToJsonString();
        Assert.Contains("care.roll.correction.request", audit);
        Assert.Contains("approval.approve", audit);
    }
}
