using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Tests.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Identity;

/// <summary>A live service whose notice worker is off, so that nothing but requests changes what the write matrix weighs.</summary>
public sealed class QuietLiveOrgFixture : IAsyncLifetime
{
    internal LiveOrg Live { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Live = await LiveOrg.StartAsync(Api.Features.DingTalk.EventDelivery.Http,
            extraSettings: new Dictionary<string, string> { ["Notices:RunWorkers"] = "false" });
        await Live.WaitForInitialSyncAsync();
    }

    public ValueTask DisposeAsync() => Live.DisposeAsync();
}

/// <summary>
/// Every write route (POST, PUT, DELETE) called by every kind of caller, in and out of scope, with a body that would be
/// accepted from the right caller: whoever is refused (401, 403, or 404 for what they may not see) has stored nothing and sent nothing, and the callers
/// who must be refused are.
/// </summary>
public sealed class WriteAuthorizationTests(QuietLiveOrgFixture fixture) : IClassFixture<QuietLiveOrgFixture>
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));

    [Fact]
    public async Task EveryWriteRoute_AsEveryCaller_RefusalsStoreAndSendNothing()
    {
        var live = fixture.Live;
        var world = live.Sandbox.World;
        var school = world.Schools.First();
        var other = world.Schools.Skip(1).First();
        var classId = school.Classes.Keys.First();
        var roster = school.Classes[classId];
        var adviserId = roster.Teachers.First(t => t.IsAdviser).UserId;
        var advisers = school.Classes.Values.SelectMany(c => c.Teachers.Where(t => t.IsAdviser).Select(t => t.UserId)).ToHashSet();
        var subjectTeacherId = school.Classes.Values.SelectMany(c => c.Teachers).First(t => !advisers.Contains(t.UserId)).UserId;
        var child = roster.Relations[0].StudentUserId;
        var callers = new Dictionary<string, string?>
        {
            ["anonymous"] = null,
            ["guardian"] = await live.SignInAsync(school.CorpId, roster.Relations[0].GuardianUserId),
            ["subject-teacher"] = await live.SignInAsync(school.CorpId, subjectTeacherId),
            ["adviser"] = await live.SignInAsync(school.CorpId, adviserId),
            ["school-admin"] = await live.SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId),
            ["other-school-admin"] = await live.SignInAsync(other.CorpId, other.Users.Values.First(u => u.Admin).UserId),
            ["bureau-admin"] = await live.SignInAsync(world.Bureau.CorpId, world.Bureau.Users.Values.First(u => u.Admin).UserId),
            ["system-admin"] = TestTokens.SystemAdmin(),
        };

        // Things to act on: a published ad-hoc round with a referral, and a teacher's notice awaiting approval.
        var admin = live.Client(callers["school-admin"]);
        var round = await admin.PostAsJsonAsync("/api/vision/rounds",
            new { kind = "ad-hoc", schoolYear = 2026, opensOn = Today.AddDays(-1), closesOn = Today.AddDays(5), corpId = school.CorpId });
        var roundId = (long)(await round.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        object Record(decimal ucva, decimal sphere) => new
        {
            studentUserId = child, sex = "female", birthDate = Today.AddYears(-9), screenedOn = Today, glasses = "none",
            ucvaRight = ucva, ucvaLeft = ucva, sphereRight = sphere, cylinderRight = 0m, sphereLeft = sphere, cylinderLeft = 0m,
        };
        (await admin.PutAsJsonAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/records", new { records = new[] { Record(4.6m, -2.00m) } }))
            .EnsureSuccessStatusCode();
        (await admin.PostAsync($"/api/vision/rounds/{roundId}/corps/{school.CorpId}/publish", null)).EnsureSuccessStatusCode();
        long referralId;
        await using (var connection = await live.Factory.Services.GetRequiredService<Database>().OpenConnectionAsync(default))
        {
            referralId = await connection.ExecuteScalarAsync<long>("SELECT id FROM vision_referrals WHERE round_id = @roundId", new { roundId });
        }

        var teacherNotice = await live.Client(callers["adviser"]).PostAsJsonAsync("/api/notices", new
        {
            corpId = school.CorpId, title = "家长会", body = "周五家长会", audience = new[] { new { roles = new[] { "guardians" }, classIds = new[] { classId } } },
        });
        var noticeId = (long)(await teacherNotice.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;

        var bodies = new Dictionary<string, object?>
        {
            ["POST /api/notices/"] = new
            {
                corpId = "{corpId}", title = "通知", body = "内容", audience = new[] { new { roles = new[] { "guardians" }, classIds = new[] { classId } } },
            },
            ["POST /api/notices/{id:long}/approve"] = new { comment = "同意" },
            ["POST /api/notices/{id:long}/reject"] = new { comment = "不同意" },
            ["PUT /api/corps/{corpId}/notice-settings/"] = new { teacherNoticesNeedApproval = false },
            ["POST /api/corps/{corpId}/access-grants/"] = new
            {
                granteeCorpId = world.Bureau.CorpId, granteeUserId = world.Bureau.Users.Values.First(u => !u.Admin).UserId, purpose = "复核",
                expiresAt = DateTime.UtcNow.AddDays(2),
            },
            ["POST /api/vision/rounds"] = new { kind = "ad-hoc", schoolYear = 2026, opensOn = Today, closesOn = Today.AddDays(3), corpId = "{corpId}" },
            ["PUT /api/vision/rounds/{roundId:long}/corps/{corpId}/students/{studentUserId}"] = Record(4.8m, -1.00m),
            ["PUT /api/vision/rounds/{roundId:long}/corps/{corpId}/records"] = new { records = new[] { Record(4.8m, -1.00m) } },
            ["POST /api/corps/{corpId}/vision/referrals/remind"] = new { classId },
            ["PUT /api/corps/{corpId}/vision/classrooms/{classroomId}"] = new { name = "101教室", desks = 40, adjustableDesks = 20 },
            ["POST /api/me/vision/referrals/{id:long}/visit"] = new { visitDate = Today, hospital = "海宁市人民医院", diagnosis = "近视" },
            ["POST /api/approvals/bulk-approve"] = new { ids = new[] { 1L }, comment = "同意" },
            ["POST /api/approvals/{id:long}/reject"] = new { reason = "不同意" },
            ["POST /api/approvals/{id:long}/return"] = new { reason = "请修改" },
            ["POST /api/corps/{corpId}/access-requests"] = new { purpose = "复核", days = 2 },
            ["PUT /api/corps/{corpId}/calendar/{day}"] = new { kind = "holiday", note = "国庆" },
            ["POST /api/corps/{corpId}/care-programs"] = new
            {
                name = "秋季课后服务", kind = "term", startsOn = Today, endsOn = Today.AddDays(30), signupOpensAt = DateTime.UtcNow,
                signupClosesAt = DateTime.UtcNow.AddDays(1), gradeLevels = new[] { 1, 2, 3, 4, 5, 6 }, terms = "条款", feeUnit = "term",
                sessions = new[] { new { weekday = 1, startsAt = "15:30", endsAt = "17:30" } },
                offerings = new[] { new { kind = "basic", name = "基础托管", contentType = "homework", capacity = 40 } },
            },
            ["POST /api/corps/{corpId}/care-groups/{offeringId:long}/roll/{day}/corrections"] = new { applicationId = 1L, status = "present", reason = "漏记" },
            ["POST /api/corps/{corpId}/care-providers"] = new { name = "海宁棋院", creditCode = "91330481MA2B3C4D5E", contact = "陈老师", phone = "13600000000" },
            ["PUT /api/corps/{corpId}/care-programs/{id:long}/terms"] = new { terms = "新条款" },
            ["POST /api/me/training/claims"] = new
            {
                corpId = "{corpId}", title = "市级研修", organiser = "教研院", earnedOn = Today.AddDays(-10), kind = "regular", source = "city", domain = 3,
                level = "basic", credits = 6,
            },
            ["POST /api/corps/{corpId}/training/credits"] = new
            {
                userId = "someone", title = "校本研修", organiser = "学校", earnedOn = Today.AddDays(-10), kind = "regular", source = "school-based",
                domain = 3, level = "basic", credits = 6,
            },
            ["POST /api/trainings"] = new
            {
                corpId = "{corpId}", title = "市级培训", domain = 2, level = "basic", credits = 4, capacity = 10,
                sessions = new[] { new { startsAt = DateTime.UtcNow, endsAt = DateTime.UtcNow.AddHours(2), place = "教师发展中心" } },
            },
            ["POST /api/trainings/{id:long}/enrol"] = new { corpId = "{corpId}" },
            ["PUT /api/trainings/{id:long}/results"] = new { results = new[] { new { corpId = "{corpId}", userId = "someone", result = "pass" } } },
            ["PUT /api/corps/{corpId}/training/claims/{id:long}/credits"] = new { credits = 6 },
            ["PUT /api/corps/{corpId}/training/teachers/{userId}/appraisals/{year:int}"] = new { passed = false },
            ["PUT /api/corps/{corpId}/approval-chains/{kind}"] = new { steps = new[] { new { approvers = "school-admins", mode = "any" } } },
            ["PUT /api/approval-chains/{kind}"] = new { steps = new[] { new { approvers = "school-admins", mode = "any" } } },
        };

        var routes = live.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Method: m, Template: "/" + e.RoutePattern.RawText!.TrimStart('/'))))
            .Where(r => r.Method is "POST" or "PUT" or "DELETE" && !r.Template.StartsWith("/api/auth/", StringComparison.Ordinal)
                        && !r.Template.StartsWith("/api/dingtalk/", StringComparison.Ordinal))
            .Distinct().OrderBy(r => r.Template, StringComparer.Ordinal).ToList();
        Assert.True(routes.Count >= 15, string.Join(", ", routes));

        var failures = new List<string>();
        foreach (var (method, template) in routes)
        {
            var key = $"{method} {template}";
            foreach (var (scope, corpId) in new[] { ("own", school.CorpId), ("other", other.CorpId) })
            {
                if (scope == "other" && !template.Contains("{corpId}", StringComparison.Ordinal))
                {
                    continue;
                }

                var path = template.Replace("{corpId}", corpId).Replace("{roundId:long}", roundId.ToString())
                    .Replace("{studentUserId}", child).Replace("{classroomId}", "room-1").Replace("{classId:long}", classId.ToString()).Replace("{kind}", "notice").Replace("{day}", "2026-10-01").Replace("{offeringId:long}", "1").Replace("{applicationId:long}", "1").Replace("{period}", "term").Replace("{userId}", "someone").Replace("{year:int}", "2024").Replace("{sessionId:long}", "1").Replace("{code}", "ABCDEF0123456789")
                    .Replace("{id:long}", template.Contains("/notices/") ? noticeId.ToString() : template.Contains("referrals") ? referralId.ToString() : "1");
                var json = bodies.TryGetValue(key, out var body) && body is not null
                    ? System.Text.Json.JsonSerializer.Serialize(body, System.Text.Json.JsonSerializerOptions.Web).Replace("{corpId}", corpId)
                    : "{}";
                foreach (var (caller, token) in callers)
                {
                    var before = await FingerprintAsync(live);
                    using var request = new HttpRequestMessage(new HttpMethod(method), path)
                    {
                        Content = new StringContent(json, Encoding.UTF8, "application/json"),
                    };
                    var status = (await live.Client(token).SendAsync(request)).StatusCode;
                    // 404 is how a route refuses what the caller may not even know exists (another's notice, a round of another school).
                    var refused = status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound;
                    if (refused && await FingerprintAsync(live) is var after && after != before)
                    {
                        failures.Add($"{key} ({scope}) as {caller}: refused with {(int)status} but something changed:\n  {before}\n  {after}");
                    }

                    if (MustBeRefused(key, scope, caller) && !refused)
                    {
                        failures.Add($"{key} ({scope}) as {caller}: {(int)status}, must be refused");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Who may certainly not: the anonymous, operators outside /api/org, parents outside their own child's requests,
    /// other schools, and everyone but a school's admins (and, for remind, advisers) on a school's own decisions.</summary>
    private static bool MustBeRefused(string key, string scope, string caller)
    {
        var org = key.Contains(" /api/org/", StringComparison.Ordinal);
        var mine = key.Contains(" /api/me/", StringComparison.Ordinal);
        // Any person may call these; the request decides (its requester, its approvers): everyone else is refused by it.
        var approvals = key.Contains(" /api/approvals/", StringComparison.Ordinal);
        var forASchool = key.Contains("{corpId}", StringComparison.Ordinal) || key is "POST /api/notices/" or "POST /api/vision/rounds";
        var adminOnly = key.Contains("notice-settings", StringComparison.Ordinal) || key.Contains("approval-chains", StringComparison.Ordinal) ||
                        key.Contains("/calendar/", StringComparison.Ordinal) || key.Contains("/care-programs", StringComparison.Ordinal) ||
                        key.Contains("/care-groups/", StringComparison.Ordinal) || key.Contains("/care-providers", StringComparison.Ordinal) || key.Contains("/training/", StringComparison.Ordinal) && !mine || key.Contains("person-links", StringComparison.Ordinal) || key.Contains("access-grants", StringComparison.Ordinal) ||
                        key.Contains("classrooms", StringComparison.Ordinal) || key.EndsWith("/publish", StringComparison.Ordinal) ||
                        key.EndsWith("/imports", StringComparison.Ordinal) || key.EndsWith("/approve", StringComparison.Ordinal) ||
                        key.EndsWith("/reject", StringComparison.Ordinal);
        if (key.Contains("access-requests", StringComparison.Ordinal))
        {
            return caller != "bureau-admin";
        }

        // The bureau's admins import the provincial platform's records for any school as well as for the city.
        if (key.EndsWith("/training/provincial-imports", StringComparison.Ordinal) && caller == "bureau-admin")
        {
            return false;
        }

        if (key.StartsWith("PUT /api/approval-chains/", StringComparison.Ordinal))
        {
            return caller != "bureau-admin";
        }

        return caller switch
        {
            "anonymous" => true,
            "system-admin" => !org,
            _ when org => true,
            _ when approvals && key.EndsWith("/bulk-approve", StringComparison.Ordinal) => false,
            "guardian" => !mine,
            "other-school-admin" => forASchool && scope == "own",
            "bureau-admin" => forASchool,
            "subject-teacher" => adminOnly || key.EndsWith("/referrals/remind", StringComparison.Ordinal),
            "adviser" => adminOnly,
            _ => false,
        };
    }

    /// <summary>
    /// What a request could have stored or queued to send (the notice worker is off, so only requests change it). The
    /// operator routes' effects (a sync request, a replay) are taken up by the org workers at once, so they are judged
    /// by their refusals alone.
    /// </summary>
    private static async Task<string> FingerprintAsync(LiveOrg live)
    {
        await using var connection = await live.Factory.Services.GetRequiredService<Database>().OpenConnectionAsync(default);
        var parts = new List<string>();
        foreach (var sql in new[]
                 {
                     "SELECT COUNT(*) FROM notices", "SELECT COUNT(*) FROM notice_recipients", "SELECT COUNT(*) FROM notice_batches",
                     "SELECT COALESCE(SUM(LENGTH(status)), 0) FROM notices", "SELECT COUNT(*) FROM notices WHERE reviewed_at IS NOT NULL",
                     "SELECT COUNT(*) FROM notice_school_settings", "SELECT COUNT(*) FROM access_grants",
                     "SELECT COUNT(*) FROM access_grants WHERE revoked_at IS NOT NULL", "SELECT COUNT(*) FROM vision_rounds",
                     "SELECT COUNT(*) FROM vision_round_schools WHERE published_at IS NOT NULL", "SELECT COUNT(*) FROM vision_records",
                     "SELECT COUNT(*) FROM vision_record_history", "SELECT COALESCE(SUM(version), 0) FROM vision_records",
                     "SELECT COUNT(*) FROM vision_referrals WHERE last_reminded_at IS NOT NULL",
                     "SELECT COALESCE(SUM(LENGTH(status)), 0) FROM vision_referrals", "SELECT COUNT(*) FROM vision_classrooms",
                     "SELECT COUNT(*) FROM person_links", "SELECT COUNT(*) FROM person_links WHERE unlinked_at IS NOT NULL",
                     "SELECT COUNT(*) FROM approval_requests", "SELECT COALESCE(SUM(LENGTH(status)), 0) FROM approval_requests",
                     "SELECT COUNT(*) FROM approval_actions", "SELECT COUNT(*) FROM approval_chains",
                     "SELECT COUNT(*) FROM school_calendar_days", "SELECT COUNT(*) FROM care_programs",
                     "SELECT COALESCE(SUM(LENGTH(status)), 0) FROM care_programs", "SELECT COUNT(*) FROM care_applications",
                     "SELECT COALESCE(SUM(LENGTH(status)), 0) FROM care_places", "SELECT COUNT(*) FROM care_roll",
                     "SELECT COUNT(*) FROM care_handovers", "SELECT COUNT(*) FROM care_leaves", "SELECT COUNT(*) FROM care_delegates",
                     "SELECT COUNT(*) FROM care_covers", "SELECT COUNT(*) FROM care_duty", "SELECT COUNT(*) FROM care_payments",
                     "SELECT COUNT(*) FROM care_roll_corrections", "SELECT COUNT(*) FROM care_batches",
                     "SELECT COUNT(*) FROM care_providers", "SELECT COALESCE(SUM(LENGTH(status)), 0) FROM care_providers",
                     "SELECT COALESCE(SUM(terms_version), 0) FROM care_programs",
                     "SELECT COUNT(*) FROM training_credits", "SELECT COALESCE(SUM(LENGTH(status)), 0) FROM training_credits",
                     "SELECT COALESCE(SUM(credits), 0) FROM training_credits", "SELECT COUNT(*) FROM training_appraisals",
                     "SELECT COUNT(*) FROM trainings", "SELECT COUNT(*) FROM training_enrolments", "SELECT COUNT(*) FROM training_sign_ins",
                     "SELECT COALESCE(SUM(LENGTH(COALESCE(result, ''))), 0) FROM training_enrolments",
                 })
        {
            parts.Add((await connection.ExecuteScalarAsync<long>(sql)).ToString());
        }

        return string.Join(",", parts);
    }
}
