using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace EduDing.DingTalk;

/// <summary>
/// One HTTP exchange with DingTalk and the reading of its reply in either family's shape (§0): the legacy errcode on
/// HTTP 200, the v1.0 status plus code, and the IP-ban page (HTML, or status 1111) that has neither.
/// </summary>
internal sealed class DingTalkTransport(Func<HttpClient> httpClient, IOptions<DingTalkClientOptions> options)
{
    public const string TokenHeader = "x-acs-dingtalk-access-token";

    public async Task<T> SendAsync<T>(DingTalkApp app, DingTalkApi api, string? accessToken, object? body,
        CancellationToken ct, IReadOnlyDictionary<string, string>? query = null)
    {
        var jsonOptions = api.Family == DingTalkFamily.Oapi ? DingTalkJson.Oapi : DingTalkJson.Api;
        using var request = new HttpRequestMessage(new HttpMethod(api.Method), BuildUri(api, accessToken, query));
        if (api.Family == DingTalkFamily.Api && accessToken is not null)
        {
            request.Headers.Add(TokenHeader, accessToken);
        }

        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body, jsonOptions), Encoding.UTF8,
                "application/json");
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.RequestTimeout);
        HttpResponseMessage response;
        string text;
        try
        {
            response = await httpClient().SendAsync(request, timeout.Token);
            text = await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"DingTalk {api} did not answer within {options.Value.RequestTimeout.TotalSeconds:0} s.");
        }

        using (response)
        {
            return Read<T>(api, response, text, jsonOptions);
        }
    }

    private Uri BuildUri(DingTalkApi api, string? accessToken, IReadOnlyDictionary<string, string>? query)
    {
        var baseUrl = api.Family == DingTalkFamily.Oapi ? options.Value.OapiBaseUrl : options.Value.ApiBaseUrl;
        var parts = new List<string>();
        if (api.Family == DingTalkFamily.Oapi && accessToken is not null)
        {
            parts.Add("access_token=" + Uri.EscapeDataString(accessToken));
        }

        if (query is not null)
        {
            parts.AddRange(query.Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value)}"));
        }

        var relative = api.Path + (parts.Count == 0 ? "" : "?" + string.Join('&', parts));
        return new Uri(EnsureTrailingSlash(baseUrl), relative);
    }

    private static Uri EnsureTrailingSlash(Uri uri) =>
        uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");

    private static T Read<T>(DingTalkApi api, HttpResponseMessage response, string text, JsonSerializerOptions jsonOptions)
    {
        var requestIdHeader = response.Headers.TryGetValues("x-acs-request-id", out var ids) ? ids.FirstOrDefault() : null;
        if (LooksLikeHtml(response, text))
        {
            throw new IpBanReplyException($"HTTP {(int)response.StatusCode} with an HTML page");
        }

        JsonNode? root;
        try
        {
            root = string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw new DingTalkException(api.Name, ((int)response.StatusCode).ToString(),
                $"Unreadable reply (HTTP {(int)response.StatusCode}).", requestId: requestIdHeader,
                httpStatus: (int)response.StatusCode, errCode: (int)response.StatusCode >= 500 ? -1 : null);
        }

        if (root is JsonObject obj && obj["status"] is JsonValue status && status.ToString() == "1111" && obj["errcode"] is null)
        {
            throw new IpBanReplyException(text.Length > 200 ? text[..200] : text);
        }

        if (api.Family == DingTalkFamily.Oapi)
        {
            var errCode = ReadLong(root?["errcode"]);
            if (errCode is not null && errCode != 0)
            {
                throw new DingTalkException(api.Name, errCode.Value.ToString(), root?["errmsg"]?.ToString() ?? "",
                    (root?["sub_code"] ?? root?["subCode"])?.ToString(),
                    (root?["request_id"] ?? root?["requestid"])?.ToString() ?? requestIdHeader,
                    (int)response.StatusCode, errCode);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new DingTalkException(api.Name, ((int)response.StatusCode).ToString(),
                    $"HTTP {(int)response.StatusCode}", requestId: requestIdHeader, httpStatus: (int)response.StatusCode,
                    errCode: (int)response.StatusCode >= 500 ? -1 : null);
            }
        }
        else if (!response.IsSuccessStatusCode)
        {
            throw new DingTalkException(api.Name, root?["code"]?.ToString() ?? ((int)response.StatusCode).ToString(),
                root?["message"]?.ToString() ?? $"HTTP {(int)response.StatusCode}",
                requestId: (root?["requestid"] ?? root?["requestId"])?.ToString() ?? requestIdHeader,
                httpStatus: (int)response.StatusCode);
        }

        return root is null
            ? throw new DingTalkException(api.Name, "EmptyReply", "DingTalk answered with an empty body.")
            : root.Deserialize<T>(jsonOptions)!;
    }

    private static bool LooksLikeHtml(HttpResponseMessage response, string text) =>
        response.Content.Headers.ContentType?.MediaType is "text/html" ||
        text.AsSpan().TrimStart().StartsWith("<", StringComparison.Ordinal);

    private static long? ReadLong(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when long.TryParse(v.ToString(), out var parsed) => parsed,
        _ => null,
    };
}

/// <summary>The reply was DingTalk's IP-ban page; the client turns it into a pause.</summary>
internal sealed class IpBanReplyException(string detail) : Exception(detail);
