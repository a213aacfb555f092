using System.Net.Http.Json;
using System.Text.Json;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace EduDing.Api.Tests.Hosting;

public sealed class ShanghaiTimeTests
{
    private static readonly JsonSerializerOptions Options = new() { Converters = { new ShanghaiDateTimeConverter() } };

    [Fact]
    public void Write_UtcInstant_IsShownInShanghaiWithOffset()
    {
        var json = JsonSerializer.Serialize(new DateTime(2026, 8, 31, 16, 30, 0, DateTimeKind.Utc), Options);

        Assert.Equal("\"2026-09-01T00:30:00+08:00\"", json);
    }

    [Theory]
    [InlineData("\"2026-09-01T00:30:00+08:00\"")]
    [InlineData("\"2026-08-31T16:30:00Z\"")]
    [InlineData("\"2026-08-31T12:30:00-04:00\"")]
    [InlineData("\"2026-09-01T00:30:00\"")]
    public void Read_AnyOffsetOrShanghaiLocal_IsTheSameUtcInstant(string json)
    {
        var value = JsonSerializer.Deserialize<DateTime>(json, Options);

        Assert.Equal(new DateTime(2026, 8, 31, 16, 30, 0, DateTimeKind.Utc), value);
        Assert.Equal(DateTimeKind.Utc, value.Kind);
    }

    [Theory]
    [InlineData("\"tomorrow\"")]
    [InlineData("\"2026-09-01\"")]
    [InlineData("\"2026-13-01T00:00:00Z\"")]
    public void Read_NotAnIsoInstant_IsRefused(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<DateTime>(json, Options));
    }

    private sealed record Stamp(DateTime At);

    [Fact]
    public async Task Endpoint_EchoingAnInstant_SpeaksShanghaiAtTheEdge()
    {
        DateTime? received = null;
        await using var app = await ProbeApp.StartAsync(routes => routes.MapPost("/probe/stamp", (Stamp stamp) =>
        {
            received = stamp.At;
            return Results.Ok(stamp);
        }).AllowAnonymous());

        var response = await app.CreateClient().PostAsJsonAsync("/probe/stamp", new { at = "2026-08-31T16:30:00Z" });

        Assert.Equal(new DateTime(2026, 8, 31, 16, 30, 0, DateTimeKind.Utc), received);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("2026-09-01T00:30:00+08:00", body.GetProperty("at").GetString());
    }
}
