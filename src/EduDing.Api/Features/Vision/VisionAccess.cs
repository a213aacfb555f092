using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Vision;

/// <summary>
/// Who may see or change what in 明眸 (docs/access.md): identifiable records only within the access scopes
/// (a teacher their classes, a school admin their school, a guardian their own children, the bureau only with a
/// school's grant), every read and export of identifiable data audited; statistics are aggregates for the bureau and
/// each school's own staff.
/// </summary>
internal sealed class VisionAccess(AccessPolicy access, AuditLog audit)
{
    public const string ReadAction = "vision.record.read";
    public const string ExportAction = "vision.export";
    public const string WriteAction = "vision.record.write";

    public static bool IsBureau(Caller caller) => AccessPolicy.IsBureau(caller);

    public static bool IsBureauAdmin(Caller caller) => AccessPolicy.IsBureauAdmin(caller);

    /// <summary>Statistics of one school (or the city, null): the bureau, or that school's staff.</summary>
    public static void RequireStatistics(Caller caller, string? corpId)
    {
        if (IsBureau(caller) || (corpId is not null && IsSchoolStaff(caller, corpId)))
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
        corpId is not null && IsSchoolStaff(caller, corpId) ? 0 : options.MinimumCellSize;

    public static void RequireSchoolAdmin(Caller caller, string corpId)
    {
        if (!caller.Has(Roles.SchoolAdmin, corpId))
        {
            throw new ForbiddenException("Missing scope: admin of this school.");
        }
    }

    /// <summary>
    /// Reading one class's identifiable records: its teachers, the school's admins, or a bureau person holding that
    /// school's grant. Audited, allowed or not.
    /// </summary>
    public Task RequireClassReadAsync(Caller caller, string corpId, long classId, IReadOnlyList<string> students, string what,
        CancellationToken ct) =>
        access.RequireClassReadAsync(caller, corpId, classId, students, ReadAction, what, ct);

    /// <summary>Entering records for a class: its teachers or the school's admins (a grant is for reading, not entering).</summary>
    public Task RequireClassWriteAsync(Caller caller, string corpId, long classId, CancellationToken ct) =>
        access.RequireClassWriteAsync(caller, corpId, classId, ct);

    /// <summary>Entering records anywhere in the school: its admins, or a teacher of one of its classes.</summary>
    public Task RequireSchoolWriterAsync(Caller caller, string corpId, CancellationToken ct) =>
        access.RequireSchoolWriterAsync(caller, corpId, ct);

    /// <summary>Acting on a class's families (reminders): the class's advisers (班主任) or the school's admins, not every subject teacher.</summary>
    public Task RequireClassAdviserAsync(Caller caller, string corpId, long classId, CancellationToken ct) =>
        access.RequireClassAdviserAsync(caller, corpId, classId, ct);

    /// <summary>The caller as a guardian of the child: their userid in that corp, audited; 403 otherwise.</summary>
    public Task<string> RequireGuardianAsync(Caller caller, string corpId, string studentUserId, string what, CancellationToken ct) =>
        access.RequireGuardianAsync(caller, corpId, studentUserId, ReadAction, what, ct);

    public Task AuditExportAsync(Caller caller, string corpId, string reason, CancellationToken ct) =>
        audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, ExportAction, corpId, [], reason, AuditLog.Allowed, ct);

    public Task AuditWriteAsync(Caller caller, string corpId, IEnumerable<string> students, string reason, CancellationToken ct) =>
        audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, WriteAction, corpId, students, reason, AuditLog.Allowed, ct);

    public CorpConfig School(string corpId) => access.School(corpId);

    private static bool IsSchoolStaff(Caller caller, string corpId) =>
        caller.Has(Roles.SchoolStaff, corpId) || caller.Has(Roles.SchoolAdmin, corpId);
}
