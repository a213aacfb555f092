using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Vision;

/// <summary>
/// Who may see or change what (domain-rules §4): identifiable records only within the identity issue's scopes
/// (a teacher their classes, a school admin their school, a guardian their own children, the bureau only with a
/// school's grant), every read and export of identifiable data audited; statistics are aggregates for the bureau and
/// each school's own staff.
/// </summary>
internal sealed class VisionAccess(IdentityRepository identity, AccessGrantRepository grants, AuditLog audit, CorpDirectory corps,
    TimeProvider time)
{
    public const string ReadAction = "vision.record.read";
    public const string ExportAction = "vision.export";
    public const string WriteAction = "vision.record.write";

    public static bool IsBureau(Caller caller) => caller.HasAnywhere("bureau-staff") || caller.HasAnywhere("bureau-admin");

    public static bool IsBureauAdmin(Caller caller) => caller.HasAnywhere("bureau-admin");

    /// <summary>Statistics of one school (or the city, null): the bureau, or that school's staff.</summary>
    public static void RequireStatistics(Caller caller, string? corpId)
    {
        if (IsBureau(caller) || (corpId is not null && (caller.Has("school-staff", corpId) || caller.Has("school-admin", corpId))))
        {
            return;
        }

        throw new ForbiddenException(corpId is null
            ? "Missing scope: city-wide statistics are for the bureau; school staff give their school's corpId."
            : "Missing scope: staff of this school, or the bureau.");
    }

    /// <summary>
    /// The smallest group an aggregate may show this caller: every group to the school's own staff, groups of at least
    /// Vision:MinimumCellSize children to anyone else (the bureau), so that no group can be read as individuals.
    /// </summary>
    public static int MinimumCellSize(Caller caller, string? corpId, VisionOptions options) =>
        corpId is not null && (caller.Has("school-staff", corpId) || caller.Has("school-admin", corpId)) ? 0 : options.MinimumCellSize;

    public static void RequireSchoolAdmin(Caller caller, string corpId)
    {
        if (!caller.Has("school-admin", corpId))
        {
            throw new ForbiddenException("Missing scope: admin of this school.");
        }
    }

    /// <summary>
    /// Reading one class's identifiable records: its teachers, the school's admins, or a bureau person holding that
    /// school's grant. Audited, allowed or not.
    /// </summary>
    public async Task RequireClassReadAsync(Caller caller, string corpId, long classId, IReadOnlyList<string> students, string what,
        CancellationToken ct)
    {
        var reason = await ClassScopeAsync(caller, corpId, classId, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, ReadAction, corpId, students,
            reason is null ? $"refused: {what}" : $"{what} as {reason}", reason is null ? AuditLog.Denied : AuditLog.Allowed, ct);
        if (reason is null)
        {
            throw new ForbiddenException("Missing scope: teacher of this class, admin of its school, or an access grant from that school.");
        }
    }

    /// <summary>Entering records for a class: its teachers or the school's admins (a grant is for reading, not entering).</summary>
    public async Task RequireClassWriteAsync(Caller caller, string corpId, long classId, CancellationToken ct)
    {
        if (caller.Has("school-admin", corpId))
        {
            return;
        }

        var taught = await identity.ClassesTaughtAsync(caller.Identities, ct);
        if (!taught.Any(c => c.CorpId == corpId && c.ClassId == classId))
        {
            throw new ForbiddenException("Missing scope: teacher of this class or admin of its school.");
        }
    }

    /// <summary>Entering records anywhere in the school: its admins, or a teacher of one of its classes.</summary>
    public async Task RequireSchoolWriterAsync(Caller caller, string corpId, CancellationToken ct)
    {
        if (caller.Has("school-admin", corpId) ||
            (await identity.ClassesTaughtAsync(caller.Identities, ct)).Any(c => c.CorpId == corpId))
        {
            return;
        }

        throw new ForbiddenException("Missing scope: a teacher of this school or its admin.");
    }

    /// <summary>Acting on a class's families (reminders): the class's advisers (班主任) or the school's admins, not every subject teacher.</summary>
    public async Task RequireClassAdviserAsync(Caller caller, string corpId, long classId, CancellationToken ct)
    {
        if (caller.Has("school-admin", corpId))
        {
            return;
        }

        var taught = await identity.ClassesTaughtAsync(caller.Identities, ct);
        if (!taught.Any(c => c.CorpId == corpId && c.ClassId == classId && c.IsAdviser))
        {
            throw new ForbiddenException("Missing scope: adviser (班主任) of this class or admin of its school.");
        }
    }

    /// <summary>The caller as a guardian of the child: their userid in that corp, audited; 403 otherwise.</summary>
    public async Task<string> RequireGuardianAsync(Caller caller, string corpId, string studentUserId, string what, CancellationToken ct)
    {
        var relation = await identity.GuardianRelationAsync(caller.Identities, corpId, studentUserId, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, ReadAction, corpId, [studentUserId],
            relation is null ? $"refused: {what}" : $"{what} as guardian (relation {relation})", relation is null ? AuditLog.Denied : AuditLog.Allowed, ct);
        return relation is null
            ? throw new ForbiddenException("Missing scope: guardian of this child.")
            : caller.UserIdIn(corpId);
    }

    public Task AuditExportAsync(Caller caller, string corpId, string reason, CancellationToken ct) =>
        audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, ExportAction, corpId, [], reason, AuditLog.Allowed, ct);

    public Task AuditWriteAsync(Caller caller, string corpId, IEnumerable<string> students, string reason, CancellationToken ct) =>
        audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, WriteAction, corpId, students, reason, AuditLog.Allowed, ct);

    public CorpConfig School(string corpId) =>
        corps.Find(corpId) is { Kind: CorpKind.School } school ? school : throw new NotFoundException($"Corp {corpId} is not a school.");

    private async Task<string?> ClassScopeAsync(Caller caller, string corpId, long classId, CancellationToken ct)
    {
        if (caller.Has("school-admin", corpId))
        {
            return "admin of the school";
        }

        if ((await identity.ClassesTaughtAsync(caller.Identities, ct)).Any(c => c.CorpId == corpId && c.ClassId == classId))
        {
            return $"teacher of class {classId}";
        }

        return await grants.ActiveAsync(caller.Identities, corpId, time.UtcNowForDatabase(), ct) is { } grant
            ? $"access grant #{grant.Id}: {grant.Purpose}"
            : null;
    }
}
