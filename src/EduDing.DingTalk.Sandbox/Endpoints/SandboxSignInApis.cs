using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox.Runtime;
using static EduDing.DingTalk.Sandbox.Endpoints.SandboxPipeline;
using static EduDing.DingTalk.Sandbox.Endpoints.SandboxApiHelpers;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>免登 (contract §2): the mini-app's code for a user, and the user's details.</summary>
internal static class SandboxSignInApis
{
    public static void Map(SandboxApi api)
    {
        var sandbox = api.Sandbox;
        var world = api.Sandbox.World;
        api.Oapi(DingTalkApis.GetUserInfo, (corp, body) =>
        {
            var userId = world.RedeemAuthCode(corp, RequireString(body, "code"))
                         ?? throw new SandboxRequestException(40078, "InvalidCode", "不存在的临时授权码");
            return api.Locked(() =>
            {
                if (corp.Users.TryGetValue(userId, out var user))
                {
                    return Result(new JsonObject
                    {
                        ["userid"] = user.UserId, ["unionid"] = user.UnionId, ["name"] = user.Name, ["device_id"] = "sandbox",
                        ["sys"] = user.Admin, ["sys_level"] = user.Boss ? 100 : user.Admin ? 1 : 0, ["associated_unionid"] = "",
                    });
                }

                var member = corp.Classes.Values.SelectMany(r => r.Guardians.Concat(r.Students))
                                 .FirstOrDefault(m => m.UserId == userId)
                             ?? throw new SandboxRequestException(60121, "NotFound", "找不到该用户");
                return Result(new JsonObject
                {
                    ["userid"] = member.UserId, ["unionid"] = member.UnionId, ["name"] = member.Name,
                    ["device_id"] = "sandbox", ["sys"] = false, ["sys_level"] = 0, ["associated_unionid"] = "",
                });
            });
        });

        api.Oapi(DingTalkApis.GetUser, (corp, body) => api.Locked(() =>
        {
            var user = corp.Users.GetValueOrDefault(RequireString(body, "userid"))
                       ?? throw new SandboxRequestException(60121, "NotFound", "找不到该用户");
            var detail = UserJson(user, null);
            detail.Remove("dept_order");
            detail.Remove("leader");
            detail["dept_order_list"] = new JsonArray(user.DeptIds.Select((d, i) => (JsonNode)new JsonObject { ["dept_id"] = d, ["order"] = i }).ToArray());
            detail["leader_in_dept"] = new JsonArray(user.DeptIds.Select(d => (JsonNode)new JsonObject { ["dept_id"] = d, ["leader"] = user.LeaderOf.Contains(d) }).ToArray());
            detail["senior"] = false;
            detail["real_authed"] = true;
            detail["role_list"] = new JsonArray();
            return Result(detail);
        }));
    }
}
