using System.Text.Json;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using EduDing.Api.Features.Identity;

namespace EduDing.Api.Features.Org;

/// <summary>
/// A served corp as operators see it, with this month's event pushes against its edition's quota and how its mirror is
/// kept: "events", or "reconcile-only" once the pushes ran out (until the month turns).
/// </summary>
internal sealed record CorpDto(string CorpId, [property: CodeValues(typeof(CorpKindCode))] string Kind, string Name, DateTime? LastFullSyncAt, DateTime? SyncRequestedAt,
    long PushesThisMonth, long PushQuota, string Delivery, string? DeliveryNote, long MeteredCallsThisMonth, long MonthlyCallBudget);

internal sealed record DepartmentDto(long DeptId, string Name, long ParentDeptId);

internal sealed record EduNodeDto(long NodeId, string Name, string? Nick, long? ParentNodeId, string NodeType, int? GradeLevel,
    string? StartYear);

internal sealed record RosterGuardianDto(string UserId, string Name, string RelationCode);

internal sealed record RosterStudentDto(string UserId, string Name, string? StudentNumber, IReadOnlyList<RosterGuardianDto> Guardians);

internal sealed record RosterTeacherDto(string UserId, string Name, bool IsAdviser);

internal sealed record ClassRosterDto(string CorpId, long ClassId, string ClassName, IReadOnlyList<RosterStudentDto> Students,
    IReadOnlyList<RosterTeacherDto> Teachers);

internal sealed record PersonRoleDto(string CorpId, [property: CodeValues(typeof(Roles))] string Role, string UserId, string Name, IReadOnlyList<long> ClassIds, bool Removed);

internal sealed record PersonDto(string UnionId, IReadOnlyList<PersonRoleDto> Roles);

internal sealed record SyncRunDto(long Id, string CorpId, [property: CodeValues(typeof(OrgSyncService))] string Kind, string Trigger, [property: CodeValues(typeof(SyncRunRepository))] string Status, string Phase, DateTime StartedAt,
    DateTime UpdatedAt, DateTime? FinishedAt, IReadOnlyDictionary<string, long> Counts, IReadOnlyDictionary<string, long> Calls,
    string? Note, string? Error)
{
    public static SyncRunDto From(SyncRun r) => new(r.Id, r.CorpId, r.Kind, r.TriggerReason, r.Status, r.Phase, r.StartedAt,
        r.UpdatedAt, r.FinishedAt, JsonSerializer.Deserialize<Dictionary<string, long>>(r.Counts) ?? [],
        JsonSerializer.Deserialize<Dictionary<string, long>>(r.Calls) ?? [], r.Note, r.Error);
}

internal sealed record SyncRequestedDto(string CorpId, DateTime RequestedAt);

internal sealed record InboxEventDto(long Id, string CorpId, string EventKey, string EventType,
    [property: CodeValues(typeof(EventSource))] string Source, [property: CodeValues(typeof(InboxStatus))] string Status,
    DateTime ReceivedAt, int Attempts, DateTime? NextAttemptAt, DateTime? ProcessedAt, DateTime? ParkedAt, string? LastError)
{
    public static InboxEventDto From(InboxEventView e) => new(e.Id, e.CorpId, e.EventKey, e.EventType, e.Source, e.Status, e.ReceivedAt,
        e.Attempts, e.NextAttemptAt, e.ProcessedAt, e.ParkedAt, e.LastError);
}

internal sealed record ReplayedDto(int Replayed);

