using System.Text;
using System.Text.Json.Nodes;
using EduDing.DingTalk.Models;

namespace EduDing.DingTalk;

public sealed partial class DingTalkClient
{
    /// <summary>user/list pages hold at most 100 users (§3d).</summary>
    public const int UserPageSize = 100;

    /// <summary>家校 lists page at most 30 (§4).</summary>
    public const int EduPageSize = 30;

    /// <summary>asyncsend_v2 takes at most 100 userids per call (§5a).</summary>
    public const int WorkNoticeBatchSize = 100;

    public const int WorkNoticeMessageMaxBytes = 2048;

    // ---- 免登 (§2) ----

    /// <summary>Exchanges a mini-app auth code (5 minutes, single use) for who the user is; 40078 when it is not valid.</summary>
    public async Task<UserInfo> GetUserInfoAsync(DingTalkApp app, string authCode, CancellationToken ct) =>
        (await CallAsync<OapiResult<UserInfo>>(app, DingTalkApis.GetUserInfo, new { code = authCode }, ct)).Result;

    public async Task<UserDetail> GetUserAsync(DingTalkApp app, string userId, CancellationToken ct) =>
        (await CallAsync<OapiResult<UserDetail>>(app, DingTalkApis.GetUser, new { userid = userId, language = "zh_CN" }, ct)).Result;

    // ---- 通讯录 (§3) ----

    public async Task<IReadOnlyList<DepartmentSummary>> ListSubDepartmentsAsync(DingTalkApp app, long deptId,
        CancellationToken ct) =>
        (await CallAsync<OapiResult<List<DepartmentSummary>>>(app, DingTalkApis.ListSubDepartments,
            new { dept_id = deptId, language = "zh_CN" }, ct)).Result;

    public async Task<IReadOnlyList<long>> ListSubDepartmentIdsAsync(DingTalkApp app, long deptId, CancellationToken ct) =>
        (await CallAsync<OapiResult<DeptIdListResult>>(app, DingTalkApis.ListSubDepartmentIds, new { dept_id = deptId }, ct))
        .Result.DeptIdList;

    public async Task<DepartmentDetail> GetDepartmentAsync(DingTalkApp app, long deptId, CancellationToken ct) =>
        (await CallAsync<OapiResult<DepartmentDetail>>(app, DingTalkApis.GetDepartment,
            new { dept_id = deptId, language = "zh_CN" }, ct)).Result;

    public async Task<DepartmentUserPage> ListUsersPageAsync(DingTalkApp app, long deptId, long cursor,
        CancellationToken ct, int size = UserPageSize) =>
        (await CallAsync<OapiResult<DepartmentUserPage>>(app, DingTalkApis.ListUsers,
            new { dept_id = deptId, cursor, size, order_field = "custom", contain_access_limit = false, language = "zh_CN" },
            ct)).Result;

    /// <summary>Every user of one department (not its sub-departments), paging by cursor to the last page.</summary>
    public async Task<IReadOnlyList<DepartmentUser>> ListAllUsersAsync(DingTalkApp app, long deptId, CancellationToken ct)
    {
        var users = new List<DepartmentUser>();
        long cursor = 0;
        while (true)
        {
            var page = await ListUsersPageAsync(app, deptId, cursor, ct);
            users.AddRange(page.List);
            if (!page.HasMore)
            {
                return users;
            }

            if (page.NextCursor is not { } next || next <= cursor)
            {
                throw new DingTalkException(DingTalkApis.ListUsers.Name, "BadCursor",
                    $"has_more without an advancing next_cursor in dept {deptId} (cursor {cursor}, next {page.NextCursor}).");
            }

            cursor = next;
        }
    }

    public async Task<IReadOnlyList<string>> ListUserIdsAsync(DingTalkApp app, long deptId, CancellationToken ct) =>
        (await CallAsync<OapiResult<UserIdList>>(app, DingTalkApis.ListUserIds, new { dept_id = deptId }, ct))
        .Result.UseridList;

    // ---- 家校通讯录 (§4) ----

