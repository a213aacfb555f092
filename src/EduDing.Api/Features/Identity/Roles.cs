using System.ComponentModel;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Identity;

/// <summary>
/// The roles of the access vocabulary (docs/access.md). Every role but system-admin is held in one corp; all are derived
/// from the org mirror at sign-in and at each refresh; a token carries them as "role@corpId".
/// </summary>
internal static class Roles
{
    /// <summary>Admin of the bureau (教育局): DingTalk admin, or staff of a configured admin department.</summary>
    [Description("教育局管理员")]
    public const string BureauAdmin = "bureau-admin";

    /// <summary>Any member of the bureau's staff.</summary>
    [Description("教育局工作人员")]
    public const string BureauStaff = "bureau-staff";

    /// <summary>Admin of a school: DingTalk admin, or staff with a configured admin title (校长, 教务主任, …).</summary>
    [Description("学校管理员")]
    public const string SchoolAdmin = "school-admin";

    /// <summary>Any member of a school's staff.</summary>
    [Description("学校教职工")]
    public const string SchoolStaff = "school-staff";

    /// <summary>A teacher of at least one class in the 家校通讯录.</summary>
    [Description("任课教师")]
    public const string Teacher = "teacher";

    /// <summary>A class adviser (班主任) of at least one class.</summary>
    [Description("班主任")]
    public const string Adviser = "adviser";

    /// <summary>A guardian (家长) of at least one student.</summary>
    [Description("家长")]
    public const string Guardian = "guardian";

    /// <summary>
    /// An operator of the deployment: staff whose unionid or DingTalk department is configured
    /// (Identity:SystemAdminUnionIds, Identity:SystemAdminDepartments). Held for the whole deployment, not one corp.
    /// </summary>
    public const string SystemAdmin = Policies.SystemAdmin;

    public static readonly IReadOnlyList<string> All =
        [BureauAdmin, BureauStaff, SchoolAdmin, SchoolStaff, Teacher, Adviser, Guardian, SystemAdmin];
}

/// <summary>What relates a caller to one thing, and so lets a role reach it (docs/access.md).</summary>
internal enum Scope
{
    /// <summary>A guardian's own child.</summary>
    OwnChild,

    /// <summary>A class the caller teaches.</summary>
    ClassTaught,

    /// <summary>A class the caller advises (班主任).</summary>
    ClassAdvised,

    /// <summary>The school the caller administers.</summary>
    School,

    /// <summary>The whole city, for the bureau (aggregates only, never one child).</summary>
    City,

    /// <summary>A school's time-limited access grant to a named bureau person.</summary>
    Grant,
}

/// <summary>The scope through which the caller reaches a thing, with the reason written to the audit log.</summary>
internal sealed record ScopeMatch(Scope Scope, string Reason);
