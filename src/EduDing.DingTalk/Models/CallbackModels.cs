using System.Text.Json.Nodes;

namespace EduDing.DingTalk.Models;

/// <summary>
/// An event DingTalk failed to push (§7e). The business data sits under a key named after the event type, or under
/// bpmsCallBackData / roleLabelChange / callbackData; <see cref="Data"/> finds it.
/// </summary>
public sealed record FailedCallback(string EventType, long EventTime, JsonObject Raw)
{
    private static readonly string[] DataKeys = ["bpmsCallBackData", "roleLabelChange", "callbackData"];

    public JsonObject? Data =>
        Raw[EventType] as JsonObject
        ?? DataKeys.Select(k => Raw[k]).OfType<JsonObject>().FirstOrDefault();
}

public sealed record FailedCallbackPage(bool HasMore, IReadOnlyList<FailedCallback> Events);
