using System.Text.Json.Nodes;
using EduDing.DingTalk.Models;
using EduDing.DingTalk.Sandbox.Runtime;
using static EduDing.DingTalk.Sandbox.Endpoints.SandboxPipeline;
using static EduDing.DingTalk.Sandbox.Endpoints.SandboxApiHelpers;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>家校通讯录 2.0 (contract §4): nodes, class members by role, guardian relations.</summary>
internal static class SandboxEduApis
{
    public static void Map(SandboxApi api)
    {
        api.Oapi(DingTalkApis.EduListDepts, (corp, body) => api.Locked(() =>
        {
            var (pageNo, pageSize) = EduPaging(body);
            var superId = OptionalLong(body, "super_id");
            if (superId is { } parent && !corp.EduNodes.ContainsKey(parent))
            {
                throw new SandboxRequestException(60003, "NotFound", "部门不存在");
            }

            var children = corp.EduNodes.Values.Where(n => n.ParentId == superId).OrderBy(n => n.Id).ToList();
            var page = children.Skip((pageNo - 1) * pageSize).Take(pageSize).Select(n => (JsonNode)SandboxEdu.Node(corp, n)).ToArray();
            var result = new JsonObject
            {
                ["details"] = new JsonArray(page),
                ["has_more"] = pageNo * pageSize < children.Count,
            };
            if (superId is not null)
            {
                result["super_id"] = superId;
            }

            return EduResult(result);
        }));

        api.Oapi(DingTalkApis.EduGetDept, (corp, body) => api.Locked(() =>
        {
            var node = corp.EduNodes.GetValueOrDefault(RequireLong(body, "dept_id"))
                       ?? throw new SandboxRequestException(60003, "NotFound", "部门不存在");
            return EduResult(new JsonObject { ["detail"] = SandboxEdu.Node(corp, node) });
        }));

        api.Oapi(DingTalkApis.EduListUsers, (corp, body) => api.Locked(() =>
        {
            var (pageNo, pageSize) = EduPaging(body);
            var classId = RequireLong(body, "class_id");
            var role = RequireRole(body);
            var members = SandboxWorld.Roster(corp, classId).ByRole(role);
            var page = members.Skip((pageNo - 1) * pageSize).Take(pageSize)
                .Select(m => (JsonNode)EduUserJson(classId, role, m)).ToArray();
            return EduResult(new JsonObject { ["has_more"] = pageNo * pageSize < members.Count, ["details"] = new JsonArray(page) });
        }));

        api.Oapi(DingTalkApis.EduGetUser, (corp, body) => api.Locked(() =>
        {
            var classId = RequireLong(body, "class_id");
            var role = RequireRole(body);
            var userId = RequireString(body, "userid");
            var member = SandboxWorld.Roster(corp, classId).ByRole(role).FirstOrDefault(m => m.UserId == userId)
                         ?? throw new SandboxRequestException(60121, "NotFound", "找不到该用户");
            return EduResult(new JsonObject { ["details"] = new JsonArray(EduUserJson(classId, role, member)) });
        }));

        api.Oapi(DingTalkApis.EduListRelations, (corp, body) => api.Locked(() =>
        {
            var (pageNo, pageSize) = EduPaging(body);
            var classId = RequireLong(body, "class_id");
            var relations = SandboxWorld.Roster(corp, classId).Relations;
            var page = relations.Skip((pageNo - 1) * pageSize).Take(pageSize).Select(r => (JsonNode)new JsonObject
            {
                ["class_id"] = classId, ["from_userid"] = r.GuardianUserId, ["to_userid"] = r.StudentUserId,
                ["relation_code"] = r.RelationCode, ["relation_name"] = EduRelationCodes.Names.GetValueOrDefault(r.RelationCode, "家长"),
            }).ToArray();
            return EduResult(new JsonObject { ["has_more"] = pageNo * pageSize < relations.Count, ["relations"] = new JsonArray(page) });
        }));
    }
}
