using System.Net;
using System.Text;
using EduDing.Api.Tests.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Identity;

/// <summary>
/// Every endpoint of the route table × every kind of caller → allowed or refused. An endpoint that is not listed here
/// fails <see cref="EveryEndpoint_HasADeclaredAccessRule"/>, so nothing ships without a decision about who may call it.
/// </summary>
public sealed class AuthorizationMatrixTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    public enum Access
    {
        /// <summary>Anyone, signed in or not (health, sign-in, DingTalk's signed callback, dev-only docs).</summary>
        Anonymous,

        /// <summary>Any valid session token.</summary>
        SignedIn,

        /// <summary>A signed-in person of the synced organizations, for themselves only (an operator token is no person).</summary>
        Person,

        /// <summary>Operators of the deployment.</summary>
        SystemAdmin,

        /// <summary>
        /// One child's record, called for a child of the first class of the first school: that child's guardian, the
        /// class's adviser and the school's admin may; the bureau (no grant) and operators may not.
        /// </summary>
        ChildOfCaller,

        /// <summary>The audit log: admins of a school or of the bureau.</summary>
        Admins,

        /// <summary>Decisions of one school (access grants over its children's data): that school's admins.</summary>
        SchoolAdmin,

        /// <summary>Staff of any school or of the bureau (not guardians).</summary>
        Staff,

        /// <summary>City-wide aggregates: the bureau.</summary>
        Bureau,

        /// <summary>One school's aggregates: that school's staff, and the bureau.</summary>
        SchoolStaffOrBureau,

        /// <summary>One child's own data as a parent sees it: that child's guardian only.</summary>
        GuardianOfChild,
    }

    public static readonly IReadOnlyDictionary<string, Access> Rules = new Dictionary<string, Access>
    {
        ["GET /healthz"] = Access.Anonymous,
        ["GET /readyz"] = Access.Anonymous,
        ["GET /openapi/{documentName}.json"] = Access.Anonymous,
        ["GET /scalar/{documentName?}"] = Access.Anonymous,
        ["GET /scalar/favicon.svg"] = Access.Anonymous,
        ["GET /scalar/scalar.aspnetcore.js"] = Access.Anonymous,
        ["GET /scalar/scalar.js"] = Access.Anonymous,
        ["POST /api/dingtalk/callback/{corpId}"] = Access.Anonymous,
        ["POST /api/auth/dingtalk"] = Access.Anonymous,
        ["POST /api/auth/refresh"] = Access.Anonymous,
        ["POST /api/auth/sign-out"] = Access.SignedIn,
        ["GET /api/me"] = Access.Person,
        ["GET /api/org/corps"] = Access.SystemAdmin,
        ["GET /api/org/corps/{corpId}/departments"] = Access.SystemAdmin,
        ["GET /api/org/corps/{corpId}/edu-nodes"] = Access.SystemAdmin,
        ["GET /api/org/corps/{corpId}/classes/{classId:long}/roster"] = Access.SystemAdmin,
        ["POST /api/org/corps/{corpId}/sync"] = Access.SystemAdmin,
        ["GET /api/org/persons/{unionId}"] = Access.SystemAdmin,
        ["GET /api/org/sync-runs"] = Access.SystemAdmin,
        ["GET /api/org/sync-runs/{id:long}"] = Access.SystemAdmin,
        ["GET /api/org/events"] = Access.SystemAdmin,
        ["POST /api/org/events/{id:long}/replay"] = Access.SystemAdmin,
        ["POST /api/org/corps/{corpId}/events/replay"] = Access.SystemAdmin,
        ["GET /api/corps/{corpId}/students/{studentUserId}"] = Access.ChildOfCaller,
        ["GET /api/audit"] = Access.Admins,
        ["POST /api/corps/{corpId}/access-grants/"] = Access.SchoolAdmin,
        ["GET /api/corps/{corpId}/access-grants/"] = Access.SchoolAdmin,
        ["DELETE /api/corps/{corpId}/access-grants/{id:long}"] = Access.SchoolAdmin,
        ["POST /api/me/links/"] = Access.Person,
        ["GET /api/me/links/"] = Access.Person,
        ["DELETE /api/me/links/{id:long}"] = Access.Person,
        ["POST /api/corps/{corpId}/person-links/"] = Access.SchoolAdmin,
        ["GET /api/corps/{corpId}/person-links/"] = Access.SchoolAdmin,
        ["DELETE /api/corps/{corpId}/person-links/{id:long}"] = Access.SchoolAdmin,
        // Notices: any person reaches the handler, which decides by role and scope (bureau admin, school admin, the
        // teacher of the class; NoticeTests covers each) and answers 404 for notices the caller does not manage.
        ["POST /api/notices/"] = Access.Person,
        ["GET /api/notices/"] = Access.Person,
        ["GET /api/notices/{id:long}"] = Access.Person,
        ["GET /api/notices/{id:long}/recipients"] = Access.Person,
        ["POST /api/notices/{id:long}/approve"] = Access.Person,
        ["POST /api/notices/{id:long}/reject"] = Access.Person,
        ["POST /api/notices/{id:long}/remind"] = Access.Person,
        ["POST /api/notices/{id:long}/recall"] = Access.Person,
        ["GET /api/me/notices/"] = Access.Person,
        ["GET /api/me/notices/{id:long}"] = Access.Person,
        ["GET /api/corps/{corpId}/notice-settings/"] = Access.SchoolAdmin,
        ["PUT /api/corps/{corpId}/notice-settings/"] = Access.SchoolAdmin,
        // Vision: entry and identifiable reads reach the handler, which checks the class or school scope (VisionAccessTests).
        ["POST /api/vision/rounds"] = Access.Person,
        ["GET /api/vision/rounds"] = Access.Staff,
        ["GET /api/vision/rounds/{roundId:long}/progress"] = Access.Bureau,
        ["PUT /api/vision/rounds/{roundId:long}/corps/{corpId}/students/{studentUserId}"] = Access.Person,
        ["GET /api/vision/rounds/{roundId:long}/corps/{corpId}/students/{studentUserId}"] = Access.Person,
        ["PUT /api/vision/rounds/{roundId:long}/corps/{corpId}/records"] = Access.Person,
        ["GET /api/vision/rounds/{roundId:long}/corps/{corpId}/classes/{classId:long}/records"] = Access.Person,
        ["POST /api/vision/rounds/{roundId:long}/corps/{corpId}/imports"] = Access.Person,
        ["POST /api/vision/rounds/{roundId:long}/corps/{corpId}/publish"] = Access.Person,
        ["GET /api/vision/import-template"] = Access.SignedIn,
        ["GET /api/vision/rounds/{roundId:long}/statistics"] = Access.Bureau,
        ["GET /api/vision/rounds/{roundId:long}/statistics.xlsx"] = Access.Bureau,
        ["GET /api/vision/trend"] = Access.Bureau,
        ["GET /api/vision/referrals/summary"] = Access.Bureau,
        ["GET /api/vision/classrooms/summary"] = Access.Bureau,
        ["GET /api/corps/{corpId}/vision/referrals"] = Access.SchoolAdmin,
        ["POST /api/corps/{corpId}/vision/referrals/remind"] = Access.SchoolAdmin,
        ["GET /api/corps/{corpId}/vision/classrooms"] = Access.SchoolStaffOrBureau,
        ["PUT /api/corps/{corpId}/vision/classrooms/{classroomId}"] = Access.SchoolAdmin,
        ["GET /api/me/vision/"] = Access.Person,
        ["GET /api/me/vision/{corpId}/{studentUserId}"] = Access.GuardianOfChild,
        ["POST /api/me/vision/referrals/{id:long}/acknowledge"] = Access.Person,
        ["POST /api/me/vision/referrals/{id:long}/visit"] = Access.Person,
    };

    private IReadOnlyList<string> RouteTable() =>
        fixture.Live.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(m => $"{m} /{e.RoutePattern.RawText!.TrimStart('/')}"))
            .Where(key => !key.StartsWith("* ", StringComparison.Ordinal))
            .Distinct().Order().ToList();

    [Fact]
    public void EveryEndpoint_HasADeclaredAccessRule()
    {
        var undeclared = RouteTable().Where(key => !Rules.ContainsKey(key)).ToList();

        Assert.Empty(undeclared);
    }

    [Fact]
    public async Task EveryEndpoint_AsEveryKindOfCaller_IsAllowedOrRefusedAsDeclared()
    {
        var world = fixture.Live.Sandbox.World;
        var school = world.Schools.First();
        var classId = school.Classes.Keys.First();
        var child = school.Classes[classId].Relations[0].StudentUserId;
        var callers = new Dictionary<string, string?>
        {
            ["anonymous"] = null,
            ["guardian"] = await SignInAsync(school.CorpId, school.Classes[classId].Relations[0].GuardianUserId),
            ["adviser"] = await SignInAsync(school.CorpId, school.Classes[classId].Teachers.First(t => t.IsAdviser).UserId),
            ["school-admin"] = await SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId),
            ["bureau-admin"] = await SignInAsync(world.Bureau.CorpId, world.Bureau.Users.Values.First(u => u.Admin).UserId),
            ["system-admin"] = TestTokens.SystemAdmin(),
        };
        var other = world.Schools.Skip(1).First();
        var scopes = new[]
        {
            (Name: "own", CorpId: school.CorpId, ClassId: classId, Child: child),
            (Name: "other", CorpId: other.CorpId, ClassId: other.Classes.Keys.First(), Child: other.Classes.Values.First().Students[0].UserId),
        };
        var failures = new List<string>();

        // Sign-out ends the caller's session, and with it the access token: it goes last.
        foreach (var key in RouteTable().OrderBy(k => k.EndsWith("/sign-out", StringComparison.Ordinal)))
        {
            var access = Rules[key];
            var (method, template) = (key[..key.IndexOf(' ')], key[(key.IndexOf(' ') + 1)..]);
            foreach (var scope in scopes)
            {
                // Only corp-scoped routes have another scope; callers belong to the first school (or the bureau).
                if (scope.Name == "other" && !template.Contains("{corpId}", StringComparison.Ordinal))
                {
                    continue;
                }

                var path = template.Replace("{corpId}", scope.CorpId).Replace("{classId:long}", scope.ClassId.ToString())
                    .Replace("{id:long}", "1").Replace("{roundId:long}", "1").Replace("{classroomId}", "room-1").Replace("{unionId}", "someone").Replace("{documentName}", "v1")
                    .Replace("{documentName?}", "v1").Replace("{studentUserId}", scope.Child);
                foreach (var (caller, token) in callers)
                {
                    var allowed = access switch
                    {
                        Access.Anonymous => true,
                        Access.SignedIn => caller != "anonymous",
                        Access.Person => caller is not ("anonymous" or "system-admin"),
                        Access.ChildOfCaller => scope.Name == "own" && caller is "guardian" or "adviser" or "school-admin",
                        Access.Admins => caller is "school-admin" or "bureau-admin",
                        Access.SchoolAdmin => scope.Name == "own" && caller == "school-admin",
                        Access.Staff => caller is "adviser" or "school-admin" or "bureau-admin",
                        Access.Bureau => caller == "bureau-admin",
                        Access.SchoolStaffOrBureau => caller == "bureau-admin" || (scope.Name == "own" && caller is "adviser" or "school-admin"),
                        Access.GuardianOfChild => scope.Name == "own" && caller == "guardian",
                        _ => caller == "system-admin",
                    };
                    using var client = fixture.Live.Factory.CreateClient();
                    if (token is not null)
                    {
                        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
                    }

                    using var request = new HttpRequestMessage(new HttpMethod(method), path);
                    if (method is "POST" or "PUT")
                    {
                        request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                    }

                    var status = (await client.SendAsync(request)).StatusCode;
                    var refused = status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
                    var expectedRefusal = token is null ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden;
                    if (allowed == refused || (!allowed && status != expectedRefusal))
                    {
                        failures.Add($"{key} ({scope.Name} scope) as {caller}: {(int)status}, expected {(allowed ? "allowed" : ((int)expectedRefusal).ToString())}");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private Task<string> SignInAsync(string corpId, string userId) => fixture.Live.SignInAsync(corpId, userId);
}
