using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox.Runtime;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>
/// The sandbox's own API under /sandbox, for tests and demos: who is in it (with each app's credentials), 免登 codes,
/// mutations that emit events, approval decisions, read marks, limits and faults, and counters.
/// </summary>
public static class SandboxAdminEndpoints
{
    public sealed record AuthCodeRequest(string CorpId, string UserId);

    public sealed record CallbackRequest(Uri Url, bool Verify = true);

    public sealed record UserRequest(string Name, long[] DeptIds, string? Title);

    public sealed record UserUpdateRequest(string? Name, string? Title, string? Mobile);

    public sealed record MoveRequest(long[] DeptIds);

    public sealed record DeptRequest(string Name, long ParentId);

    public sealed record ClassRequest(long GradeId, string Name);

    public sealed record StudentRequest(string Name, bool WithUnionId = true, string? UnionId = null);

    public sealed record StudentMoveRequest(long FromClassId, long ToClassId);

    public sealed record GuardianRequest(string StudentId, string Name, string RelationCode, string? UnionId);

    public sealed record DecisionRequest(string UserId, string? Remark);

    public sealed record ReadRequest(string UserId);

    public sealed record FaultsRequest(double? QpsPerApi, double? TransientErrorRate, double? GlobalQpsErrorRate,
        long? MonthlyQuota, int? LatencyMs, double? PushFailureRate, double? PushDuplicateRate, double? StreamDuplicateRate,
        int? RecipientsPerMinute, bool? ClearMonthlyQuota);

