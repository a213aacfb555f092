namespace EduDing.DingTalk;

/// <summary>
/// A DingTalk refusal, from either family: the legacy errcode on HTTP 200 (<see cref="ErrCode"/> set, <see cref="Code"/>
/// its text form) or the v1.0 HTTP status with a string code. Carries what support needs: code, message, sub-code and
/// DingTalk's request id.
/// </summary>
public class DingTalkException(string api, string code, string message, string? subCode = null,
    string? requestId = null, int? httpStatus = null, long? errCode = null)
    : Exception($"DingTalk {api} failed: {code} {message}" + (subCode is null ? "" : $" (sub-code {subCode})") +
                (requestId is null ? "" : $" [request {requestId}]"))
{
    public string Api { get; } = api;

    /// <summary>The v1.0 code (e.g. "InvalidAuthentication"), or the legacy errcode as text (e.g. "90018").</summary>
    public string Code { get; } = code;

    /// <summary>The legacy errcode; null for v1.0 errors.</summary>
    public long? ErrCode { get; } = errCode;

    public string DingTalkMessage { get; } = message;

    public string? SubCode { get; } = subCode;

    public string? RequestId { get; } = requestId;

    public int? HttpStatus { get; } = httpStatus;

    /// <summary>What the refusal means for the caller: retry, refresh the token, stop, or fix a permission.</summary>
    public DingTalkErrorKind Kind => Classify(ErrCode, Code);

    internal static DingTalkErrorKind Classify(long? errCode, string code) => errCode switch
    {
        40014 or 42001 or 88 or 40001 => DingTalkErrorKind.Authentication,
        90018 => DingTalkErrorKind.AppQps,
        90002 => DingTalkErrorKind.GlobalQps,
        -1 => DingTalkErrorKind.Busy,
        90020 => DingTalkErrorKind.MonthlyQuota,
        50002 or 50004 or 60011 or 43007 or 60020 => DingTalkErrorKind.Permission,
        null => code switch
        {
            "InvalidAuthentication" or "Unauthorized" => DingTalkErrorKind.Authentication,
            "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi" or "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi"
                => DingTalkErrorKind.AppQps,
            "Forbidden.AccessDenied.QpsLimitForApi" => DingTalkErrorKind.GlobalQps,
            "Forbidden.AccessDenied.ApiCountLimitForOrg" => DingTalkErrorKind.MonthlyQuota,
            "Forbidden.AccessDenied.AccessTokenPermissionDenied" or "Forbidden.AccessDenied.IpNotInWhiteList"
                => DingTalkErrorKind.Permission,
            "systemError" or "ServiceUnavailable" => DingTalkErrorKind.Busy,
            _ => DingTalkErrorKind.Other,
        },
        _ => DingTalkErrorKind.Other,
    };
}

/// <summary>DingTalk answered with its IP-ban page; no call is made until <see cref="PausedUntil"/>.</summary>
public sealed class DingTalkIpBannedException(string api, DateTimeOffset pausedUntil, string detail)
    : DingTalkException(api, "IpBanned", $"DingTalk banned this egress IP; calls paused until {pausedUntil:O}. {detail}")
{
    public DateTimeOffset PausedUntil { get; } = pausedUntil;
}

public enum DingTalkErrorKind
{
    Other,
    Authentication,
    AppQps,
    GlobalQps,
    Busy,
    MonthlyQuota,
    Permission,
}
