using System.Text.RegularExpressions;

namespace EduDing.Api.Features.Notices;

/// <summary>
/// The markdown a notice body may hold (docs/notices.md): text, headings, emphasis, lists, quotes, code and links or
/// images to https:// and dingtalk:// addresses. Raw HTML is not markdown we render: every tag is removed, its text
/// kept; a link or image to any other scheme (javascript:, data:, http:) keeps its text and loses its address.
/// Applied when a notice is stored and again when it is served or put into a DingTalk card, so that nothing stored
/// before this rule existed reaches a reader unsanitized.
/// </summary>
internal static partial class NoticeMarkdown
{
    public static string Sanitize(string body)
    {
        var text = Comments().Replace(body, "");
        text = DangerousElements().Replace(text, "");
        text = Tags().Replace(text, "");
        text = Links().Replace(text, m => AllowedUrl(m.Groups["url"].Value) ? m.Value : m.Groups["text"].Value);
        text = AutoLinks().Replace(text, m => AllowedUrl(m.Groups["url"].Value) ? m.Value : "");
        return text;
    }

    private static bool AllowedUrl(string url) =>
        Uri.TryCreate(url.Trim().Trim('<', '>'), UriKind.Absolute, out var uri) && uri.Scheme is "https" or "dingtalk";

    [GeneratedRegex("<!--.*?-->", RegexOptions.Singleline)]
    private static partial Regex Comments();

    // Elements whose content is code, not text.
    [GeneratedRegex(@"<\s*(script|style|iframe|object|embed)\b[^>]*>.*?<\s*/\s*\1\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex DangerousElements();

    [GeneratedRegex(@"</?[a-zA-Z][^>]*>")]
    private static partial Regex Tags();

    // [text](url "title") and ![alt](url)
    [GeneratedRegex(@"!?\[(?<text>[^\]]*)\]\(\s*(?<url><[^>]*>|[^\s)]*)(\s+""[^""]*"")?\s*\)")]
    private static partial Regex Links();

    // <scheme:...> autolinks (tags were removed above, so these are the ones with a colon the tag pattern skipped)
    [GeneratedRegex(@"<(?<url>[a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*)>")]
    private static partial Regex AutoLinks();
}
