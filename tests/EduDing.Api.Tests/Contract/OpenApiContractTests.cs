using System.Reflection;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EduDing.Api.Tests.Contract;

public sealed class OpenApiContractTests
{
    public const string WriteVariable = "EDUDING_WRITE_CONTRACT";

    /// <summary>
    /// miniapp-contract/openapi.json is what the mini-app team builds against, so it must be exactly what the code
    /// serves. Regenerate with ./contract.sh after changing an endpoint, and commit the file.
    /// </summary>
    [Fact]
    public async Task CommittedContract_EqualsTheGeneratedDocument()
    {
        await using var factory = new ApiFactory();
        var generated = Normalize(await factory.CreateClient().GetStringAsync("/openapi/v1.json"));
        var path = Path.Combine(RepoPaths.Root, "miniapp-contract", "openapi.json");

        if (Environment.GetEnvironmentVariable(WriteVariable) == "1")
        {
            await File.WriteAllTextAsync(path, generated);
        }

        Assert.True(File.Exists(path), $"{path} is missing; run ./contract.sh");
        var committed = Normalize(await File.ReadAllTextAsync(path));
        Assert.True(committed == generated,
            "miniapp-contract/openapi.json differs from what the code serves; run ./contract.sh and commit it.");
    }

    /// <summary>Every operation has a summary: its handler's documented first sentence, or words from its stable name.</summary>
    [Fact]
    public async Task EveryOperation_HasASummary()
    {
        var contract = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "miniapp-contract", "openapi.json")))!;
        var operations = contract["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => (Name: $"{o.Key} {p.Key}", Op: o.Value!))).ToList();

        Assert.NotEmpty(operations);
        Assert.Empty(operations.Where(o => string.IsNullOrWhiteSpace(o.Op["summary"]?.ToString())).Select(o => o.Name));
        Assert.Equal("Exchanges the mini-app's dd.getAuthCode code for a session",
            contract["paths"]!["/api/auth/dingtalk"]!["post"]!["summary"]!.ToString());
        Assert.Equal("Draw lottery (care programs)", EduDing.Api.Hosting.ContractSummaries.FromName("CarePrograms_DrawLottery"));
    }

    /// <summary>
    /// A handler that reads the request itself takes an upload, and one answering with a file sends bytes: each says so,
    /// or generated clients would post JSON and parse xlsx as text.
    /// </summary>
    [Fact]
    public async Task EveryUploadAndDownload_IsDescribedInTheContract()
    {
        await using var factory = new ApiFactory();
        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<MethodInfo>() is not null && e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .ToList();

        var undescribed = endpoints.Select(e => (Endpoint: e, Shape: ContractFiles.Shape(e.Metadata.GetMetadata<MethodInfo>()!)))
            .Where(e => (e.Shape.ReadsRequest && e.Endpoint.Metadata.GetMetadata<UploadMetadata>() is null)
                        || (e.Shape.ReturnsFile && e.Endpoint.Metadata.GetMetadata<FileResponseMetadata>() is null))
            .Select(e => e.Endpoint.RoutePattern.RawText).ToList();

        Assert.Contains(endpoints, e => ContractFiles.Shape(e.Metadata.GetMetadata<MethodInfo>()!).ReadsRequest);
        Assert.Empty(undescribed);
        var contract = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "miniapp-contract", "openapi.json")))!;
        var import = contract["paths"]!["/api/vision/rounds/{roundId}/corps/{corpId}/imports"]!["post"]!["requestBody"]!["content"]!["multipart/form-data"]!;
        Assert.Equal("binary", import["schema"]!["properties"]!["file"]!["format"]!.ToString());
        Assert.Equal("file", import["schema"]!["required"]![0]!.ToString());
        var template = contract["paths"]!["/api/vision/import-template"]!["get"]!["responses"]!["200"]!["content"]!.AsObject();
        Assert.Equal([Xlsx.ContentType], template.Select(c => c.Key));
    }

    /// <summary>
    /// Code values reach the mini-app with their Chinese labels: every property marked with its codes lists them as an enum
    /// with a label each, and the code-like properties still without one are only those named here (being labelled; #16).
    /// Rates say they are percents.
    /// </summary>
    [Fact]
    public async Task CodeValues_AreEnumsWithChineseLabels()
    {
        var marked = typeof(CodeValuesAttribute).Assembly.GetTypes()
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => (Type: t, Property: p)))
            .Select(x => (x.Type, x.Property, Codes: x.Property.GetCustomAttribute<CodeValuesAttribute>()?.Codes))
            .Where(x => x.Codes is not null).ToList();
        var contract = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "miniapp-contract", "openapi.json")))!;
        var schemas = contract["components"]!["schemas"]!.AsObject();

        Assert.True(marked.Count >= 40, $"{marked.Count} properties marked");
        foreach (var codes in marked.Select(m => m.Codes!).Distinct())
        {
            var values = CodeValues.Of(codes);
            Assert.NotEmpty(values);
            Assert.All(values, v => Assert.Matches(@"\p{IsCJKUnifiedIdeographs}", v.Label));
        }

        var status = schemas["ApprovalDto"]!["properties"]!["status"]!;
        Assert.Equal(["pending", "approved", "rejected", "returned", "withdrawn"], status["enum"]!.AsArray().Select(v => v!.ToString()));
        Assert.Equal("待审批", status["x-enum-descriptions"]![0]!.ToString());
        var roll = schemas["RollMark"]!["properties"]!["status"]!;
        Assert.Contains(roll["enum"]!.AsArray(), v => v is null);
        Assert.Equal("percent", schemas["StatisticsRowDto"]!["properties"]!["myopiaRate"]!["x-unit"]!.ToString());
        Assert.Equal("percent", schemas["ParticipationRow"]!["properties"]!["rate"]!["x-unit"]!.ToString());
        Assert.Equal("percentage-points", schemas["YearOnYearDto"]!["properties"]!["change"]!["x-unit"]!.ToString());

        string[] codeLike = ["status", "kind", "role", "level", "mode", "outcome", "unit", "feeUnit", "contentType", "source", "decision", "fromStatus", "toStatus"];
        var unlabelled = schemas.SelectMany(s => (s.Value!["properties"]?.AsObject() ?? []).Select(p => (Name: $"{s.Key}.{p.Key}", Property: p.Key, Schema: p.Value!)))
            .Where(p => codeLike.Contains(p.Property) && p.Schema["enum"] is null && p.Schema["items"]?["enum"] is null
                        && p.Schema["type"]?.ToJsonString() is "\"string\"" or "[\"null\",\"string\"]")
            .Select(p => p.Name).ToList();
        Assert.Empty(unlabelled);
    }

    [Fact]
    public async Task RequestBodies_MarkRequiredOnlyWhatIsRequired()
    {
        var contract = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "miniapp-contract", "openapi.json")))!;
        var record = contract["components"]!["schemas"]!["RecordRequest"]!;
        var required = record["required"]!.AsArray().Select(r => r!.ToString()).ToList();

        Assert.Equal(["studentUserId", "sex", "birthDate", "screenedOn", "glasses"], required);
        Assert.DoesNotContain("axialLengthRight", required);
    }

    /// <summary>
    /// Code generated from the contract needs types it can name: no timestamp without a type, no number that may be a
    /// string, every signed-in operation with the bearer scheme and its problem answers typed.
    /// </summary>
    [Fact]
    public async Task Contract_TypesTimestampsAndNumbers_AndEveryOperationItsSecurityAndProblems()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "miniapp-contract", "openapi.json"));
        var contract = System.Text.Json.Nodes.JsonNode.Parse(text)!;
        var problems = new List<string>();
        void Walk(System.Text.Json.Nodes.JsonNode? node, string path)
        {
            if (node is System.Text.Json.Nodes.JsonObject o)
            {
                if (o["format"] is not null && o["type"] is null)
                {
                    problems.Add($"{path}: format {o["format"]} without a type");
                }

                if (o["type"] is System.Text.Json.Nodes.JsonArray types && types.Any(t => t!.ToString() == "string") &&
                    types.Any(t => t!.ToString() is "integer" or "number"))
                {
                    problems.Add($"{path}: a number that may be a string");
                }

                foreach (var (key, value) in o)
                {
                    Walk(value, $"{path}/{key}");
                }
            }
            else if (node is System.Text.Json.Nodes.JsonArray a)
            {
                for (var i = 0; i < a.Count; i++)
                {
                    Walk(a[i], $"{path}[{i}]");
                }
            }
        }

        Walk(contract, "");
        var anonymous = new[] { "/api/auth/dingtalk", "/api/auth/refresh" };
        foreach (var (template, operations) in contract["paths"]!.AsObject())
        {
            foreach (var (method, operation) in operations!.AsObject())
            {
                var responses = operation!["responses"]!.AsObject();
                if (anonymous.Contains(template) || template.Contains("/callback/", StringComparison.Ordinal) ||
                    template.StartsWith("/api/certificates/", StringComparison.Ordinal))
                {
                    continue;
                }

                if (operation["security"]?.AsArray().Any(r => r!["bearer"] is not null) != true)
                {
                    problems.Add($"{method} {template}: no bearer security");
                }

                if (responses["401"]?["content"]?["application/problem+json"]?["schema"]?["$ref"]?.ToString() != "#/components/schemas/ProblemDetails")
                {
                    problems.Add($"{method} {template}: no typed 401 problem");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(30)));
        Assert.Equal("bearer", contract["components"]!["securitySchemes"]!["bearer"]!["scheme"]!.ToString());
    }

    private static string Normalize(string json) => json.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd() + "\n";
}
