namespace EduDing.DingTalk;

public enum DingTalkFamily
{
    /// <summary>oapi.dingtalk.com: token in the query, errcode on HTTP 200.</summary>
    Oapi,

    /// <summary>api.dingtalk.com/v1.0: token in a header, HTTP status plus code.</summary>
    Api,
}

/// <summary>One DingTalk endpoint. <see cref="QuotaExempt"/> marks the calls outside the monthly quota (§10c).</summary>
public sealed record DingTalkApi(string Name, DingTalkFamily Family, string Method, string Path, bool QuotaExempt)
{
    public override string ToString() => Name;
}

/// <summary>Every endpoint the client calls (contract §1–§9).</summary>
public static class DingTalkApis
{
    public static readonly DingTalkApi AccessToken = new("oauth2/accessToken", DingTalkFamily.Api, "POST", "v1.0/oauth2/accessToken", true);

    public static readonly DingTalkApi GetUserInfo = new("user/getuserinfo", DingTalkFamily.Oapi, "POST", "topapi/v2/user/getuserinfo", true);
    public static readonly DingTalkApi GetUser = new("user/get", DingTalkFamily.Oapi, "POST", "topapi/v2/user/get", true);

    public static readonly DingTalkApi ListSubDepartments = new("department/listsub", DingTalkFamily.Oapi, "POST", "topapi/v2/department/listsub", true);
    public static readonly DingTalkApi ListSubDepartmentIds = new("department/listsubid", DingTalkFamily.Oapi, "POST", "topapi/v2/department/listsubid", true);
    public static readonly DingTalkApi GetDepartment = new("department/get", DingTalkFamily.Oapi, "POST", "topapi/v2/department/get", true);
    public static readonly DingTalkApi ListUsers = new("user/list", DingTalkFamily.Oapi, "POST", "topapi/v2/user/list", true);
    public static readonly DingTalkApi ListUserIds = new("user/listid", DingTalkFamily.Oapi, "POST", "topapi/user/listid", true);

    public static readonly DingTalkApi EduListDepts = new("edu/dept/list", DingTalkFamily.Oapi, "POST", "topapi/edu/dept/list", false);
    public static readonly DingTalkApi EduGetDept = new("edu/dept/get", DingTalkFamily.Oapi, "POST", "topapi/edu/dept/get", false);
    public static readonly DingTalkApi EduListUsers = new("edu/user/list", DingTalkFamily.Oapi, "POST", "topapi/edu/user/list", false);
    public static readonly DingTalkApi EduGetUser = new("edu/user/get", DingTalkFamily.Oapi, "POST", "topapi/edu/user/get", false);
    public static readonly DingTalkApi EduListRelations = new("edu/user/relation/list", DingTalkFamily.Oapi, "POST", "topapi/edu/user/relation/list", false);

    public static readonly DingTalkApi SendWorkNotice = new("message/asyncsend_v2", DingTalkFamily.Oapi, "POST", "topapi/message/corpconversation/asyncsend_v2", false);
    public static readonly DingTalkApi GetSendProgress = new("message/getsendprogress", DingTalkFamily.Oapi, "POST", "topapi/message/corpconversation/getsendprogress", false);
    public static readonly DingTalkApi GetSendResult = new("message/getsendresult", DingTalkFamily.Oapi, "POST", "topapi/message/corpconversation/getsendresult", false);
    public static readonly DingTalkApi RecallWorkNotice = new("message/recall", DingTalkFamily.Oapi, "POST", "topapi/message/corpconversation/recall", false);

    public static readonly DingTalkApi CreateProcessInstance = new("workflow/processInstances/create", DingTalkFamily.Api, "POST", "v1.0/workflow/processInstances", false);
    public static readonly DingTalkApi GetProcessInstance = new("workflow/processInstances/get", DingTalkFamily.Api, "GET", "v1.0/workflow/processInstances", false);

    public static readonly DingTalkApi GetFailedCallbacks = new("call_back/get_call_back_failed_result", DingTalkFamily.Oapi, "GET", "call_back/get_call_back_failed_result", false);

    public static readonly DingTalkApi OpenStreamConnection = new("gateway/connections/open", DingTalkFamily.Api, "POST", "v1.0/gateway/connections/open", true);
}
