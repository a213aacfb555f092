using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace EduDing.DingTalk.Models;

/// <summary>Builders for the msg object of asyncsend_v2 (§5a), with DingTalk's exact keys.</summary>
public static class WorkNoticeMessages
{
    public static JsonObject Text(string content) => new()
    {
        ["msgtype"] = "text",
        ["text"] = new JsonObject { ["content"] = content },
    };

    public static JsonObject Markdown(string title, string text) => new()
    {
        ["msgtype"] = "markdown",
        ["markdown"] = new JsonObject { ["title"] = title, ["text"] = text },
    };

    /// <summary>A card with one button that opens <paramref name="url"/> (e.g. the notice page in the mini-app).</summary>
    public static JsonObject ActionCard(string title, string markdown, string buttonTitle, string url) => new()
    {
        ["msgtype"] = "action_card",
        ["action_card"] = new JsonObject
        {
            ["title"] = title,
            ["markdown"] = markdown,
            ["single_title"] = buttonTitle,
            ["single_url"] = url,
        },
    };

    public static JsonObject Oa(string messageUrl, string headText, string bodyTitle, string content,
        string headColor = "FFBBBBBB") => new()
    {
        ["msgtype"] = "oa",
        ["oa"] = new JsonObject
        {
            ["message_url"] = messageUrl,
            ["head"] = new JsonObject { ["bgcolor"] = headColor, ["text"] = headText },
            ["body"] = new JsonObject { ["title"] = bodyTitle, ["content"] = content },
        },
    };

    /// <summary>The mini-app deep link (§5e): <paramref name="page"/> with its own query, URL-encoded once.</summary>
    public static string MiniAppLink(string miniAppId, string page) =>
        $"dingtalk://dingtalkclient/action/open_mini_app?miniAppId={Uri.EscapeDataString(miniAppId)}&ddMode=push&page={Uri.EscapeDataString(page)}";
}

internal sealed record SendWorkNoticeResponse(long TaskId);

/// <summary>getsendprogress (§5b): status 0 not started, 1 in progress, 2 done.</summary>
public sealed record SendProgress(int ProgressInPercent, int Status);

internal sealed record SendProgressResponse(SendProgress Progress);

/// <summary>getsendresult (§5c). Drops for flow control show only in <see cref="ForbiddenList"/>.</summary>
public sealed record SendResult(
    [property: JsonPropertyName("invalid_user_id_list")] IReadOnlyList<string>? InvalidUserIdList,
    [property: JsonPropertyName("forbidden_user_id_list")] IReadOnlyList<string>? ForbiddenUserIdList,
    [property: JsonPropertyName("failed_user_id_list")] IReadOnlyList<string>? FailedUserIdList,
    [property: JsonPropertyName("read_user_id_list")] IReadOnlyList<string>? ReadUserIdList,
    [property: JsonPropertyName("unread_user_id_list")] IReadOnlyList<string>? UnreadUserIdList,
    [property: JsonPropertyName("invalid_dept_id_list")] IReadOnlyList<long>? InvalidDeptIdList,
    [property: JsonPropertyName("forbidden_list")] IReadOnlyList<ForbiddenDelivery>? ForbiddenList);

/// <summary>143105: over 500 messages per user per day; 143106: the identical message twice in a day.</summary>
public sealed record ForbiddenDelivery(string Code, long Count, [property: JsonPropertyName("userid")] string UserId);

internal sealed record SendResultResponse(SendResult SendResult);