    /// <summary>One page of the child nodes of <paramref name="superId"/>; null asks for the first level.</summary>
    public async Task<EduDeptPage> ListEduDeptsPageAsync(DingTalkApp app, long? superId, int pageNo,
        CancellationToken ct, int pageSize = EduPageSize) =>
        (await CallAsync<OapiResult<EduDeptPage>>(app, DingTalkApis.EduListDepts,
            new { page_size = pageSize, page_no = pageNo, super_id = superId }, ct)).Result;

    public Task<IReadOnlyList<EduDept>> ListAllEduDeptsAsync(DingTalkApp app, long? superId, CancellationToken ct) =>
        ReadAllPagesAsync(DingTalkApis.EduListDepts, async (pageNo, token) =>
        {
            var page = await ListEduDeptsPageAsync(app, superId, pageNo, token);
            return (page.Details, page.HasMore);
        }, ct);

    public async Task<EduDept> GetEduDeptAsync(DingTalkApp app, long deptId, CancellationToken ct) =>
        (await CallAsync<OapiResult<EduDeptDetail>>(app, DingTalkApis.EduGetDept, new { dept_id = deptId }, ct))
        .Result.Detail;

    public async Task<EduUserPage> ListEduUsersPageAsync(DingTalkApp app, long classId, string role, int pageNo,
        CancellationToken ct, int pageSize = EduPageSize) =>
        (await CallAsync<OapiResult<EduUserPage>>(app, DingTalkApis.EduListUsers,
            new { page_size = pageSize, page_no = pageNo, role, class_id = classId }, ct)).Result;

    /// <summary>Everyone with <paramref name="role"/> (teacher, guardian, student) in a class, every page.</summary>
    public Task<IReadOnlyList<EduUser>> ListAllEduUsersAsync(DingTalkApp app, long classId, string role,
        CancellationToken ct) =>
        ReadAllPagesAsync(DingTalkApis.EduListUsers, async (pageNo, token) =>
        {
            var page = await ListEduUsersPageAsync(app, classId, role, pageNo, token);
            return (page.Details, page.HasMore);
        }, ct);

    public async Task<IReadOnlyList<EduUser>> GetEduUserAsync(DingTalkApp app, long classId, string role, string userId,
        CancellationToken ct) =>
        (await CallAsync<OapiResult<EduUserDetails>>(app, DingTalkApis.EduGetUser,
            new { class_id = classId, role, userid = userId }, ct)).Result.Details;

    public async Task<EduRelationPage> ListEduRelationsPageAsync(DingTalkApp app, long classId, int pageNo,
        CancellationToken ct, int pageSize = EduPageSize) =>
        (await CallAsync<OapiResult<EduRelationPage>>(app, DingTalkApis.EduListRelations,
            new { page_no = pageNo, page_size = pageSize, class_id = classId }, ct)).Result;

    public Task<IReadOnlyList<EduRelation>> ListAllEduRelationsAsync(DingTalkApp app, long classId, CancellationToken ct) =>
        ReadAllPagesAsync(DingTalkApis.EduListRelations, async (pageNo, token) =>
        {
            var page = await ListEduRelationsPageAsync(app, classId, pageNo, token);
            return (page.Relations, page.HasMore);
        }, ct);

    // ---- 工作通知 (§5) ----

    /// <summary>
    /// Sends one work notice to at most 100 users, after waiting for room in the app's per-minute recipient budget.
    /// DingTalk answers errcode 0 even when it drops a message for a limit; check <see cref="GetSendResultAsync"/>.
    /// </summary>
    public async Task<long> SendWorkNoticeAsync(DingTalkApp app, IReadOnlyCollection<string> userIds, JsonObject message,
        CancellationToken ct)
    {
        if (userIds.Count is 0 or > WorkNoticeBatchSize)
        {
            throw new ArgumentOutOfRangeException(nameof(userIds), userIds.Count,
                $"A work notice goes to 1 to {WorkNoticeBatchSize} userids per call.");
        }

        var size = Encoding.UTF8.GetByteCount(message.ToJsonString());
        if (size > WorkNoticeMessageMaxBytes)
        {
            throw new ArgumentException($"The message is {size} bytes; DingTalk takes at most {WorkNoticeMessageMaxBytes}.",
                nameof(message));
        }

        using var budget = await _limits.AcquireRecipientsAsync(app, userIds.Count, ct);
        var response = await CallAsync<SendWorkNoticeResponse>(app, DingTalkApis.SendWorkNotice,
            new { agent_id = app.AgentId, userid_list = string.Join(',', userIds), msg = message }, ct);
        return response.TaskId;
    }