/// <remarks>
/// The raw mirror of DingTalk organizations, for the operators of the deployment (system-admin) until role-scoped
/// access lands with login: it lists identifiable people of every school.
/// </remarks>
internal static class OrgEndpoints
{
    public static RouteGroupBuilder MapOrgEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/org").WithTags("Org").RequireAuthorization(Policies.SystemAdmin);
        group.MapGet("/corps", ListCorpsAsync).RequireAudience(Audience.SystemAdmin).WithName("Org_ListCorps");
        group.MapGet("/corps/{corpId}/departments", ListDepartmentsAsync).RequireAudience(Audience.SystemAdmin).WithName("Org_ListDepartments");
        group.MapGet("/corps/{corpId}/edu-nodes", ListEduNodesAsync).RequireAudience(Audience.SystemAdmin).WithName("Org_ListEduNodes");
        group.MapGet("/corps/{corpId}/classes/{classId:long}/roster", GetRosterAsync).RequireAudience(Audience.SystemAdmin).WithName("Org_GetClassRoster");
        group.MapPost("/corps/{corpId}/sync", RequestSyncAsync).RequireAudience(Audience.SystemAdmin).WithName("Org_RequestSync");
        group.MapGet("/persons/{unionId}", FindPersonAsync).RequireAudience(Audience.SystemAdmin).WithName("Org_FindPerson");
        group.MapGet("/sync-runs", ListRunsAsync).RequireAudience(Audience.SystemAdmin).WithName("Org_ListSyncRuns");
        group.MapGet("/sync-runs/{id:long}", GetRunAsync).RequireAudience(Audience.SystemAdmin).WithName("Org_GetSyncRun");
        group.MapGet("/events", ListEventsAsync).RequireAudience(Audience.SystemAdmin).WithName("Org_ListEvents");
        group.MapPost("/events/{id:long}/replay", ReplayEventAsync).RequireAudience(Audience.SystemAdmin).WithName("Org_ReplayEvent");
        group.MapPost("/corps/{corpId}/events/replay", ReplayCorpEventsAsync).RequireAudience(Audience.SystemAdmin).WithName("Org_ReplayCorpEvents");
        return group;
    }

    /// <summary>The event inbox by status (pending, parked, unhandled, processed; all by default), newest first.</summary>
    private static async Task<Ok<Paged<InboxEventDto>>> ListEventsAsync(string? corpId, string? status, int? page, int? pageSize,
        EventInbox inbox, CancellationToken ct)
    {
        if (status is not (null or InboxStatus.Pending or InboxStatus.Parked or InboxStatus.Unhandled or InboxStatus.Processed))
        {
            throw new RequestValidationException("status", "must be pending, parked, unhandled or processed");
        }

        var paging = PageRequest.From(page, pageSize);
        var (items, total) = await inbox.ListAsync(corpId, status, paging.Skip, paging.PageSize, ct);
        return TypedResults.Ok(new Paged<InboxEventDto>(items.Select(InboxEventDto.From).ToList(), paging.Page, paging.PageSize, total));
    }

    /// <summary>Puts one parked event back in line (404 when no parked event has that id).</summary>
    private static async Task<Ok<ReplayedDto>> ReplayEventAsync(long id, EventInbox inbox, CancellationToken ct) =>
        await inbox.ReplayAsync(id, null, ct) is var n and > 0
            ? TypedResults.Ok(new ReplayedDto(n))
            : throw new NotFoundException($"No parked event {id}.");

    /// <summary>Puts every parked event of a corp back in line.</summary>
    private static async Task<Ok<ReplayedDto>> ReplayCorpEventsAsync(string corpId, CorpDirectory corps, EventInbox inbox, CancellationToken ct)
    {
        if (corps.Find(corpId) is null)
        {
            throw new NotFoundException($"Corp {corpId} is not served by this deployment.");
        }

        return TypedResults.Ok(new ReplayedDto(await inbox.ReplayAsync(null, corpId, ct)));
    }

    /// <summary>Every corp with its sync and this month's DingTalk usage (Asia/Shanghai): event pushes and metered calls against their quotas.</summary>
    private static async Task<Ok<IReadOnlyList<CorpDto>>> ListCorpsAsync(OrgRepository org, PushBudget pushes, CallUsageTracker usage,
        IOptions<OrgSyncOptions> options, CancellationToken ct)
    {
        var result = new List<CorpDto>();
        foreach (var c in await org.ListCorpsAsync(ct))
        {
            var state = await pushes.StateAsync(c.CorpId, ct);
            result.Add(new CorpDto(c.CorpId, c.Kind, c.Name, c.LastFullSyncAt, c.SyncRequestedAt, state.PushesThisMonth, state.MonthlyQuota,
                state.ReconcileOnly ? "reconcile-only" : "events", state.Reason, await usage.MeteredThisMonthAsync(c.CorpId, ct),
                options.Value.MonthlyCallBudget));
        }

        return TypedResults.Ok<IReadOnlyList<CorpDto>>(result);
    }

    private static async Task<Ok<IReadOnlyList<DepartmentDto>>> ListDepartmentsAsync(string corpId, CorpDirectory corps,
        OrgRepository org, CancellationToken ct)
    {
        corps.Get(corpId);
        return TypedResults.Ok<IReadOnlyList<DepartmentDto>>((await org.ListDepartmentsAsync(corpId, ct))
            .Select(d => new DepartmentDto(d.DeptId, d.Name, d.ParentDeptId)).ToList());
    }

    private static async Task<Ok<IReadOnlyList<EduNodeDto>>> ListEduNodesAsync(string corpId, CorpDirectory corps,
        OrgRepository org, CancellationToken ct)
    {
        corps.Get(corpId);
        return TypedResults.Ok<IReadOnlyList<EduNodeDto>>((await org.ListEduNodesAsync(corpId, ct))
            .Select(n => new EduNodeDto(n.NodeId, n.Name, n.Nick, n.ParentNodeId, n.NodeType, n.GradeLevel, n.StartYear)).ToList());
    }

    private static async Task<Ok<ClassRosterDto>> GetRosterAsync(string corpId, long classId, CorpDirectory corps,
        OrgRepository org, OrgDirectory directory, AuditLog audit, System.Security.Claims.ClaimsPrincipal user, CancellationToken ct)
    {
        corps.Get(corpId);
        var node = (await org.ListEduNodesAsync(corpId, ct)).FirstOrDefault(n => n.NodeId == classId && n.NodeType == "class")
                   ?? throw new NotFoundException($"No class {classId} in corp {corpId}.");
        var (students, guardians, teachers) = await directory.ClassRosterAsync(corpId, classId, ct);
        // The roster names children: an identifiable read, audited like any other.
        await audit.WriteAsync("operator", user.FindFirst("sub")?.Value ?? "unknown", "org.roster.read", corpId,
            students.Select(s => s.UserId), $"operator view of class {classId}", AuditLog.Allowed, ct);
        return TypedResults.Ok(new ClassRosterDto(corpId, classId, node.Name,
            students.Select(s => new RosterStudentDto(s.UserId, s.Name, s.StudentNumber,
                guardians.Where(g => g.StudentUserId == s.UserId)
                    .Select(g => new RosterGuardianDto(g.GuardianUserId, g.Name, g.RelationCode)).ToList())).ToList(),
            teachers.Select(t => new RosterTeacherDto(t.UserId, t.Name, t.IsAdviser)).ToList()));
    }

    /// <summary>Asks for a full reconcile; a worker runs it (never this request). 202 with when it was asked.</summary>
    private static async Task<Accepted<SyncRequestedDto>> RequestSyncAsync(string corpId, CorpDirectory corps, OrgRepository org,
        TimeProvider time, CancellationToken ct)
    {
        corps.Get(corpId);
        var now = time.UtcNowForDatabase();
        if (!await org.RequestSyncAsync(corpId, now, ct))
        {
            throw new ConflictException($"Corp {corpId} has not been registered yet; the first reconcile does that. Try again shortly.", "该组织尚未完成首次同步，请稍后再试。", reason: "corp_not_registered");
        }

        return TypedResults.Accepted($"/api/org/sync-runs?corpId={Uri.EscapeDataString(corpId)}", new SyncRequestedDto(corpId, now));
    }

    private static async Task<Ok<PersonDto>> FindPersonAsync(string unionId, OrgRepository org, CancellationToken ct)
    {
        var rows = await org.FindPersonAsync(unionId, ct);
        if (rows.Count == 0)
        {
            throw new NotFoundException($"Nobody with unionid {unionId} is in the synced organizations.");
        }

        return TypedResults.Ok(new PersonDto(unionId, rows.GroupBy(r => (r.CorpId, r.Role, r.UserId))
            .Select(g => new PersonRoleDto(g.Key.CorpId, g.Key.Role, g.Key.UserId, g.First().Name,
                g.Where(r => r.ClassId is not null).Select(r => r.ClassId!.Value).Distinct().ToList(), g.First().RemovedAt is not null))
            .ToList()));
    }

    private static async Task<Ok<Paged<SyncRunDto>>> ListRunsAsync(string? corpId, int? page, int? pageSize, SyncRunRepository runs,
        CancellationToken ct)
    {
        var request = PageRequest.From(page, pageSize);
        var (items, total) = await runs.ListAsync(corpId, request.Skip, request.PageSize, ct);
        return TypedResults.Ok(new Paged<SyncRunDto>(items.Select(SyncRunDto.From).ToList(), request.Page, request.PageSize, total));
    }

    private static async Task<Ok<SyncRunDto>> GetRunAsync(long id, SyncRunRepository runs, CancellationToken ct) =>
        TypedResults.Ok(SyncRunDto.From(await runs.FindAsync(id, ct) ?? throw new NotFoundException($"No sync run {id}.")));
}
