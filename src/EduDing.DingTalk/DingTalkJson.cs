using System.Text.Json;
using System.Text.Json.Serialization;

namespace EduDing.DingTalk;

/// <summary>
/// Serializer settings for both families. DingTalk writes numbers and booleans as strings in places ("success":"true",
/// "is_adviser":"1", ids from the legacy SDK), so reading accepts either form.
/// </summary>
public static class DingTalkJson
{
    /// <summary>The legacy family: snake_case names.</summary>
    public static JsonSerializerOptions Oapi { get; } = Create(JsonNamingPolicy.SnakeCaseLower);

    /// <summary>The v1.0 family: camelCase names.</summary>
    public static JsonSerializerOptions Api { get; } = Create(JsonNamingPolicy.CamelCase);

    private static JsonSerializerOptions Create(JsonNamingPolicy naming)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = naming,
            PropertyNameCaseInsensitive = true,
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new FlexibleBooleanConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Reads true/false, "true"/"false", 1/0 and "1"/"0"; writes a JSON boolean.</summary>
    public sealed class FlexibleBooleanConverter : JsonConverter<bool>
    {
        public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType switch
            {
                JsonTokenType.True => true,
                JsonTokenType.False => false,
                JsonTokenType.Number => reader.GetInt64() != 0,
                JsonTokenType.String => reader.GetString() switch
                {
                    "1" => true,
                    "0" or "" => false,
                    var s when bool.TryParse(s, out var b) => b,
                    var s => throw new JsonException($"'{s}' is not a boolean."),
                },
                _ => throw new JsonException($"Cannot read {reader.TokenType} as a boolean."),
            };

        public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) =>
            writer.WriteBooleanValue(value);
    }

    /// <summary>Parses a JSON document carried inside a string ("chain", "feature"); empty or null gives null.</summary>
    public static T? ParseEmbedded<T>(string? json, JsonSerializerOptions? options = null) =>
        string.IsNullOrWhiteSpace(json) ? default : JsonSerializer.Deserialize<T>(json, options ?? Oapi);
}
