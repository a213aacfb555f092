using Microsoft.OpenApi;

namespace EduDing.Api.Hosting;

/// <summary>
/// Schema types as the mini-app's generated code needs them (miniapp-contract/README.md): a timestamp is a string in
/// date-time format (our converter writes Asia/Shanghai offsets, which left the schema without a type), and a number
/// is a number. The service still reads numbers sent as strings, as DingTalk-style clients do; the contract does not
/// widen every number to "number or string" for it.
/// </summary>
internal static class ContractTypes
{
    public static void Normalize(OpenApiSchema schema, Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if ((underlying ?? type) == typeof(DateTime) || (underlying ?? type) == typeof(DateTimeOffset))
        {
            schema.Type = underlying is null ? JsonSchemaType.String : JsonSchemaType.String | JsonSchemaType.Null;
            schema.Format = "date-time";
            return;
        }

        if (schema.Type is { } types && (types.HasFlag(JsonSchemaType.Integer) || types.HasFlag(JsonSchemaType.Number)))
        {
            schema.Type = types & ~JsonSchemaType.String;
            schema.Pattern = null;
        }

        if (schema.Items is OpenApiSchema items)
        {
            Normalize(items, type.IsArray ? type.GetElementType()! : type.GenericTypeArguments.FirstOrDefault() ?? typeof(object));
        }
    }
}
