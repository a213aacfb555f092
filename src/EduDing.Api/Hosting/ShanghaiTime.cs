using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EduDing.Api.Hosting;

/// <summary>
/// UTC in storage, Asia/Shanghai at the edge. China has kept UTC+8 without daylight saving since 1991, so a fixed
/// offset is exact for every date this service handles and needs no tz database on the host.
/// </summary>
internal static class ShanghaiTime
{
    public static readonly TimeSpan Offset = TimeSpan.FromHours(8);

    public static DateTimeOffset FromUtc(DateTime utc) =>
        new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToOffset(Offset);

    /// <summary>The Beijing calendar day that holds <paramref name="utc"/> (the day a person in Haining would say).</summary>
    public static DateOnly DayOf(DateTime utc) => DateOnly.FromDateTime(FromUtc(utc).DateTime);

    /// <summary>Today in Beijing.</summary>
    public static DateOnly Today(TimeProvider time) => DayOf(time.GetUtcNow().UtcDateTime);

    /// <summary>When the Beijing day after <paramref name="day"/> begins, in UTC.</summary>
    public static DateTime NextDayStartUtc(DateOnly day) => day.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) - Offset;

    /// <summary>Beijing days <paramref name="from"/> to <paramref name="to"/> as a UTC range: [Start, End).</summary>
    public static (DateTime Start, DateTime End) DaysUtc(DateOnly from, DateOnly to) => (NextDayStartUtc(from.AddDays(-1)), NextDayStartUtc(to));

    /// <summary>The start (00:00 in Haining) of the Beijing day that holds <paramref name="utc"/>, in UTC.</summary>
    public static DateTime StartOfDayUtc(DateTime utc) =>
        new DateTimeOffset(FromUtc(utc).Date, Offset).UtcDateTime;
}

/// <summary>
/// Writes every DateTime (stored as UTC) as ISO 8601 in Asia/Shanghai with its offset, e.g. 2026-09-01T08:30:00+08:00.
/// Reads any ISO 8601 instant; one without an offset is taken as Asia/Shanghai local time, which is what a person
/// in Haining means by it. What it returns is always UTC.
/// </summary>
internal sealed class ShanghaiDateTimeConverter : JsonConverter<DateTime>
{
    public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        if (text is null || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AllowWhiteSpaces, out var parsed) || !LooksLikeIso8601(text))
        {
            throw new JsonException("Expected an ISO 8601 date and time, e.g. 2026-09-01T08:30:00+08:00.");
        }

        var hasOffset = text.EndsWith('Z') || text.EndsWith('z') || HasExplicitOffset(text);
        var instant = hasOffset ? parsed : new DateTimeOffset(parsed.DateTime, ShanghaiTime.Offset);
        return instant.UtcDateTime;
    }

    public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        writer.WriteStringValue(ShanghaiTime.FromUtc(utc));
    }

    private static bool LooksLikeIso8601(string text) => text.Length >= 19 && text[4] == '-' && text[10] is 'T' or 't';

    private static bool HasExplicitOffset(string text)
    {
        var timePart = text[11..];
        return timePart.Contains('+') || timePart.Contains('-');
    }
}
