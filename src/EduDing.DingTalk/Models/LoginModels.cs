using System.Text.Json.Serialization;

namespace EduDing.DingTalk.Models;

/// <summary>topapi/v2/user/getuserinfo result (§2a).</summary>
public sealed record UserInfo(
    [property: JsonPropertyName("userid")] string UserId,
    [property: JsonPropertyName("unionid")] string? UnionId,
    string? Name,
    string? DeviceId,
    bool Sys,
    int SysLevel,
    [property: JsonPropertyName("associated_unionid")] string? AssociatedUnionId);

/// <summary>topapi/v2/user/get result (§2b); fields absent without the matching permission are null.</summary>
public sealed record UserDetail(
    [property: JsonPropertyName("userid")] string UserId,
    [property: JsonPropertyName("unionid")] string? UnionId,
    string Name,
    string? Avatar,
    string? StateCode,
    [property: JsonPropertyName("manager_userid")] string? ManagerUserId,
    string? Mobile,
    string? JobNumber,
    string? Title,
    string? Email,
    string? WorkPlace,
    string? Remark,
    IReadOnlyList<long>? DeptIdList,
    IReadOnlyList<DeptOrder>? DeptOrderList,
    long? HiredDate,
    bool Active,
    bool Admin,
    bool Boss,
    bool Senior,
    IReadOnlyList<DeptLeader>? LeaderInDept,
    IReadOnlyList<UserRole>? RoleList);

public sealed record DeptOrder(long DeptId, long Order);

public sealed record DeptLeader(long DeptId, bool Leader);

public sealed record UserRole(long Id, string Name, string? GroupName);
