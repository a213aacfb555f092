using EduDing.Api.Tests.Infrastructure;

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

    [Fact]
    public async Task RequestBodies_MarkRequiredOnlyWhatIsRequired()
    {
        var contract = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "miniapp-contract", "openapi.json")))!;
        var record = contract["components"]!["schemas"]!["RecordRequest"]!;
        var required = record["required"]!.AsArray().Select(r => r!.ToString()).ToList();

        Assert.Equal(["studentUserId", "sex", "birthDate", "screenedOn", "glasses"], required);
        Assert.DoesNotContain("axialLengthRight", required);
    }

    private static string Normalize(string json) => json.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd() + "\n";
}
