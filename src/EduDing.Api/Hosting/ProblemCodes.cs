using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Diagnostics;

namespace EduDing.Api.Hosting;

/// <summary>
/// What every problem detail carries besides RFC 9457's fields (docs/errors.md): a stable machine-readable
/// <c>code</c> the mini-app switches on, a Chinese <c>title</c> and <c>detail</c> it may show (and, for a 400, each
/// field's reasons in Chinese, <see cref="ValidationReasons"/>), the English ones as <c>titleEn</c>, <c>detailEn</c> and
/// <c>errorsEn</c>, and
/// the <c>traceId</c> of the request exactly as the logs write it (the W3C trace id, 32 hex digits).
/// </summary>
internal static class ProblemCodes
{
    /// <summary>The code's area for paths that are not a feature's own: sign-in, the mirror, the operators' views.</summary>
    private static readonly Dictionary<string, string> Areas = new(StringComparer.Ordinal)
    {
        ["auth"] = "auth", ["org"] = "ops", ["ops"] = "ops", ["dingtalk"] = "dingtalk",
    };

    /// <summary>
    /// Per status: the code's kind, the Chinese title, and the general Chinese detail shown where the error has no
    /// sentence of its own.
    /// </summary>
    private static readonly Dictionary<int, (string Kind, string Title, string Detail)> ByStatus = new()
    {
        [400] = ("invalid", "请求内容有误", "请求内容有误，请检查标出的项目后重试。"),
        [401] = ("unauthenticated", "请先登录", "登录已失效，请重新打开应用。"),
        [403] = ("forbidden", "没有权限", "您没有进行此操作的权限。"),
        [404] = ("not_found", "未找到", "没有找到相关内容，或您无权查看。"),
        [405] = ("method_not_allowed", "不支持该操作", "不支持该操作。"),
        [409] = ("conflict", "与当前数据冲突", "内容已被他人修改或已提交过，请刷新后再试。"),
        [413] = ("too_large", "内容过大", "内容过大，请缩小后再试。"),
        [415] = ("unsupported_media_type", "格式不支持", "文件格式不支持，请按要求上传。"),
        [422] = ("rule_violated", "不符合规定", "操作不符合相关规定。"),
        [429] = ("too_many_requests", "请求过于频繁，请稍后再试", "操作太频繁，请稍后再试。"),
        [500] = ("unexpected", "服务出错了，请稍后再试", "服务出错了，请稍后再试。"),
        [503] = ("unavailable", "服务暂时不可用，请稍后再试", "服务暂时不可用，请稍后再试。"),
    };

    /// <summary>Where the exception handler leaves an exception's Chinese sentence for <see cref="Customize"/>.</summary>
    public const string ChineseDetailItem = "EduDing.ProblemDetailZh";

    /// <summary>Where the exception handler leaves a conflict's or rule's reason, the last part of the code.</summary>
    public const string ReasonItem = "EduDing.ProblemReason";

    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        var (kind, title, detail) = ByStatus.TryGetValue(status, out var known) ? known
            : status >= 500 ? ByStatus[500]
            : ("bad_request", "请求有误", ByStatus[400].Detail);
        if (!problem.Extensions.ContainsKey("code"))
        {
            var code = $"{Area(context.HttpContext)}.{kind}";
            if (status == 400 && problem is HttpValidationProblemDetails { Errors.Count: > 0 } invalid)
            {
                var field = invalid.Errors.Keys.Order(StringComparer.Ordinal).First();
                code += "." + Snake(field);
                if (invalid.Errors[field].FirstOrDefault() is { } reason && ValidationReasons.SlugOf(reason) is { } slug)
                {
                    code += "." + slug;
                }
            }
            else if (context.HttpContext.Items[ReasonItem] is string reason)
            {
                code += "." + reason;
            }

            problem.Extensions["code"] = code;
        }

        if (problem is HttpValidationProblemDetails { Errors.Count: > 0 } withReasons)
        {
            problem.Extensions["errorsEn"] = withReasons.Errors.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
            foreach (var field in withReasons.Errors.Keys.ToList())
            {
                withReasons.Errors[field] = withReasons.Errors[field].Select(ValidationReasons.ToChinese).ToArray();
            }
        }

        problem.Extensions["titleEn"] = problem.Title;
        problem.Title = title;
        problem.Extensions["detailEn"] = problem.Detail;
        problem.Detail = context.HttpContext.Items[ChineseDetailItem] as string ?? detail;
        problem.Extensions["traceId"] = Activity.Current?.TraceId.ToHexString() ?? context.HttpContext.TraceIdentifier;
    }

    /// <summary>The feature a path belongs to: /api/{area}/…, /api/corps/{corpId}/{area}/…, /api/me/{area}/….</summary>
    private static string Area(HttpContext http)
    {
        var path = http.Features.Get<IStatusCodeReExecuteFeature>()?.OriginalPath ?? http.Request.Path.Value ?? "";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is not ["api", var first, ..])
        {
            return "http";
        }

        var area = first switch
        {
            "corps" when segments.Length > 3 => segments[3],
            "me" when segments.Length > 2 => segments[2],
            _ => first,
        };
        return Areas.GetValueOrDefault(area, Snake(area));
    }

    /// <summary>A field or path segment as a code part: "$.pickups[0].phone" → "pickups.phone", "expiresAt" → "expires_at".</summary>
    internal static string Snake(string name)
    {
        var text = new StringBuilder();
        var inIndex = false;
        foreach (var c in name.TrimStart('$', '.'))
        {
            if (c == '[')
            {
                inIndex = true;
            }
            else if (c == ']')
            {
                inIndex = false;
            }
            else if (!inIndex)
            {
                if (char.IsUpper(c) && text.Length > 0 && text[^1] is not ('.' or '_'))
                {
                    text.Append('_');
                }

                text.Append(c switch { '-' => '_', _ => char.ToLowerInvariant(c) });
            }
        }

        return text.Length == 0 ? "body" : text.ToString();
    }
}
