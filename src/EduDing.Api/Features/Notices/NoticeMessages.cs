using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using EduDing.Api.Features.DingTalk;
using EduDing.DingTalk;
using EduDing.DingTalk.Models;

namespace EduDing.Api.Features.Notices;

/// <summary>
/// The DingTalk message of a notice: an action card whose button opens the notice (or the page a system notice
/// names) in the mini-app. The same notice always gives the same bytes, which a same-day resend relies on.
/// </summary>
internal static class NoticeMessages
{
    private const int ExcerptMax = 300;

    /// <summary>The message for recipients of one corp, linking to that corp's mini-app (each school's app has its own).</summary>
    public static string For(Notice notice, NoticeOptions options, string miniAppId) =>
        Build(notice, options, miniAppId, notice.Title, $"{notice.SenderName}");

    /// <summary>A reminder differs from the notice and from other days' reminders (DingTalk drops identical messages within a day).</summary>
    public static string ReminderFor(Notice notice, NoticeOptions options, string miniAppId, DateOnly day) =>
        Build(notice, options, miniAppId, $"【未读提醒】{notice.Title}",
            $"{notice.SenderName} · {day.ToString("M月d日", CultureInfo.InvariantCulture)}提醒：您还没有阅读这条通知");

    /// <summary>The mini-app a recipient in this corp opens: its own app's, else the deployment's (Notices:MiniAppId).</summary>
    public static string MiniAppOf(string corpId, CorpDirectory corps, NoticeOptions options) =>
        corps.Find(corpId)?.MiniAppId ?? options.MiniAppId;

    public static string PageOf(Notice notice, NoticeOptions options) =>
        notice.LinkPage ?? string.Format(CultureInfo.InvariantCulture, options.NoticePage, notice.Id);

    private static string Build(Notice notice, NoticeOptions options, string miniAppId, string title, string subtitle)
    {
        var url = WorkNoticeMessages.MiniAppLink(miniAppId, PageOf(notice, options));
        var body = NoticeMarkdown.Sanitize(notice.Body);
        var excerpt = body.Length > ExcerptMax ? body[..ExcerptMax] + "…" : body;
        while (true)
        {
            var message = WorkNoticeMessages.ActionCard(title, $"#### {title}\n\n{subtitle}\n\n{excerpt}", "查看详情", url);
            var json = message.ToJsonString();
            if (Encoding.UTF8.GetByteCount(json) <= DingTalkClient.WorkNoticeMessageMaxBytes || excerpt.Length == 0)
            {
                return json;
            }

            excerpt = excerpt.Length > 20 ? excerpt[..(excerpt.Length * 3 / 4)] + "…" : "";
        }
    }

    public static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
