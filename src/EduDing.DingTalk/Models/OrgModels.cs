using System.Text.Json.Serialization;

namespace EduDing.DingTalk.Models;

/// <summary>An item of topapi/v2/department/listsub (§3a).</summary>
public sealed record DepartmentSummary(long DeptId, string Name, long? ParentId, bool CreateDeptGroup, bool AutoAddUser);

/// <summary>topapi/v2/department/get (§3c). <see cref="Tags"/> is campus | period | grade | class on edu nodes.</summary>
public sealed record DepartmentDetail(
    long DeptId,
    string Name,
    long? ParentId,
    long? Order,
    string? Tags,
    string? SourceIdentifier,
    bool HideDept,
    bool OuterDept,
    long? MemberCount,
    [property: JsonPropertyName("dept_manager_userid_list")] IReadOnlyList<string>? DeptManagerUserIdList);

/// <summary>An item of topapi/v2/user/list (§3d): note <see cref="Leader"/> is about the listed department only.</summary>
public sealed record DepartmentUser(
    [property: JsonPropertyName("userid")] string UserId,
    [property: JsonPropertyName("unionid")] string? UnionId,
    string Name,
    string? Avatar,
    string? StateCode,
    string? Mobile,
    string? JobNumber,
    string? Title,
    string? Email,
    string? Remark,
    IReadOnlyList<long>? DeptIdList,
    long? DeptOrder,
    long? HiredDate,
    bool Active,
    bool Admin,
    bool Boss,
    bool Leader);

/// <summary>One page of topapi/v2/user/list; <see cref="NextCursor"/> is set while <see cref="HasMore"/>.</summary>
public sealed record DepartmentUserPage(bool HasMore, long? NextCursor, IReadOnlyList<DepartmentUser> List);
