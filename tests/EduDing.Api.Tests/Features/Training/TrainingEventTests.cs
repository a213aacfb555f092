using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Tests.Features.Org;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.Api.Tests.Features.Training;

/// <summary>
/// A city training: teachers enrol and their school decides; sign-in only with the session's code and within its
/// window; the bureau records results in bulk, which give (or take back) the credits; a certificate's code verifies for
/// anyone, a forged one does not.
/// </summary>
public sealed class TrainingEventTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private LiveOrg Live => fixture.Live;

    private async Task<HttpClient> AsAsync(string corpId, string userId) => Live.Client(await Live.SignInAsync(corpId, userId));

    [Fact]
    public async Task Enrolment_SignIn_Results_Credits_AndCertificates_FollowTheRules()
    {
        var world = Live.Sandbox.World;
        var bureau = await AsAsync(world.Bureau.CorpId, world.Bureau.Users.Values.First(u => u.Admin).UserId);
        var school = world.Schools.First();
        var admin = await AsAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId);
        var teacherIds = school.Users.Values.Where(u => !u.Admin && u.Title != "主任").Select(u => u.UserId).Take(3).ToList();
        var teachers = new List<HttpClient>();
        foreach (var teacherId in teacherIds)
        {
            teachers.Add(await AsAsync(school.CorpId, teacherId));
        }

        var now = DateTime.UtcNow;
        var created = await bureau.PostAsJsonAsync("/api/trainings", new
        {
            corpId = world.Bureau.CorpId, title = "海宁市新课标专题培训", domain = 2, level = "intermediate", credits = 8, capacity = 2,
            sessions = new[]
            {
                new { startsAt = now.AddHours(-1), endsAt = now.AddHours(1), place = "海宁市教师发展中心" },
                new { startsAt = now.AddDays(1), endsAt = now.AddDays(1).AddHours(3), place = "海宁市教师发展中心" },
                new { startsAt = now.AddDays(-1), endsAt = now.AddDays(-1).AddHours(3), place = "海宁市教师发展中心" },
            },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var training = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var id = (long)training["training"]!["id"]!;
        var sessions = training["sessions"]!.AsArray().Select(s => ((long)s!["id"]!, s["signInCode"]!.ToString(), (DateTime)s["startsAt"]!)).ToList();
        // In time order: yesterday's, the one running now, tomorrow's.
        var (past, open, later) = (sessions[0], sessions[1], sessions[2]);
        Assert.All(sessions, s => Assert.Equal(32, s.Item2.Length));
        Assert.Equal(HttpStatusCode.Forbidden, (await teachers[0].PostAsJsonAsync("/api/trainings", new { corpId = school.CorpId })).StatusCode);

        // Enrolment: the teacher's school decides; trainees see no sign-in codes.
        var enrolled = await teachers[0].PostAsJsonAsync($"/api/trainings/{id}/enrol", new { corpId = school.CorpId });
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        var request = (long)(await enrolled.Content.ReadFromJsonAsync<JsonObject>())!["approvalRequestId"]!;
        string SignInPath((long Id, string Code, DateTime) s) => $"/api/trainings/{id}/sessions/{s.Id}/sign-in";
        Assert.Equal(HttpStatusCode.Forbidden, (await teachers[0].PostAsJsonAsync(SignInPath(open), new { code = open.Item2 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/approvals/{request}/approve", new { comment = "已安排代课" })).StatusCode);
        Assert.All((await teachers[0].GetFromJsonAsync<JsonObject>($"/api/trainings/{id}"))!["sessions"]!.AsArray(),
            s => Assert.Equal("", s!["signInCode"]!.ToString()));

        // Sign-in: the right code within the window only; twice keeps the first.
        Assert.Equal(HttpStatusCode.BadRequest, (await teachers[0].PostAsJsonAsync(SignInPath(open), new { code = "0000" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await teachers[0].PostAsJsonAsync(SignInPath(open), new { code = later.Item2 })).StatusCode);
        var signed = await teachers[0].PostAsJsonAsync(SignInPath(open), new { code = open.Item2 });
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        var again = await teachers[0].PostAsJsonAsync(SignInPath(open), new { code = open.Item2 });
        Assert.Equal((await signed.Content.ReadFromJsonAsync<JsonObject>())!["signedAt"]!.ToString(),
            (await again.Content.ReadFromJsonAsync<JsonObject>())!["signedAt"]!.ToString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await teachers[0].PostAsJsonAsync(SignInPath(later), new { code = later.Item2 })).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await teachers[0].PostAsJsonAsync(SignInPath(past), new { code = past.Item2 })).StatusCode);

        // Two places: the third teacher is refused; the second is approved and fails.
        var second = await teachers[1].PostAsJsonAsync($"/api/trainings/{id}/enrol", new { corpId = school.CorpId });
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await teachers[2].PostAsJsonAsync($"/api/trainings/{id}/enrol", new { corpId = school.CorpId })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await teachers[0].PostAsJsonAsync($"/api/trainings/{id}/enrol", new { corpId = school.CorpId })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync(
            $"/api/approvals/{(long)(await second.Content.ReadFromJsonAsync<JsonObject>())!["approvalRequestId"]!}/approve", new { })).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PutAsJsonAsync($"/api/trainings/{id}/results",
            new { results = new[] { new { corpId = school.CorpId, userId = teacherIds[0], result = "pass" } } })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await bureau.PutAsJsonAsync($"/api/trainings/{id}/results",
            new { results = new[] { new { corpId = school.CorpId, userId = teacherIds[2], result = "pass" } } })).StatusCode);
        var results = await bureau.PutAsJsonAsync($"/api/trainings/{id}/results", new
        {
            results = new[]
            {
                new { corpId = school.CorpId, userId = teacherIds[0], result = "excellent" },
                new { corpId = school.CorpId, userId = teacherIds[1], result = "fail" },
            },
        });
        Assert.Equal(HttpStatusCode.OK, results.StatusCode);
        var trainees = (await results.Content.ReadFromJsonAsync<JsonArray>())!;
        var code = trainees.Single(t => t!["userId"]!.ToString() == teacherIds[0])!["certificateCode"]!.ToString();
        Assert.Null(trainees.Single(t => t!["userId"]!.ToString() == teacherIds[1])!["certificateCode"]);
        decimal TotalOf(JsonObject record) => (decimal)record["compliance"]!["total"]!;
        Assert.Equal(8m, TotalOf((await teachers[0].GetFromJsonAsync<JsonObject>("/api/me/training"))!));
        Assert.Equal(0m, TotalOf((await teachers[1].GetFromJsonAsync<JsonObject>("/api/me/training"))!));

        // Anyone checks the certificate; a forged code is not found.
        var anonymous = Live.Client(null);
        var certificate = await anonymous.GetFromJsonAsync<JsonObject>($"/api/certificates/{code}");
        Assert.Equal("海宁市新课标专题培训", certificate!["title"]!.ToString());
        Assert.Equal(8m, (decimal)certificate["credits"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/certificates/{code[..^1]}{(code[^1] == '0' ? '1' : '0')}")).StatusCode);

        // Corrected to 不合格: the credits and the certificate are taken back.
        Assert.Equal(HttpStatusCode.OK, (await bureau.PutAsJsonAsync($"/api/trainings/{id}/results",
            new { results = new[] { new { corpId = school.CorpId, userId = teacherIds[0], result = "fail" } } })).StatusCode);
        Assert.Equal(0m, TotalOf((await teachers[0].GetFromJsonAsync<JsonObject>("/api/me/training"))!));
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/certificates/{code}")).StatusCode);
    }

    [Fact]
    public async Task CityTrainingWithQuotas_EachSchoolTakesOnlyItsOwnPlaces()
    {
        var world = Live.Sandbox.World;
        var bureau = await AsAsync(world.Bureau.CorpId, world.Bureau.Users.Values.First(u => u.Admin).UserId);
        var schools = world.Schools.Take(3).ToList();
        var (first, second, third) = (schools[0], schools[1], schools[2]);
        var now = DateTime.UtcNow;
        object Training(object quotas, int capacity = 10) => new
        {
            corpId = world.Bureau.CorpId, title = "骨干教师分配名额培训", domain = 3, level = "advanced", credits = 12, capacity, quotas,
            sessions = new[] { new { startsAt = now.AddDays(3), endsAt = now.AddDays(3).AddHours(4), place = "嘉兴" } },
        };

        // Quotas name served schools, each at least 1, together within the capacity.
        foreach (var bad in new[] { Training(new Dictionary<string, int> { ["nobody"] = 1 }), Training(new Dictionary<string, int> { [first.CorpId] = 0 }),
                     Training(new Dictionary<string, int> { [first.CorpId] = 6, [second.CorpId] = 5 }) })
        {
            var refused = await bureau.PostAsJsonAsync("/api/trainings", bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True((await refused.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().ContainsKey("quotas"));
        }

        var created = await bureau.PostAsJsonAsync("/api/trainings", Training(new Dictionary<string, int> { [first.CorpId] = 1, [second.CorpId] = 2 }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var view = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var id = (long)view["training"]!["id"]!;
        Assert.Equal(2, (int)view["quotas"]![second.CorpId]!);

        async Task<HttpStatusCode> EnrolAsync(SandboxCorp school, int nth)
        {
            var teacher = school.Users.Values.Where(u => !u.Admin && u.Title != "主任").Skip(nth).First().UserId;
            return (await (await AsAsync(school.CorpId, teacher)).PostAsJsonAsync($"/api/trainings/{id}/enrol", new { corpId = school.CorpId })).StatusCode;
        }

        Assert.Equal(HttpStatusCode.Created, await EnrolAsync(first, 0));
        Assert.Equal(HttpStatusCode.Conflict, await EnrolAsync(first, 1));
        Assert.Equal(HttpStatusCode.Created, await EnrolAsync(second, 0));
        Assert.Equal(HttpStatusCode.Created, await EnrolAsync(second, 1));
        Assert.Equal(HttpStatusCode.Conflict, await EnrolAsync(second, 2));
        Assert.Equal(HttpStatusCode.Conflict, await EnrolAsync(third, 0));
    }
}
