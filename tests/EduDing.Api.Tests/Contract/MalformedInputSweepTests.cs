using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EduDing.Api.Tests.Features.Org;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Contract;

/// <summary>
/// Every operation of the contract (miniapp-contract/openapi.json), called by every kind of caller with malformed
/// input: bad path and query values, missing, non-JSON, wrong-shaped, wrong-typed and oversized bodies. Whatever the
/// answer, it is never a 5xx, and an error answer is a problem detail that names no internal .NET type.
/// </summary>
public sealed class MalformedInputSweepTests(LiveOrgFixture fixture) : IClassFixture<LiveOrgFixture>
{
    private static readonly string[] BadIds = ["abc", "-5", "0", "99999999999999999999", "1.5", new('9', 400)];
    private static readonly string[] BadStrings = ["nope", "%20", "%E4%B8", new('x', 400), "..%2F..%2Fetc"];
    private static readonly string[] BadQueryValues = ["abc", "-1", "99999999999999999999", "", "1e9", "true", new('q', 2000)];

    [Fact]
    public async Task EveryOperation_AsEveryCaller_WithMalformedInput_AnswersWithoutA5xx()
    {
        var contract = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "miniapp-contract", "openapi.json")))!;
        var schemas = contract["components"]!["schemas"]!.AsObject();
        var world = fixture.Live.Sandbox.World;
        var school = world.Schools.First();
        var classId = school.Classes.Keys.First();
        var callers = new Dictionary<string, string?>
        {
            ["anonymous"] = null,
            ["guardian"] = await fixture.Live.SignInAsync(school.CorpId, school.Classes[classId].Relations[0].GuardianUserId),
            ["adviser"] = await fixture.Live.SignInAsync(school.CorpId, school.Classes[classId].Teachers.First(t => t.IsAdviser).UserId),
            ["school-admin"] = await fixture.Live.SignInAsync(school.CorpId, school.Users.Values.First(u => u.Admin).UserId),
            ["bureau-admin"] = await fixture.Live.SignInAsync(world.Bureau.CorpId, world.Bureau.Users.Values.First(u => u.Admin).UserId),
            ["system-admin"] = TestTokens.SystemAdmin(),
        };
        var valid = new Dictionary<string, string>
        {
            ["corpId"] = school.CorpId, ["studentUserId"] = school.Classes[classId].Students[0].UserId, ["classId"] = classId.ToString(),
            ["id"] = "1", ["roundId"] = "1", ["classroomId"] = "room-1", ["unionId"] = "someone",
        };

        var failures = new List<string>();
        var requests = 0;
        foreach (var (template, operations) in contract["paths"]!.AsObject())
        {
            foreach (var (method, operation) in operations!.AsObject())
            {
                if (template.EndsWith("/sign-out", StringComparison.Ordinal))
                {
                    continue; // takes no input, and would end the callers' sessions
                }

                foreach (var (path, body, contentType) in Variants(template, operation!, schemas, valid))
                {
                    foreach (var (caller, token) in callers)
                    {
                        requests++;
                        using var client = fixture.Live.Client(token);
                        using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), path);
                        if (body is not null)
                        {
                            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
                            if (contentType is not null)
                            {
                                request.Content.Headers.ContentType = new(contentType);
                            }
                        }

                        using var response = await client.SendAsync(request);
                        var text = await response.Content.ReadAsStringAsync();
                        var what = $"{method.ToUpperInvariant()} {path[..Math.Min(path.Length, 160)]} as {caller} with {Describe(body, contentType)}";
                        if ((int)response.StatusCode >= 500)
                        {
                            failures.Add($"{(int)response.StatusCode} for {what}: {text[..Math.Min(text.Length, 300)]}");
                        }
                        else if ((int)response.StatusCode >= 400 && response.StatusCode != HttpStatusCode.Unauthorized &&
                                 (text.Contains("EduDing.", StringComparison.Ordinal) || text.Contains("Nullable`", StringComparison.Ordinal) ||
                                  text.Contains("Nullable<", StringComparison.Ordinal) || text.Contains("Implicit body", StringComparison.Ordinal) ||
                                  text.Contains("System.", StringComparison.Ordinal)))
                        {
                            failures.Add($"internal names in {(int)response.StatusCode} for {what}: {text[..Math.Min(text.Length, 300)]}");
                        }
                        else if ((int)response.StatusCode >= 400 && !System.Text.RegularExpressions.Regex.IsMatch(text, "\"code\":\"[a-z0-9_]+\\.[a-z_]+"))
                        {
                            failures.Add($"no error code in {(int)response.StatusCode} for {what}: {text[..Math.Min(text.Length, 300)]}");
                        }
                        else if ((int)response.StatusCode >= 400 && !System.Text.RegularExpressions.Regex.IsMatch(text, "\"detail\":\"[^\"]*\\p{IsCJKUnifiedIdeographs}"))
                        {
                            failures.Add($"no Chinese detail in {(int)response.StatusCode} for {what}: {text[..Math.Min(text.Length, 300)]}");
                        }
                        else if ((int)response.StatusCode >= 400 && text.StartsWith('{') && JsonNode.Parse(text)?["errors"] is JsonObject errors &&
                                 (errors.SelectMany(e => e.Value!.AsArray()).Any(r => !System.Text.RegularExpressions.Regex.IsMatch(r!.ToString(), "\\p{IsCJKUnifiedIdeographs}"))
                                  || JsonNode.Parse(text)?["errorsEn"] is not JsonObject english || english.Count != errors.Count))
                        {
                            failures.Add($"a reason not in Chinese, or no English beside it, in {(int)response.StatusCode} for {what}: {text[..Math.Min(text.Length, 300)]}");
                        }
                    }
                }
            }
        }

        // One line per distinct answer to one operation (the same failure as every caller says nothing new).
        var distinct = failures.GroupBy(f => System.Text.RegularExpressions.Regex.Replace(f, " as [a-z-]+ with | with |\\?.*? as |traceId.*", " ")[..Math.Min(f.Length, 120)])
            .Select(g => g.First()).Take(60);
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests} requests:\n" + string.Join("\n", distinct));
    }

    private static string Describe(string? body, string? contentType) =>
        body is null ? "no body" : $"{contentType ?? "no content type"} body '{body[..Math.Min(body.Length, 60)]}'";

    private static IEnumerable<(string Path, string? Body, string? ContentType)> Variants(string template, JsonNode operation,
        JsonObject schemas, IReadOnlyDictionary<string, string> valid)
    {
        var parameters = operation["parameters"]?.AsArray().Select(p => p!).ToList() ?? [];
        var pathNames = parameters.Where(p => p["in"]!.ToString() == "path").Select(p => p["name"]!.ToString()).ToList();
        string Fill(IReadOnlyDictionary<string, string> values) =>
            pathNames.Aggregate(template, (t, name) => t.Replace("{" + name + "}", values.GetValueOrDefault(name, "1")));

        var validPath = Fill(valid);
        var body = operation["requestBody"]?["content"]?["application/json"]?["schema"];
        var goodBody = body is null ? null : "{}";

        // Bad path values, one parameter at a time.
        foreach (var name in pathNames)
        {
            var isNumber = parameters.First(p => p["name"]!.ToString() == name)["schema"]?["type"]?.ToString() is "integer";
            foreach (var bad in isNumber ? BadIds : BadStrings)
            {
                yield return (Fill(new Dictionary<string, string>(valid) { [name] = bad }), goodBody, goodBody is null ? null : "application/json");
            }
        }

        // Bad query values, one parameter at a time.
        foreach (var query in parameters.Where(p => p["in"]!.ToString() == "query"))
        {
            foreach (var bad in BadQueryValues)
            {
                yield return ($"{validPath}?{query["name"]}={Uri.EscapeDataString(bad)}", goodBody, goodBody is null ? null : "application/json");
            }
        }

        if (body is null)
        {
            yield return (validPath, "{\"unexpected\": true}", "application/json");
            yield break;
        }

        // Bodies that are not the request at all.
        yield return (validPath, null, null);
        yield return (validPath, "", "application/json");
        yield return (validPath, "hello", "text/plain");
        yield return (validPath, "a=1&b=2", "application/x-www-form-urlencoded");
        foreach (var text in new[] { "[]", "null", "\"text\"", "42", "{", "{\"a\":", "{\"a\":1}}", new string('[', 200) + new string(']', 200) })
        {
            yield return (validPath, text, "application/json");
        }

        yield return (validPath, "[" + string.Join(",", Enumerable.Repeat("{}", 100_000)) + "]", "application/json");

        // The request's own fields, each with the wrong type, an absurd value, or a huge array.
        var schema = body["$ref"] is { } reference ? schemas[reference.ToString().Split('/').Last()] : body;
        foreach (var (field, property) in schema?["properties"]?.AsObject() ?? [])
        {
            foreach (var value in new[] { "{}", "[1,2]", "\"x\"", "-1", "1e400", "true", "\"" + new string('長', 20_000) + "\"",
                         "[" + string.Join(",", Enumerable.Range(0, 50_000)) + "]" })
            {
                yield return (validPath, $"{{\"{field}\": {value}}}", "application/json");
            }
        }
    }
}
