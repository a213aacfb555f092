using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Identity;

/// <summary>
/// "May this caller do X to this thing": the one place that relates a caller's roles to a school, a class or a child
/// through the scopes of <see cref="Scope"/> (docs/access.md). Reads of identifiable children's data are written to
/// the audit log here, allowed or refused, with the scope that allowed them.
/// </summary>
internal sealed class AccessPolicy(OrgDirectory directory, AccessGrantRepository grants, AuditLog audit, CorpDirectory corps,
    TimeProvider time)
{
    public static bool IsBureau(Caller caller) => caller.HasAnywhere(Roles.BureauStaff) || caller.HasAnywhere(Roles.BureauAdmin);

    public static bool IsBureauAdmin(Caller caller) => caller.HasAnywhere(Roles.BureauAdmin);

    /// <summary>Staff (any role) of the corp.</summary>
    public static bool IsStaffOf(Caller caller, string corpId) =>
        caller.Has(Roles.SchoolStaff, corpId) || caller.Has(Roles.SchoolAdmin, corpId) ||
        caller.Has(Roles.BureauStaff, corpId) || caller.Has(Roles.BureauAdmin, corpId);

    /// <summary>Whether <paramref name="corpId"/> is a school this deployment serves.</summary>
    public bool IsSchool(string corpId) => corps.Find(corpId) is { Kind: CorpKind.School };

    /// <summary>The school, or 404 for a corp that is not a school this deployment serves.</summary>
    public CorpConfig School(string corpId) =>
        corps.Find(corpId) is { Kind: CorpKind.School } school ? school : throw new NotFoundException($"Corp {corpId} is not a school.");

    /// <summary>404 for a corp that is not a school; 403, saying <paramref name="why"/> it is the school's decision, for anyone but its admins.</summary>
    public void RequireSchoolAdmin(Caller caller, string corpId, string why)
    {
        School(corpId);
        if (!caller.Has(Roles.SchoolAdmin, corpId))
        {
            throw new ForbiddenException($"Missing scope: admin of this school ({why}).");
        }
    }

    /// <summary>404 for a corp that is not a school; 403 for anyone but its staff.</summary>
    public void RequireSchoolStaff(Caller caller, string corpId)
    {
        School(corpId);
        if (!caller.Has(Roles.SchoolStaff, corpId) && !caller.Has(Roles.SchoolAdmin, corpId))
        {
            throw new ForbiddenException("Missing scope: staff of this school.");
        }
    }

    // ---- one class ----

    /// <summary>How the caller reaches one class: advising or teaching it, administering its school, or a grant from the school.</summary>
    public async Task<ScopeMatch?> ScopeOverClassAsync(Caller caller, string corpId, long classId, bool allowGrant, CancellationToken ct)
    {
        if (caller.Has(Roles.SchoolAdmin, corpId))
        {
            return new ScopeMatch(Scope.School, "admin of the school");
        }

        if ((await directory.ClassesTaughtAsync(caller.Identities, ct)).FirstOrDefault(c => c.CorpId == corpId && c.ClassId == classId) is { } taught)
        {
            return taught.IsAdviser
                ? new ScopeMatch(Scope.ClassAdvised, $"adviser of class {classId}")
                : new ScopeMatch(Scope.ClassTaught, $"teacher of class {classId}");
        }

        return allowGrant && await grants.ActiveAsync(caller.Identities, corpId, time.UtcNowForDatabase(), ct) is { } grant
            ? new ScopeMatch(Scope.Grant, $"access grant #{grant.Id}: {grant.Purpose}")
            : null;
    }

    /// <summary>
    /// Reading one class's identifiable data: its teachers, the school's admins, or a bureau person holding that
    /// school's grant. Audited under <paramref name="action"/>, allowed or not.
    /// </summary>
    public async Task<ScopeMatch> RequireClassReadAsync(Caller caller, string corpId, long classId, IReadOnlyList<string> students,
        string action, string what, CancellationToken ct)
    {
        var match = await ScopeOverClassAsync(caller, corpId, classId, allowGrant: true, ct);
        await AuditClassReadAsync(caller, corpId, classId, students, action, what, match, ct);
        return match!;
    }

    /// <summary>Audits a read of one class's identifiable data through <paramref name="match"/>; 403 (audited too) when there is none.</summary>
    public async Task AuditClassReadAsync(Caller caller, string corpId, long classId, IReadOnlyList<string> students, string action,
        string what, ScopeMatch? match, CancellationToken ct)
    {
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, action, corpId, students,
            match is null ? $"refused: {what}" : $"{what} as {match.Reason}", match is null ? AuditLog.Denied : AuditLog.Allowed, ct);
        if (match is null)
        {
            throw new ForbiddenException("Missing scope: teacher of this class, admin of its school, or an access grant from that school.");
        }
    }

    /// <summary>Entering data for a class: its teachers or the school's admins (a grant is for reading, not entering).</summary>
    public async Task RequireClassWriteAsync(Caller caller, string corpId, long classId, CancellationToken ct)
    {
        if (await ScopeOverClassAsync(caller, corpId, classId, allowGrant: false, ct) is null)
        {
            throw new ForbiddenException("Missing scope: teacher of this class or admin of its school.");
        }
    }

    /// <summary>Acting on a class's families: the class's advisers (班主任) or the school's admins, not every subject teacher.</summary>
    public async Task RequireClassAdviserAsync(Caller caller, string corpId, long classId, CancellationToken ct)
    {
        if (await ScopeOverClassAsync(caller, corpId, classId, allowGrant: false, ct) is not { Scope: Scope.School or Scope.ClassAdvised })
        {
            throw new ForbiddenException("Missing scope: adviser (班主任) of this class or admin of its school.");
        }
    }

    /// <summary>Entering data anywhere in the school: its admins, or a teacher of one of its classes.</summary>
    public async Task RequireSchoolWriterAsync(Caller caller, string corpId, CancellationToken ct)
    {
        if (caller.Has(Roles.SchoolAdmin, corpId) || (await directory.ClassesTaughtAsync(caller.Identities, ct)).Any(c => c.CorpId == corpId))
        {
            return;
        }

        throw new ForbiddenException("Missing scope: a teacher of this school or its admin.");
    }

    /// <summary>The classes of <paramref name="corpId"/> the caller teaches (advised ones flagged).</summary>
    public async Task<IReadOnlyList<TaughtClass>> ClassesTaughtInAsync(Caller caller, string corpId, CancellationToken ct) =>
        (await directory.ClassesTaughtAsync(caller.Identities, ct)).Where(c => c.CorpId == corpId).ToList();

    // ---- one child ----

    /// <summary>How the caller reaches one child: as guardian, teacher of a class of theirs, admin of the school, or a grant.</summary>
    public async Task<ScopeMatch?> ScopeOverChildAsync(Caller caller, string corpId, string studentUserId, CancellationToken ct)
    {
        if (await directory.GuardianRelationAsync(caller.Identities, corpId, studentUserId, ct) is { } relation)
        {
            return new ScopeMatch(Scope.OwnChild, $"guardian of the student (relation {relation})");
        }

        if (await directory.TaughtClassOfStudentAsync(caller.Identities, corpId, studentUserId, ct) is { } classId)
        {
            return new ScopeMatch(Scope.ClassTaught, $"teacher of the student's class {classId}");
        }

        if (caller.Has(Roles.SchoolAdmin, corpId))
        {
            return new ScopeMatch(Scope.School, "admin of the student's school");
        }

        return await grants.ActiveAsync(caller.Identities, corpId, time.UtcNowForDatabase(), ct) is { } grant
            ? new ScopeMatch(Scope.Grant, $"access grant #{grant.Id} until {grant.ExpiresAt:O}: {grant.Purpose}")
            : null;
    }

    /// <summary>Reading one child's identifiable data through any scope; audited under <paramref name="action"/>, allowed or not.</summary>
    public async Task<ScopeMatch> RequireChildReadAsync(Caller caller, string corpId, string studentUserId, string action, string what,
        CancellationToken ct)
    {
        var match = await ScopeOverChildAsync(caller, corpId, studentUserId, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, action, corpId, [studentUserId],
            match is null ? $"refused: {what}" : match.Reason, match is null ? AuditLog.Denied : AuditLog.Allowed, ct);
        return match ?? throw new ForbiddenException(
            "Missing scope: guardian of this student, teacher of one of their classes, admin of their school, or an " +
            "access grant from that school.");
    }

    /// <summary>The caller as a guardian of the child: their userid in that corp, audited under <paramref name="action"/>; 403 otherwise.</summary>
    public async Task<string> RequireGuardianAsync(Caller caller, string corpId, string studentUserId, string action, string what,
        CancellationToken ct)
    {
        var relation = await directory.GuardianRelationAsync(caller.Identities, corpId, studentUserId, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, action, corpId, [studentUserId],
            relation is null ? $"refused: {what}" : $"{what} as guardian (relation {relation})", relation is null ? AuditLog.Denied : AuditLog.Allowed, ct);
        return relation is null ? throw new ForbiddenException("Missing scope: guardian of this child.", "只有孩子的家长可以进行此操作。") : caller.UserIdIn(corpId);
    }
}
