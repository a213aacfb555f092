using System.Text.Json.Nodes;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Contract;

/// <summary>The contract's examples are what their schemas say: known fields only, every required one, the right types and enum values.</summary>
public sealed class ContractExamplesTests
{
    [Fact]
    public async Task EveryExample_IsInTheContract_AndFitsItsSchema()
    {
        var contract = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "miniapp-contract", "openapi.json")))!;
        var operations = contract["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => o.Value!))
            .ToDictionary(o => o["operationId"]!.ToString());
        var problems = new List<string>();

        foreach (var (id, (request, response)) in ContractExamples.ByOperation)
        {
            Assert.True(operations.TryGetValue(id, out var operation), $"{id} is not an operation");
            if (request is not null)
            {
                var media = operation!["requestBody"]!["content"]!["application/json"]!;
                Assert.Equal(JsonNode.Parse(request)!.ToJsonString(), media["example"]!.ToJsonString());
                Check(contract, media["schema"]!, JsonNode.Parse(request), $"{id} request", problems);
            }

            if (response is not null)
            {
                var media = operation!["responses"]!.AsObject().First(r => r.Key.StartsWith('2')).Value!["content"]!["application/json"]!;
                Assert.Equal(JsonNode.Parse(response)!.ToJsonString(), media["example"]!.ToJsonString());
                Check(contract, media["schema"]!, JsonNode.Parse(response), $"{id} response", problems);
            }
        }

        Assert.Empty(problems);
        // The checker itself finds a wrong type, an unknown field and a missing required one.
        var caught = new List<string>();
        Check(contract, operations["Auth_SignInWithDingTalk"]["requestBody"]!["content"]!["application/json"]!["schema"]!,
            JsonNode.Parse("""{ "corpId": 1, "code": "x" }"""), "bad", caught);
        Assert.Equal(3, caught.Count);
    }

    private static void Check(JsonNode contract, JsonNode schema, JsonNode? value, string path, List<string> problems)
    {
        if (schema["$ref"] is { } reference)
        {
            schema = contract["components"]!["schemas"]![reference.ToString().Split('/')[^1]]!;
        }

        var types = schema["type"] switch
        {
            JsonArray list => list.Select(t => t!.ToString()).ToList(),
            JsonValue one => [one.ToString()],
            _ => [],
        };
        var kind = value switch
        {
            null => "null",
            JsonObject => "object",
            JsonArray => "array",
            JsonValue v when v.TryGetValue<bool>(out _) => "boolean",
            JsonValue v when v.TryGetValue<string>(out _) => "string",
            JsonValue v when v.TryGetValue<decimal>(out var d) => d == decimal.Truncate(d) ? "integer" : "number",
            _ => "unknown",
        };
        if (types.Count > 0 && !types.Contains(kind) && !(kind == "integer" && types.Contains("number")))
        {
            problems.Add($"{path}: a {kind} where the schema says {string.Join(" or ", types)}");
            return;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
        {
            problems.Add($"{path}: {value?.ToJsonString()} is not one of the enum's values");
        }

        if (value is JsonObject obj && schema["properties"] is JsonObject properties)
        {
            foreach (var missing in (schema["required"]?.AsArray().Select(r => r!.ToString()) ?? []).Where(r => !obj.ContainsKey(r)))
            {
                problems.Add($"{path}.{missing}: required, missing");
            }

            foreach (var (name, child) in obj)
            {
                if (properties[name] is not { } property)
                {
                    problems.Add($"{path}.{name}: not a field of the schema");
                    continue;
                }

                Check(contract, property, child, $"{path}.{name}", problems);
            }
        }

        if (value is JsonArray array && schema["items"] is { } items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                Check(contract, items, array[i], $"{path}[{i}]", problems);
            }
        }
    }
}
