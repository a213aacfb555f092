using System.ComponentModel;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace EduDing.Api.Hosting;

/// <summary>
/// On a DTO property: its values are the code values of <paramref name="codes"/>, a static class whose
/// <c>public const string</c> fields marked <see cref="DescriptionAttribute"/> are the values and their Chinese labels.
/// The contract lists them as the property's enum with the labels (<see cref="CodeValues.Describe"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
internal sealed class CodeValuesAttribute(Type codes) : Attribute
{
    public Type Codes { get; } = codes;
}

/// <summary>
/// On a numeric DTO property: its unit, which the contract states (<c>x-unit</c> and the description), so that the
/// mini-app shows 58.22 as 58.22%, not 0.5822 or 5822%.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
internal sealed class UnitAttribute(string unit) : Attribute
{
    /// <summary>A percentage, 0–100, rounded to two decimals (58.22 means 58.22%).</summary>
    public const string Percent = "percent";

    /// <summary>A difference of two percentages, in points (1.00 means one percentage point).</summary>
    public const string PercentagePoints = "percentage-points";

    public string Unit { get; } = unit;

    public string Description => Unit switch
    {
        Percent => "Percent, 0–100, two decimals (58.22 = 58.22%).",
        PercentagePoints => "Percentage points, two decimals (1.00 = one point).",
        _ => Unit,
    };
}

/// <summary>One code value and the Chinese label the mini-app shows for it.</summary>
internal sealed record CodeValue(string Value, string Label);

/// <summary>
/// Code values in the contract: the enum of every property that carries <see cref="CodeValuesAttribute"/>, with the
/// Chinese label of each value in the description and in <c>x-enum-descriptions</c>, so that the mini-app shows
/// 待审核 for <c>pending</c> from the contract instead of its own table (miniapp-contract/README.md).
/// </summary>
internal static class CodeValues
{
    public static IReadOnlyList<CodeValue> Of(Type codes) => codes.GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string) && f.GetCustomAttribute<DescriptionAttribute>() is not null)
        .Select(f => new CodeValue((string)f.GetRawConstantValue()!, f.GetCustomAttribute<DescriptionAttribute>()!.Description))
        .ToList();

    public static void Describe(OpenApiSchema schema, OpenApiSchemaTransformerContext context)
    {
        if (context.JsonPropertyInfo?.AttributeProvider?.GetCustomAttributes(typeof(UnitAttribute), false) is [UnitAttribute unit])
        {
            schema.Description = unit.Description;
            schema.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            schema.Extensions["x-unit"] = new JsonNodeExtension(JsonValue.Create(unit.Unit));
        }

        if (context.JsonPropertyInfo?.AttributeProvider?.GetCustomAttributes(typeof(CodeValuesAttribute), false) is not [CodeValuesAttribute attribute])
        {
            return;
        }

        var values = Of(attribute.Codes);
        if (values.Count == 0)
        {
            throw new InvalidOperationException($"{attribute.Codes.Name} has no labelled code values.");
        }

        // A list of codes (e.g. a notice's roles) describes its items.
        var target = schema.Type?.HasFlag(JsonSchemaType.Array) == true && schema.Items is OpenApiSchema items ? items : schema;
        target.Enum = values.Select(v => (JsonNode)JsonValue.Create(v.Value)).ToList();
        if (target.Type?.HasFlag(JsonSchemaType.Null) == true)
        {
            target.Enum.Add(null!);
        }

        var labels = string.Join("; ", values.Select(v => $"{v.Value}: {v.Label}"));
        target.Description = string.IsNullOrEmpty(target.Description) ? labels : $"{target.Description} ({labels})";
        target.Extensions ??= new Dictionary<string, IOpenApiExtension>();
        target.Extensions["x-enum-descriptions"] = new JsonNodeExtension(new JsonArray(values.Select(v => (JsonNode)JsonValue.Create(v.Label)).ToArray()));
    }
}
