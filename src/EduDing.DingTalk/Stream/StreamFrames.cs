using System.Text.Json;
using System.Text.Json.Serialization;

namespace EduDing.DingTalk.Stream;

/// <summary>A server-to-client frame (§9c). Header values are strings; <see cref="Data"/> is JSON inside a string.</summary>
public sealed record StreamFrame(string SpecVersion, string Type, Dictionary<string, string> Headers, string? Data)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>A client-to-server reply (§9d): code 200, the same messageId, and data as a JSON string.</summary>
public sealed record StreamAckFrame(int Code, Dictionary<string, string> Headers, string Message, string? Data);

/// <summary>What the handler did with an event: SUCCESS, or LATER to have DingTalk deliver it again.</summary>
public enum StreamAck
{
    Success,
    Later,
}

/// <summary>An EVENT frame as the handler sees it. <see cref="EventId"/> is the key to deduplicate redeliveries on.</summary>
public sealed record StreamEvent(string EventId, string EventType, string CorpId, long BornTime, string Data,
    string MessageId);

internal static class StreamJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string AckData(StreamAck ack) => JsonSerializer.Serialize(new
    {
        status = ack == StreamAck.Success ? "SUCCESS" : "LATER",
        message = ack == StreamAck.Success ? "success" : "later",
    });
}

internal sealed record OpenConnectionRequest(string ClientId, string ClientSecret,
    IReadOnlyList<StreamSubscription> Subscriptions, string Ua);

internal sealed record StreamSubscription(string Type, string Topic);

internal sealed record OpenConnectionResponse(string Endpoint, string Ticket);
