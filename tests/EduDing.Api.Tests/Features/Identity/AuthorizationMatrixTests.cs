using System.Net;
using System.Text;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Features.Identity;

/// <summary>
/// Every endpoint of the route table × every kind of caller → allowed or refused, as the endpoint's own declared
/// <see cref="Audience"/> says. An endpoint without a declaration fails <see cref="EveryEndpoint_DeclaresItsAudience"/>,
/// so nothing ships without a decision about who may call it.
/// </summary>
public sealed class AuthorizationMatrixTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private IReadOnlyDictionary<string, Audience?> RouteTable() =>
        fixture.Live.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(m => (Key: $"{m} /{e.RoutePattern.RawText!.TrimStart('/')}", e.Metadata.GetMetadata<AudienceMetadata>()?.Audience)))
            .Where(r => !r.Key.StartsWith("* ", StringComparison.Ordinal))
            .DistinctBy(r => r.Key).ToDictionary(r => r.Key, r => r.Audience);

    [Fact]
    public void EveryEndpoint_DeclaresItsAudience()
    {
        var routes = RouteTable();
        var undeclared = routes.Where(r => r.Value is null).Select(r => r.Key).ToList();

        Assert.NotEmpty(routes);
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
        foreach (var (key, audience) in RouteTable().OrderBy(r => r.Key.EndsWith("/sign-out", StringComparison.Ordinal)).ThenBy(r => r.Key))
        {
            var access = audience!.Value;
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
                    .Replace("{documentName?}", "v1").Replace("{kind}", "notice").Replace("{day}", "2026-10-01").Replace("{offeringId:long}", "1").Replace("{applicationId:long}", "1").Replace("{period}", "term").Replace("{userId}", "someone").Replace("{year:int}", "2024").Replace("{sessionId:long}", "1").Replace("{code}", "ABCDEF0123456789").Replace("{studentUserId}", scope.Child);
                foreach (var (caller, token) in callers)
                {
                    var allowed = access switch
                    {
                        Audience.Anonymous => true,
                        Audience.SignedIn => caller != "anonymous",
                        Audience.Person => caller is not ("anonymous" or "system-admin"),
                        Audience.ChildOfCaller => scope.Name == "own" && caller is "guardian" or "adviser" or "school-admin",
                        Audience.Admins => caller is "school-admin" or "bureau-admin",
                        Audience.SchoolAdmin or Audience.CareGroupKeeper => scope.Name == "own" && caller == "school-admin",
                        Audience.SchoolStaff or Audience.ClassTeacherOrSchoolAdmin => scope.Name == "own" && caller is "adviser" or "school-admin",
                        Audience.Staff => caller is "adviser" or "school-admin" or "bureau-admin",
                        Audience.Bureau => caller == "bureau-admin",
                        Audience.SchoolAdminOrBureau => caller == "bureau-admin" || (scope.Name == "own" && caller == "school-admin"),
                        Audience.SchoolStaffOrBureau => caller == "bureau-admin" || (scope.Name == "own" && caller is "adviser" or "school-admin"),
                        Audience.GuardianOfChild => scope.Name == "own" && caller == "guardian",
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
