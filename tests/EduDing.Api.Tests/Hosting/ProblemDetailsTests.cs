using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EduDing.Api.Tests.Hosting;

public sealed class ProblemDetailsTests : IAsyncLifetime
{
    private sealed record ProbeRequest(string Name, int Grade, DateOnly? ScreenedOn);

    private ProbeApp _app = null!;

    public async ValueTask InitializeAsync() => _app = await ProbeApp.StartAsync(Map);

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/probe/json", (ProbeRequest request) => Results.Ok(request)).AllowAnonymous();
        app.MapGet("/probe/not-found", string () => throw new NotFoundException("Class 42 does not exist.")).AllowAnonymous();
        app.MapGet("/probe/conflict", string () => throw new ConflictException("Already applied.")).AllowAnonymous();
        app.MapGet("/probe/rule", string () => throw new RuleViolationException("The window is closed.")).AllowAnonymous();
        app.MapGet("/probe/rule-zh", string () => throw new RuleViolationException("The window is closed.", "报名时间已截止。")).AllowAnonymous();
        app.MapGet("/probe/invalid", string () => throw new RequestValidationException("grade", "must be 1 to 12")).AllowAnonymous();
        app.MapGet("/probe/bug", string () => throw new InvalidOperationException("secret internals")).AllowAnonymous();
        app.MapGet("/api/corps/{corpId}/widgets/{id}", string (string corpId, string id) =>
            throw new RequestValidationException("$.pickups[0].phoneNumber", "must be a mobile number")).AllowAnonymous();
        app.MapGet("/api/widgets/{id}", string (string id) => throw new ConflictException("Already applied.")).AllowAnonymous();
        app.MapGet("/probe/page", (int page) => Results.Ok(page)).AllowAnonymous();
        app.MapGet("/probe/signed-in", () => Results.Ok("yes")).RequireAuthorization();
        app.MapGet("/probe/admins", () => Results.Ok("yes"))
            .RequireAuthorization(p => p.RequireClaim("role", "bureau-admin"));
    }

    private static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
        Assert.Matches("^[a-z0-9_]+\\.[a-z_]+(\\.[a-z0-9_.]+)?$", problem.GetProperty("code").GetString());
        Assert.Matches("\\p{IsCJKUnifiedIdeographs}", problem.GetProperty("title").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("titleEn").GetString()));
        return problem;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Post_MalformedJson_Is400NamingWhereItBroke()
    {
        var response = await _app.CreateClient().PostAsync("/probe/json", Json("""{"name": "王芳", "grade": 3,"""));

        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").EnumerateObject().Any(), "errors name the failing JSON path");
    }

    [Fact]
    public async Task Post_WrongTypeForField_Is400NamingTheField()
    {
        var response = await _app.CreateClient().PostAsync("/probe/json", Json("""{"name": "王芳", "grade": "three"}"""));

        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateObject());
        Assert.Equal("$.grade", error.Name);
    }

    [Fact]
    public async Task Post_InvalidDate_Is400NamingTheField()
    {
        var response = await _app.CreateClient().PostAsync("/probe/json",
            Json("""{"name": "王芳", "grade": 3, "screenedOn": "2026-02-30"}"""));

        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("$.screenedOn", Assert.Single(problem.GetProperty("errors").EnumerateObject()).Name);
    }

    [Fact]
    public async Task Post_EmptyBody_Is400()
    {
        var response = await _app.CreateClient().PostAsync("/probe/json", Json(""));

        await ReadProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Post_NotJsonContentType_Is415WhenSignedIn()
    {
        // Routing answers an unsupported media type before the endpoint's AllowAnonymous is known, so the fallback
        // policy applies: an anonymous caller would get 401 first.
        var response = await _app.CreateClient(TestTokens.Create()).PostAsync("/probe/json",
            new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded"));

        await ReadProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Get_QueryValueOfWrongType_Is400NamingTheParameter()
    {
        var response = await _app.CreateClient().GetAsync("/probe/page?page=first");

        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("须为整数", problem.GetProperty("errors").GetProperty("page")[0].GetString());
        Assert.Equal("must be a whole number", problem.GetProperty("errorsEn").GetProperty("page")[0].GetString());
        Assert.DoesNotContain("Nullable", problem.GetRawText());
    }

    [Theory]
    [InlineData("/probe/not-found", HttpStatusCode.NotFound, "Class 42 does not exist.")]
    [InlineData("/probe/conflict", HttpStatusCode.Conflict, "Already applied.")]
    [InlineData("/probe/rule", HttpStatusCode.UnprocessableEntity, "The window is closed.")]
    public async Task Get_DomainException_MapsToItsStatus(string path, HttpStatusCode status, string detail)
    {
        var response = await _app.CreateClient().GetAsync(path);

        var problem = await ReadProblemAsync(response, status);
        Assert.Equal(detail, problem.GetProperty("detailEn").GetString());
        Assert.Matches(@"\p{IsCJKUnifiedIdeographs}", problem.GetProperty("detail").GetString());
    }

    /// <summary>An error with its own Chinese sentence shows it as detail, the English one kept as detailEn.</summary>
    [Fact]
    public async Task Get_RuleWithAChineseSentence_ShowsIt()
    {
        var response = await _app.CreateClient().GetAsync("/probe/rule-zh");

        var problem = await ReadProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("报名时间已截止。", problem.GetProperty("detail").GetString());
        Assert.Equal("The window is closed.", problem.GetProperty("detailEn").GetString());
        Assert.Equal("不符合规定", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Get_ValidationException_Is400WithPerFieldErrors()
    {
        var response = await _app.CreateClient().GetAsync("/probe/invalid");

        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("须在 1 至 12 之间", problem.GetProperty("errors").GetProperty("grade")[0].GetString());
        Assert.Equal("must be 1 to 12", problem.GetProperty("errorsEn").GetProperty("grade")[0].GetString());
    }

    /// <summary>The recurring shapes of a field's reason are said in Chinese with their values; any other is the general sentence.</summary>
    [Theory]
    [InlineData("is required", "必填")]
    [InlineData("is required, at most 100 characters", "必填，最多 100 个字")]
    [InlineData("is required (why the bureau needs to see identifiable records), at most 500 characters", "必填，最多 500 个字")]
    [InlineData("at most 20,000 characters", "最多 20,000 个字")]
    [InlineData("must be one of give, refuse, withdraw for vision-screening", "须为以下之一：give, refuse, withdraw")]
    [InlineData("must be one of left-behind, migrant (留守儿童, 随迁子女) or omitted", "须为以下之一：left-behind, migrant")]
    [InlineData("must name 1 to 5 pickup people", "须为 1 至 5 项")]
    [InlineData("must be 1 to 1,000,000", "须在 1 至 1,000,000 之间")]
    [InlineData("must be on or after from, within a year", "不能早于开始日期，且跨度不超过一年")]
    [InlineData("must be a date, e.g. 2026-09-01", "须为日期，例如 2026-09-01")]
    [InlineData("must be none, frame, contact or ok-lens", "须为以下之一：none, frame, contact, ok-lens")]
    [InlineData("is required: the school through which the credits are claimed", "必填")]
    [InlineData("programId, corpId and studentUserId are required", "有必填项未填写或不符合要求")]
    [InlineData("'}' is invalid after a single JSON value. Expected end of data.", "请求内容不是有效的 JSON")]
    [InlineData("4.75 is not on the 0.1 grid of the 5-point chart", "4.75 不在五分记录表的 0.1 刻度上")]
    [InlineData("must be a multiple of 0.25 D between -30 and +30", "须为 0.25 D 的倍数，在 -30 至 +30 之间")]
    [InlineData("offering 12 is not for this child's grade (3) and class", ValidationReasons.General)]
    public void AReason_IsSaidInChinese(string english, string chinese) => Assert.Equal(chinese, ValidationReasons.ToChinese(english));

    /// <summary>A 400's code ends with what kind of wrong its first reason says, where the reason's shape is known.</summary>
    [Theory]
    [InlineData("4.75 is not on the 0.1 grid of the 5-point chart", "off_grid")]
    [InlineData("5.5 is above the chart maximum 5.3", "above_chart")]
    [InlineData("is required", "required")]
    [InlineData("is required, at most 100 characters", "required_or_too_long")]
    [InlineData("must be one of give, refuse", "not_one_of")]
    [InlineData("must be a whole number", "wrong_type")]
    [InlineData("offering 12 is not for this child's grade (3) and class", null)]
    public void AReasonsShape_EndsTheCode(string english, string? slug) => Assert.Equal(slug, ValidationReasons.SlugOf(english));

    [Fact]
    public async Task Get_UnexpectedException_Is500WithoutInternals()
    {
        var response = await _app.CreateClient().GetAsync("/probe/bug");

        await ReadProblemAsync(response, HttpStatusCode.InternalServerError);
        Assert.DoesNotContain("secret internals", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_UnknownRouteWhenSignedIn_Is404Problem()
    {
        var response = await _app.CreateClient(TestTokens.Create()).GetAsync("/api/no-such-thing");

        await ReadProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_ProtectedWithoutToken_Is401Problem()
    {
        var response = await _app.CreateClient().GetAsync("/probe/signed-in");

        await ReadProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Get_ProtectedWithValidToken_IsAllowed()
    {
        var response = await _app.CreateClient(TestTokens.Create()).GetAsync("/probe/signed-in");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Get_PolicyNotMet_Is403Problem()
    {
        var response = await _app.CreateClient(TestTokens.Create()).GetAsync("/probe/admins");

        await ReadProblemAsync(response, HttpStatusCode.Forbidden);
    }

    public static TheoryData<string, string> BadTokens => new()
    {
        { "expired", TestTokens.Create(expires: DateTime.UtcNow.AddMinutes(-5)) },
        { "wrong audience", TestTokens.Create(audience: "someone-else") },
        { "wrong issuer", TestTokens.Create(issuer: "someone-else") },
        { "wrong key", TestTokens.Create(signingKeyBase64: Convert.ToBase64String(new byte[32])) },
        { "tampered", Tamper(TestTokens.Create()) },
        { "garbage", "not-a-token" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Get_ProtectedWithBadToken_Is401(string why, string token)
    {
        var response = await _app.CreateClient(token).GetAsync("/probe/signed-in");

        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{why} token must be refused");
    }

    // Changes the subject in the payload and keeps the original signature.
    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(parts[1]))
            .Replace("test-user", "bureau-admin", StringComparison.Ordinal);
        parts[1] = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(payload);
        return string.Join('.', parts);
    }

    [Theory]
    [InlineData("/api/corps/ding1/widgets/7", HttpStatusCode.BadRequest, "widgets.invalid.pickups.phone_number.not_a_phone")]
    [InlineData("/api/widgets/7", HttpStatusCode.Conflict, "widgets.conflict")]
    [InlineData("/api/nothing-here", HttpStatusCode.NotFound, "nothing_here.not_found")]
    public async Task Problem_CarriesAStableCodeOfItsFeatureAndKind(string path, HttpStatusCode status, string code)
    {
        var problem = await ReadProblemAsync(await _app.CreateClient(TestTokens.Create("someone")).GetAsync(path), status);

        Assert.Equal(code, problem.GetProperty("code").GetString());
    }

    /// <summary>An operator given a trace id by a user finds the request's log lines by it.</summary>
    [Fact]
    public async Task UnexpectedException_TheResponsesTraceId_IsTheOneInTheLog()
    {
        var problem = await ReadProblemAsync(await _app.CreateClient().GetAsync("/probe/bug"), HttpStatusCode.InternalServerError);
        var traceId = problem.GetProperty("traceId").GetString()!;

        Assert.Contains(_app.Logs.Entries, e => e.StartsWith("Error ", StringComparison.Ordinal) && e.Contains("Unhandled exception", StringComparison.Ordinal) &&
                                                e.Contains($"TraceId={traceId}", StringComparison.Ordinal));
    }

    /// <summary>One line per request, never the health probes an orchestrator sends every few seconds.</summary>
    [Fact]
    public async Task Requests_AreLoggedOnceEach_HealthProbesAreNot()
    {
        var client = _app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/probe/page?page=7")).StatusCode);

        var requests = _app.Logs.Entries.Where(e => e.Contains("HttpLoggingMiddleware", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(requests, e => e.Contains("/probe/page", StringComparison.Ordinal));
        Assert.Contains("StatusCode: 200", line);
        Assert.DoesNotContain("page=7", line);
        Assert.DoesNotContain(requests, e => e.Contains("/healthz", StringComparison.Ordinal));
    }
}