    public static IEndpointRouteBuilder MapSandboxAdmin(this IEndpointRouteBuilder app, DingTalkSandbox sandbox)
    {
        var group = app.MapGroup("/sandbox");
        var mutate = sandbox.Mutate;

        group.MapGet("/corps", () =>
        {
            lock (sandbox.World.Sync)
            {
                return Results.Ok(sandbox.World.Corps.Select(c => new
                {
                    c.CorpId, c.Name, Kind = c.Kind.ToString(), c.AppKey, c.AppSecret, c.AgentId, c.CallbackToken, c.CallbackAesKey,
                    CallbackUrl = c.CallbackUrl?.ToString(), Staff = c.Users.Count, Classes = c.Classes.Count,
                    Students = c.Classes.Values.Sum(r => r.Students.Count),
                    Guardians = c.Classes.Values.SelectMany(r => r.Guardians).Select(g => g.UserId).Distinct().Count(),
                    SampleUsers = new
                    {
                        Admin = c.Users.Values.FirstOrDefault(u => u.Admin)?.UserId,
                        Adviser = c.Classes.Values.SelectMany(r => r.Teachers).FirstOrDefault(t => t.IsAdviser)?.UserId,
                        Guardian = c.Classes.Values.SelectMany(r => r.Guardians).FirstOrDefault()?.UserId,
                    },
                }).ToList());
            }
        });

        group.MapPost("/auth-codes", (AuthCodeRequest r) => Guard(() => Results.Ok(new
        {
            authCode = sandbox.World.IssueAuthCode(r.CorpId, r.UserId),
            expiresIn = (int)sandbox.Options.AuthCodeLifetime.TotalSeconds,
        })));

        group.MapPut("/corps/{corpId}/callback", (string corpId, CallbackRequest r, CancellationToken ct) => GuardAsync(async () =>
        {
            await sandbox.RegisterCallbackAsync(corpId, r.Url, r.Verify, ct);
            return Results.NoContent();
        }));
        group.MapDelete("/corps/{corpId}/callback", (string corpId) => Guard(() =>
        {
            sandbox.World.GetCorp(corpId).CallbackUrl = null;
            return Results.NoContent();
        }));

        group.MapPost("/stream/{appKey}/disconnect", (string appKey) =>
        {
            sandbox.Stream.ForceDisconnect(appKey);
            return Results.Accepted();
        });

        // 通讯录
        group.MapPost("/corps/{corpId}/users", (string corpId, UserRequest r) =>
            Guard(() => Results.Ok(new { mutate.AddUser(corpId, r.Name, r.DeptIds, r.Title).UserId })));
        group.MapPatch("/corps/{corpId}/users/{userId}", (string corpId, string userId, UserUpdateRequest r) =>
            Guard(() => Done(() => mutate.UpdateUser(corpId, userId, r.Name, r.Title, r.Mobile))));
        group.MapPost("/corps/{corpId}/users/{userId}/move", (string corpId, string userId, MoveRequest r) =>
            Guard(() => Done(() => mutate.MoveUser(corpId, userId, r.DeptIds))));
        group.MapDelete("/corps/{corpId}/users/{userId}", (string corpId, string userId) =>
            Guard(() => Done(() => mutate.RemoveUser(corpId, userId))));
        group.MapPost("/corps/{corpId}/departments", (string corpId, DeptRequest r) =>
            Guard(() => Results.Ok(new { DeptId = mutate.AddDepartment(corpId, r.Name, r.ParentId).Id })));
        group.MapPost("/corps/{corpId}/departments/{deptId:long}/move", (string corpId, long deptId, DeptRequest r) =>
            Guard(() => Done(() => mutate.MoveDepartment(corpId, deptId, r.ParentId))));
        group.MapDelete("/corps/{corpId}/departments/{deptId:long}", (string corpId, long deptId) =>
            Guard(() => Done(() => mutate.RemoveDepartment(corpId, deptId))));

        // 家校
        group.MapPost("/corps/{corpId}/edu/classes", (string corpId, ClassRequest r) =>
            Guard(() => Results.Ok(new { ClassId = mutate.AddClass(corpId, r.GradeId, r.Name).Id })));
        group.MapPost("/corps/{corpId}/edu/classes/{classId:long}/students", (string corpId, long classId, StudentRequest r) =>
            Guard(() => Results.Ok(new { mutate.AddStudent(corpId, classId, r.Name, r.WithUnionId, r.UnionId).UserId })));
        group.MapPost("/corps/{corpId}/edu/students/{studentId}/move", (string corpId, string studentId, StudentMoveRequest r) =>
            Guard(() => Done(() => mutate.MoveStudent(corpId, r.FromClassId, studentId, r.ToClassId))));
        group.MapDelete("/corps/{corpId}/edu/classes/{classId:long}/students/{studentId}", (string corpId, long classId, string studentId) =>
            Guard(() => Done(() => mutate.RemoveStudent(corpId, classId, studentId))));
        group.MapPost("/corps/{corpId}/edu/classes/{classId:long}/guardians", (string corpId, long classId, GuardianRequest r) =>
            Guard(() => Results.Ok(new { mutate.AddGuardian(corpId, classId, r.StudentId, r.Name, r.RelationCode, r.UnionId).UserId })));
        group.MapDelete("/corps/{corpId}/edu/classes/{classId:long}/guardians/{guardianId}", (string corpId, long classId, string guardianId, string studentId) =>
            Guard(() => Done(() => mutate.RemoveGuardian(corpId, classId, guardianId, studentId))));
        group.MapPost("/corps/{corpId}/edu/classes/{classId:long}/graduate", (string corpId, long classId) =>
            Guard(() => Done(() => mutate.GraduateClass(corpId, classId))));

        // 审批
        group.MapPost("/approvals/{instanceId}/approve", (string instanceId, DecisionRequest r) =>
            Guard(() => Done(() => sandbox.Publish(Locked(sandbox, () => sandbox.Approvals.Decide(instanceId, r.UserId, true, r.Remark))))));
        group.MapPost("/approvals/{instanceId}/refuse", (string instanceId, DecisionRequest r) =>
            Guard(() => Done(() => sandbox.Publish(Locked(sandbox, () => sandbox.Approvals.Decide(instanceId, r.UserId, false, r.Remark))))));
        group.MapPost("/approvals/{instanceId}/terminate", (string instanceId) =>
            Guard(() => Done(() => sandbox.Publish(Locked(sandbox, () => sandbox.Approvals.Terminate(instanceId))))));

        // 工作通知
        group.MapPost("/messages/{taskId:long}/read", (long taskId, ReadRequest r) =>
            sandbox.Notices.MarkRead(taskId, r.UserId) ? Results.NoContent() : Results.NotFound());
        group.MapGet("/messages/delivered", (string corpId, string userId) =>
            Results.Ok(new { delivered = sandbox.Notices.DeliveredTo(corpId, userId) }));

        // Limits, faults, counters
        group.MapPost("/faults", (FaultsRequest r) =>
        {
            var o = sandbox.Options;
            o.QpsPerApi = r.QpsPerApi ?? o.QpsPerApi;
            o.TransientErrorRate = r.TransientErrorRate ?? o.TransientErrorRate;
            o.GlobalQpsErrorRate = r.GlobalQpsErrorRate ?? o.GlobalQpsErrorRate;
            o.MonthlyQuota = r.ClearMonthlyQuota == true ? null : r.MonthlyQuota ?? o.MonthlyQuota;
            o.Latency = r.LatencyMs is { } ms ? TimeSpan.FromMilliseconds(ms) : o.Latency;
            o.PushFailureRate = r.PushFailureRate ?? o.PushFailureRate;
            o.PushDuplicateRate = r.PushDuplicateRate ?? o.PushDuplicateRate;
            o.StreamDuplicateRate = r.StreamDuplicateRate ?? o.StreamDuplicateRate;
            o.RecipientsPerMinute = r.RecipientsPerMinute ?? o.RecipientsPerMinute;
            return Results.NoContent();
        });
        group.MapPost("/ip-ban", () =>
        {
            sandbox.Limits.BanIpNow();
            return Results.NoContent();
        });
        group.MapDelete("/ip-ban", () =>
        {
            sandbox.Limits.LiftIpBan();
            return Results.NoContent();
        });
        group.MapGet("/counters", () => Results.Ok(new
        {
            callsPerApi = new SortedDictionary<string, long>(sandbox.Limits.CallsPerApi),
            faults = new SortedDictionary<string, long>(sandbox.Limits.FaultsPerKind),
            events = sandbox.Counters.Snapshot(),
            droppedMessages = sandbox.Notices.DroppedCount(),
        }));
        return app;
    }

    private static T Locked<T>(DingTalkSandbox sandbox, Func<T> action)
    {
        lock (sandbox.World.Sync)
        {
            return action();
        }
    }

    private static IResult Done(Action action)
    {
        action();
        return Results.NoContent();
    }

    private static IResult Guard(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (SandboxRequestException ex)
        {
            return Refused(ex);
        }
    }

    private static async Task<IResult> GuardAsync(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (SandboxRequestException ex)
        {
            return Refused(ex);
        }
    }

    private static IResult Refused(SandboxRequestException ex) =>
        Results.Json(new JsonObject { ["errcode"] = ex.ErrCode, ["code"] = ex.ApiCode, ["errmsg"] = ex.Message },
            statusCode: StatusCodes.Status400BadRequest);
}
