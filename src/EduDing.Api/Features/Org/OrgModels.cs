using System.ComponentModel;
namespace EduDing.Api.Features.Org;

internal sealed record DepartmentRow(long DeptId, string Name, long ParentDeptId);

internal sealed record StaffMembership(long DeptId, bool IsLeader);

internal sealed record StaffRow(string UserId, string? UnionId, string Name, string? Title, string? JobNumber, bool IsAdmin,
    bool IsBoss, IReadOnlyList<StaffMembership> Departments);

/// <summary>A 家校 node; NodeType is campus, period, grade, class or dept as DingTalk names it.</summary>
internal sealed record EduNodeRow(long NodeId, string Name, string? Nick, long? ParentNodeId, string NodeType, int? GradeLevel,
    string? StartYear);

internal sealed record RosterPerson(string UserId, string Name, string? UnionId, string? StudentNumber);

internal sealed record RosterTeacher(string UserId, bool IsAdviser);

internal sealed record RosterRelation(string GuardianUserId, string StudentUserId, string RelationCode);

/// <summary>Everyone in one class as DingTalk lists them, and who is whose guardian.</summary>
internal sealed record ClassRoster(IReadOnlyList<RosterPerson> Students, IReadOnlyList<RosterPerson> Guardians,
    IReadOnlyList<RosterTeacher> Teachers, IReadOnlyList<RosterRelation> Relations);

internal sealed record CorpRow(string CorpId, string Kind, string Name, DateTime? LastFullSyncAt, DateTime? SyncRequestedAt);

internal sealed record ClassMemberRow(long ClassId, string Role, string UserId, bool IsAdviser);

internal sealed record RelationRow(long ClassId, string GuardianUserId, string StudentUserId, string RelationCode);

internal sealed record StaffDepartmentRow(string UserId, long DeptId, bool IsLeader);

internal sealed record StaffView(string UserId, string? UnionId, string Name, string? Title, string? JobNumber, bool IsAdmin,
    bool IsBoss, DateTime? RemovedAt);

internal sealed record PersonRoleRow(string CorpId, string Role, string UserId, string Name, long? ClassId, DateTime? RemovedAt);

internal sealed record StudentView(string UserId, string? UnionId, string Name, string? StudentNumber, DateTime? RemovedAt);

internal sealed record GuardianView(string UserId, string? UnionId, string Name, DateTime? RemovedAt);

/// <summary>A corp's kind as the mirror stores it (CorpKind's name).</summary>
internal static class CorpKindCode
{
    [Description("教育局")]
    public const string Bureau = "Bureau";

    [Description("学校")]
    public const string School = "School";
}
