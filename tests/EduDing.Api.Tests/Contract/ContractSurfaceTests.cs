using System.Text.Json.Nodes;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Contract;

/// <summary>
/// The rule for breaking changes (miniapp-contract/CHANGELOG.md): an operation, or a field of a success response, that
/// the mini-app may rely on does not disappear unless the changelog names it. miniapp-contract/surface.txt lists what
/// the contract offers, one line each; ./contract.sh adds what is new and drops only what the changelog names.
/// </summary>
public sealed class ContractSurfaceTests
{
    private static readonly string Folder = Path.Combine(RepoPaths.Root, "miniapp-contract");

    [Fact]
    public async Task NothingDisappears_WithoutAChangelogEntry()
    {
        var contract = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Folder, "openapi.json")))!;
        var current = Surface(contract);
        var surfacePath = Path.Combine(Folder, "surface.txt");
        var changelog = await File.ReadAllTextAsync(Path.Combine(Folder, "CHANGELOG.md"));
        var recorded = File.Exists(surfacePath)
            ? (await File.ReadAllLinesAsync(surfacePath)).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet(StringComparer.Ordinal)
            : [];

        var gone = recorded.Where(l => !current.Contains(l)).Order(StringComparer.Ordinal).ToList();
        var undeclared = gone.Where(l => !changelog.Contains($"`{l}`", StringComparison.Ordinal)).ToList();
        if (Environment.GetEnvironmentVariable(OpenApiContractTests.WriteVariable) == "1")
        {
            // New lines join; a line leaves only with its changelog entry, so the next run still fails without one.
            var lines = current.Concat(undeclared).Order(StringComparer.Ordinal);
            await File.WriteAllLinesAsync(surfacePath,
                ["# What the contract offers: operations and their success responses' fields. Written by ./contract.sh; see CHANGELOG.md."]);
            await File.AppendAllLinesAsync(surfacePath, lines);
            recorded = current.Concat(undeclared).ToHashSet(StringComparer.Ordinal);
        }

        Assert.True(undeclared.Count == 0,
            "Gone from the contract without an entry in miniapp-contract/CHANGELOG.md (a breaking change; name each line there):\n" +
            string.Join("\n", undeclared));
        var unrecorded = current.Where(l => !recorded.Contains(l)).Order(StringComparer.Ordinal).ToList();
        Assert.True(unrecorded.Count == 0, "New in the contract and not in miniapp-contract/surface.txt; run ./contract.sh:\n" +
                                           string.Join("\n", unrecorded.Take(20)));
    }

    [Fact]
    public void Surface_ListsOperationsAndNestedResponseFields()
    {
        var contract = JsonNode.Parse("""
            {
              "paths": { "/api/things/{id}": { "get": { "responses": { "200": { "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/Thing" } } } }, "404": { "description": "no" } } } } },
              "components": { "schemas": {
                "Thing": { "type": "object", "properties": { "name": { "type": "string" },
                  "parts": { "type": "array", "items": { "$ref": "#/components/schemas/Part" } },
                  "parent": { "$ref": "#/components/schemas/Thing" } } },
                "Part": { "type": "object", "properties": { "size": { "type": "integer" } } } } }
            }
            """)!;

        Assert.Equal(
            ["GET /api/things/{id}", "GET /api/things/{id} 200 name", "GET /api/things/{id} 200 parent", "GET /api/things/{id} 200 parts",
             "GET /api/things/{id} 200 parts[]",
             "GET /api/things/{id} 200 parts[].size"],
            Surface(contract).Order(StringComparer.Ordinal));
    }

    /// <summary>Each operation ("GET /path"), and each field of its 2xx JSON responses ("GET /path 200 items[].name"), recursion cut at a schema already on the path.</summary>
    internal static HashSet<string> Surface(JsonNode contract)
    {
        var lines = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, operations) in contract["paths"]!.AsObject())
        {
            foreach (var (method, operation) in operations!.AsObject())
            {
                var op = $"{method.ToUpperInvariant()} {path}";
                lines.Add(op);
                foreach (var (status, response) in operation!["responses"]?.AsObject() ?? [])
                {
                    if (status.StartsWith('2') && response!["content"]?["application/json"]?["schema"] is { } schema)
                    {
                        Fields(contract, schema, $"{op} {status} ", [], lines);
                    }
                }
            }
        }

        return lines;
    }

    private static void Fields(JsonNode contract, JsonNode schema, string prefix, HashSet<string> onPath, HashSet<string> lines)
    {
        if (schema["$ref"]?.ToString() is { } reference)
        {
            if (!onPath.Add(reference))
            {
                return;
            }

            Fields(contract, contract["components"]!["schemas"]![reference.Split('/')[^1]]!, prefix, onPath, lines);
            onPath.Remove(reference);
            return;
        }

        if (schema["items"] is { } items)
        {
            var list = prefix.EndsWith('.') ? prefix[..^1] + "[]" : prefix + "[]";
            if (prefix.EndsWith('.'))
            {
                lines.Add(list);
            }

            Fields(contract, items, list + ".", onPath, lines);
            return;
        }

        foreach (var variant in (schema["oneOf"] ?? schema["anyOf"] ?? schema["allOf"])?.AsArray() ?? [])
        {
            Fields(contract, variant!, prefix, onPath, lines);
        }

        foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
        {
            var field = prefix + name;
            lines.Add(field);
            if (property is not null)
            {
                Fields(contract, property, field + ".", onPath, lines);
            }
        }
    }
}