    public async Task<SendProgress> GetSendProgressAsync(DingTalkApp app, long taskId, CancellationToken ct) =>
        (await CallAsync<SendProgressResponse>(app, DingTalkApis.GetSendProgress,
            new { agent_id = app.AgentId, task_id = taskId }, ct)).Progress;

    /// <summary>Per-recipient outcome of a task; DingTalk refuses tasks with more than 100 recipients and tasks older than 24 h.</summary>
    public async Task<SendResult> GetSendResultAsync(DingTalkApp app, long taskId, CancellationToken ct) =>
        (await CallAsync<SendResultResponse>(app, DingTalkApis.GetSendResult,
            new { agent_id = app.AgentId, task_id = taskId }, ct)).SendResult;

    /// <summary>Recalls a sent notice within 24 h; note DingTalk names the id msg_task_id here.</summary>
    public Task RecallWorkNoticeAsync(DingTalkApp app, long taskId, CancellationToken ct) =>
        CallAsync<JsonObject>(app, DingTalkApis.RecallWorkNotice, new { agent_id = app.AgentId, msg_task_id = taskId }, ct);

    // ---- 审批 (§6) ----

    public async Task<string> CreateProcessInstanceAsync(DingTalkApp app, CreateProcessInstanceRequest request,
        CancellationToken ct) =>
        (await CallAsync<CreateProcessInstanceResponse>(app, DingTalkApis.CreateProcessInstance, request, ct)).InstanceId;

    public async Task<ProcessInstance> GetProcessInstanceAsync(DingTalkApp app, string processInstanceId,
        CancellationToken ct) =>
        (await CallAsync<GetProcessInstanceResponse>(app, DingTalkApis.GetProcessInstance, null, ct,
            new Dictionary<string, string> { ["processInstanceId"] = processInstanceId })).Result;

    // ---- 推送失败的事件 (§7e) ----

    /// <summary>One page (≤200) of events DingTalk failed to push; DingTalk deletes what it returns.</summary>
    public async Task<FailedCallbackPage> GetFailedCallbacksAsync(DingTalkApp app, CancellationToken ct)
    {
        var response = await CallAsync<FailedCallbacksResponse>(app, DingTalkApis.GetFailedCallbacks, null, ct);
        var events = (response.FailedList ?? [])
            .Select(e => new FailedCallback(e["call_back_tag"]?.ToString() ?? "",
                long.TryParse(e["event_time"]?.ToString(), out var t) ? t : 0, e))
            .ToList();
        return new FailedCallbackPage(response.HasMore, events);
    }

    // ---- helpers ----

    private const int MaxPages = 100_000;

    private static async Task<IReadOnlyList<T>> ReadAllPagesAsync<T>(DingTalkApi api,
        Func<int, CancellationToken, Task<(IReadOnlyList<T> Items, bool HasMore)>> readPage, CancellationToken ct)
    {
        var all = new List<T>();
        for (var pageNo = 1; pageNo <= MaxPages; pageNo++)
        {
            var (items, hasMore) = await readPage(pageNo, ct);
            all.AddRange(items);
            if (!hasMore)
            {
                return all;
            }

            if (items.Count == 0)
            {
                throw new DingTalkException(api.Name, "BadPaging", $"has_more with an empty page {pageNo}.");
            }
        }

        throw new DingTalkException(api.Name, "BadPaging", $"more than {MaxPages} pages.");
    }

    private sealed record OapiResult<T>(T Result);

    private sealed record DeptIdListResult(IReadOnlyList<long> DeptIdList);

    private sealed record UserIdList(IReadOnlyList<string> UseridList);

    private sealed record EduDeptDetail(EduDept Detail);

    private sealed record FailedCallbacksResponse(bool HasMore, List<JsonObject>? FailedList);

    private sealed record EduUserDetails(IReadOnlyList<EduUser> Details);
}
