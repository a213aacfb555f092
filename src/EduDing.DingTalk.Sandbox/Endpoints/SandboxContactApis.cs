using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox.Runtime;
using static EduDing.DingTalk.Sandbox.Endpoints.SandboxPipeline;
using static EduDing.DingTalk.Sandbox.Endpoints.SandboxApiHelpers;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>通讯录 (contract §3): departments and their users, paged as DingTalk pages them.</summary>
internal static class SandboxContactApis
{
    public static void Map(SandboxApi api)
    {
        var sandbox = api.Sandbox;
        api.Oapi(DingTalkApis.ListSubDepartments, (corp, body) => api.Locked(() =>
        {
            var deptId = OptionalLong(body, "dept_id") ?? 1;
            RequireEnterpriseDept(corp, deptId);
            var children = corp.Departments.Values.Where(d => d.ParentId == deptId && d.Id != 1).OrderBy(d => d.Order).ThenBy(d => d.Id)
                .Select(d => (JsonNode)new JsonObject
                {
                    ["dept_id"] = d.Id, ["name"] = d.Name, ["parent_id"] = d.ParentId, ["create_dept_group"] = false, ["auto_add_user"] = false,
                }).ToList();
            if (deptId == 1 && sandbox.Options.VirtualEduRootDeptId is { } virtualRoot && corp.EduNodes.Count > 0)
            {
                children.Add(new JsonObject
                {
                    ["dept_id"] = virtualRoot, ["name"] = "家校通讯录", ["parent_id"] = 1, ["create_dept_group"] = false, ["auto_add_user"] = false,
                });
            }

            return Result(new JsonArray(children.ToArray()));
        }));

        api.Oapi(DingTalkApis.ListSubDepartmentIds, (corp, body) => api.Locked(() =>
        {
            var deptId = RequireLong(body, "dept_id");
            RequireEnterpriseDept(corp, deptId);
            var ids = corp.Departments.Values.Where(d => d.ParentId == deptId && d.Id != 1).OrderBy(d => d.Order).ThenBy(d => d.Id)
                .Select(d => d.Id).ToList();
            if (deptId == 1 && sandbox.Options.VirtualEduRootDeptId is { } virtualRoot && corp.EduNodes.Count > 0)
            {
                ids.Add(virtualRoot);
            }

            return Result(new JsonObject { ["dept_id_list"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()) });
        }));

        api.Oapi(DingTalkApis.GetDepartment, (corp, body) => api.Locked(() =>
        {
            var deptId = RequireLong(body, "dept_id");
            if (corp.EduNodes.TryGetValue(deptId, out var node))
            {
                return Result(new JsonObject
                {
                    ["dept_id"] = node.Id, ["name"] = node.Name, ["parent_id"] = node.ParentId ?? 1,
                    ["tags"] = Events.EduNodeTypes.Name(node.Type), ["order"] = node.Id, ["hide_dept"] = false, ["outer_dept"] = false,
                    ["create_dept_group"] = false, ["auto_add_user"] = false, ["dept_manager_userid_list"] = new JsonArray(),
                });
            }

            var dept = RequireEnterpriseDept(corp, deptId);
            return Result(new JsonObject
            {
                ["dept_id"] = dept.Id, ["name"] = dept.Name, ["parent_id"] = dept.ParentId, ["order"] = dept.Order,
                ["source_identifier"] = "", ["create_dept_group"] = false, ["auto_add_user"] = false, ["hide_dept"] = false,
                ["outer_dept"] = false, ["member_count"] = corp.Users.Values.Count(u => u.DeptIds.Contains(dept.Id)),
                ["dept_manager_userid_list"] = new JsonArray(dept.ManagerUserIds.Select(u => (JsonNode)u).ToArray()),
            });
        }));

        api.Oapi(DingTalkApis.ListUsers, (corp, body) => api.Locked(() =>
        {
            var deptId = RequireLong(body, "dept_id");
            var cursor = RequireLong(body, "cursor");
            var size = RequireLong(body, "size");
            if (size is < 1 or > 100 || cursor is < 0 or > 100_000)
            {
                throw new SandboxRequestException(40035, "invalidParameter", "不合法的参数: size 1~100, cursor 0~100000");
            }

            RequireEnterpriseDept(corp, deptId);
            var members = corp.Users.Values.Where(u => u.DeptIds.Contains(deptId)).ToList();
            var page = members.Skip((int)cursor).Take((int)size).Select(u => (JsonNode)UserJson(u, deptId)).ToArray();
            var hasMore = cursor + size < members.Count;
            var result = new JsonObject { ["has_more"] = hasMore, ["list"] = new JsonArray(page) };
            if (hasMore)
            {
                result["next_cursor"] = cursor + size;
            }

            return Result(result);
        }));

        api.Oapi(DingTalkApis.ListUserIds, (corp, body) => api.Locked(() =>
        {
            var deptId = RequireLong(body, "dept_id");
            RequireEnterpriseDept(corp, deptId);
            var ids = corp.Users.Values.Where(u => u.DeptIds.Contains(deptId)).Select(u => (JsonNode)u.UserId).ToArray();
            return Result(new JsonObject { ["userid_list"] = new JsonArray(ids) });
        }));
    }
}
