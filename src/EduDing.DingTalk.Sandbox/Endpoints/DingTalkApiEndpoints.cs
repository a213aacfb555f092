using System.Text.Json;
using System.Text.Json.Nodes;
using EduDing.DingTalk.Models;
using EduDing.DingTalk.Sandbox.Model;
using EduDing.DingTalk.Sandbox.Runtime;
using static EduDing.DingTalk.Sandbox.Endpoints.SandboxPipeline;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>The DingTalk endpoints EduDing calls, under both hosts' paths, with DingTalk's field names and paging.</summary>
public static class DingTalkApiEndpoints
{
    public static IEndpointRouteBuilder MapDingTalkApis(this IEndpointRouteBuilder app, DingTalkSandbox sandbox)
    {
        var pipeline = new SandboxPipeline(sandbox);
        var world = sandbox.World;

        JsonObject Locked(Func<JsonObject> read)
        {
            lock (world.Sync)
            {
                return read();
            }
        }

        void Oapi(DingTalkApi api, Func<SandboxCorp, JsonObject, JsonObject> handle) =>
            app.MapMethods("/" + api.Path, [api.Method], (HttpContext c) => pipeline.OapiAsync(c, api, handle));

        // ---- tokens (§1) ----
        app.MapPost("/v1.0/oauth2/accessToken", (HttpContext c) => pipeline.PublicApiAsync(c, body =>
        {
            var corp = world.FindByAppKey(body["appKey"]?.ToString() ?? "");
            if (corp is null || corp.AppSecret != body["appSecret"]?.ToString())
            {
                throw new SandboxRequestException(40089, "invalidClientIdOrSecret", "无效的clientId或者clientSecret");
            }

            var (token, expiresIn) = world.IssueToken(corp);
            return new JsonObject { ["accessToken"] = token, ["expireIn"] = expiresIn };
        }));

        app.MapGet("/gettoken", async (HttpContext c) =>
        {
            if (await pipeline.PrecheckAsync(c))
            {
                return;
            }

            var corp = world.FindByAppKey(c.Request.Query["appkey"].ToString());
            var reply = corp is null || corp.AppSecret != c.Request.Query["appsecret"].ToString()
                ? new JsonObject { ["errcode"] = 40089, ["errmsg"] = "不合法的corpId或corpSecret" }
                : world.IssueToken(corp) is var (token, expiresIn)
                    ? new JsonObject { ["errcode"] = 0, ["errmsg"] = "ok", ["access_token"] = token, ["expires_in"] = expiresIn }
                    : null!;
            await WriteJsonAsync(c, 200, reply);
        });

        // ---- 免登 (§2) ----
        Oapi(DingTalkApis.GetUserInfo, (corp, body) =>
        {
            var userId = world.RedeemAuthCode(corp, RequireString(body, "code"))
                         ?? throw new SandboxRequestException(40078, "InvalidCode", "不存在的临时授权码");
            return Locked(() =>
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

        Oapi(DingTalkApis.GetUser, (corp, body) => Locked(() =>
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

        // ---- 通讯录 (§3) ----
        Oapi(DingTalkApis.ListSubDepartments, (corp, body) => Locked(() =>
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

        Oapi(DingTalkApis.ListSubDepartmentIds, (corp, body) => Locked(() =>
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

        Oapi(DingTalkApis.GetDepartment, (corp, body) => Locked(() =>
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

        Oapi(DingTalkApis.ListUsers, (corp, body) => Locked(() =>
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

        Oapi(DingTalkApis.ListUserIds, (corp, body) => Locked(() =>
        {
            var deptId = RequireLong(body, "dept_id");
            RequireEnterpriseDept(corp, deptId);
            var ids = corp.Users.Values.Where(u => u.DeptIds.Contains(deptId)).Select(u => (JsonNode)u.UserId).ToArray();
            return Result(new JsonObject { ["userid_list"] = new JsonArray(ids) });
        }));

        // ---- 家校通讯录 (§4) ----
        Oapi(DingTalkApis.EduListDepts, (corp, body) => Locked(() =>
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

        Oapi(DingTalkApis.EduGetDept, (corp, body) => Locked(() =>
        {
            var node = corp.EduNodes.GetValueOrDefault(RequireLong(body, "dept_id"))
                       ?? throw new SandboxRequestException(60003, "NotFound", "部门不存在");
            return EduResult(new JsonObject { ["detail"] = SandboxEdu.Node(corp, node) });
        }));

        Oapi(DingTalkApis.EduListUsers, (corp, body) => Locked(() =>
        {
            var (pageNo, pageSize) = EduPaging(body);
            var classId = RequireLong(body, "class_id");
            var role = RequireRole(body);
            var members = SandboxWorld.Roster(corp, classId).ByRole(role);
            var page = members.Skip((pageNo - 1) * pageSize).Take(pageSize)
                .Select(m => (JsonNode)EduUserJson(classId, role, m)).ToArray();
            return EduResult(new JsonObject { ["has_more"] = pageNo * pageSize < members.Count, ["details"] = new JsonArray(page) });
        }));

        Oapi(DingTalkApis.EduGetUser, (corp, body) => Locked(() =>
        {
            var classId = RequireLong(body, "class_id");
            var role = RequireRole(body);
            var userId = RequireString(body, "userid");
            var member = SandboxWorld.Roster(corp, classId).ByRole(role).FirstOrDefault(m => m.UserId == userId)
                         ?? throw new SandboxRequestException(60121, "NotFound", "找不到该用户");
            return EduResult(new JsonObject { ["details"] = new JsonArray(EduUserJson(classId, role, member)) });
        }));

        Oapi(DingTalkApis.EduListRelations, (corp, body) => Locked(() =>
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

        // ---- 工作通知 (§5) ----
        Oapi(DingTalkApis.SendWorkNotice, (corp, body) =>
        {
            RequireAgent(corp, body);
            var userIds = (body["userid_list"]?.ToString() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (userIds.Length == 0)
            {
                throw new SandboxRequestException(1430000, "invalidParameter", "接收者为空");
            }

            if (userIds.Length > 100)
            {
                throw new SandboxRequestException(40035, "invalidParameter", "不合法的参数: userid_list 最多100个");
            }

            var message = body["msg"] as JsonObject ?? (body["msg"] is JsonValue v ? JsonNode.Parse(v.ToString()) as JsonObject : null)
                          ?? throw new SandboxRequestException(40035, "invalidParameter", "不合法的参数: msg");
            if (message["msgtype"] is null || System.Text.Encoding.UTF8.GetByteCount(message.ToJsonString()) > 2048)
            {
                throw new SandboxRequestException(40035, "invalidParameter", "不合法的参数: msg (msgtype, ≤2048 bytes)");
            }

            // One pass over the corp's rosters per call (not per recipient): a 100,000-guardian school stays cheap.
            HashSet<string> known;
            lock (world.Sync)
            {
                var wanted = userIds.ToHashSet(StringComparer.Ordinal);
                known = wanted.Where(corp.Users.ContainsKey).ToHashSet(StringComparer.Ordinal);
                foreach (var member in corp.Classes.Values.SelectMany(r => r.Guardians.Concat(r.Students)))
                {
                    if (wanted.Contains(member.UserId))
                    {
                        known.Add(member.UserId);
                    }
                }
            }

            bool Exists(string userId) => known.Contains(userId);

            var taskId = sandbox.Notices.Send(corp, userIds, message, Exists);
            return new JsonObject { ["task_id"] = taskId };
        });

        Oapi(DingTalkApis.GetSendProgress, (corp, body) =>
        {
            RequireAgent(corp, body);
            _ = RequireTask(sandbox, corp, body, "task_id");
            return new JsonObject { ["progress"] = new JsonObject { ["progress_in_percent"] = 100, ["status"] = 2 } };
        });

        Oapi(DingTalkApis.GetSendResult, (corp, body) =>
        {
            RequireAgent(corp, body);
            var task = RequireTask(sandbox, corp, body, "task_id");
            if (task.RecipientCount > 100)
            {
                throw new SandboxRequestException(-1, "systemError", "系统繁忙 (tasks with more than 100 recipients are not supported)");
            }

            var (invalid, forbidden, read, unread) = sandbox.Notices.Outcome(task);
            return new JsonObject
            {
                ["send_result"] = new JsonObject
                {
                    ["invalid_user_id_list"] = Strings(invalid),
                    ["forbidden_user_id_list"] = Strings(forbidden.Select(f => f.UserId)),
                    ["failed_user_id_list"] = new JsonArray(),
                    ["read_user_id_list"] = Strings(read),
                    ["unread_user_id_list"] = Strings(unread),
                    ["invalid_dept_id_list"] = new JsonArray(),
                    ["forbidden_list"] = new JsonArray(forbidden.Select(f => (JsonNode)new JsonObject
                    {
                        ["code"] = f.Code, ["count"] = 1, ["userid"] = f.UserId,
                    }).ToArray()),
                },
            };
        });

        Oapi(DingTalkApis.RecallWorkNotice, (corp, body) =>
        {
            RequireAgent(corp, body);
            var taskId = RequireLong(body, "msg_task_id");
            return sandbox.Notices.Recall(corp, taskId)
                ? new JsonObject()
                : throw new SandboxRequestException(400002, "invalidParameter", "agentId或taskId不合法");
        });

        // ---- 推送失败的事件 (§7e) ----
        Oapi(DingTalkApis.GetFailedCallbacks, (corp, _) =>
        {
            var (events, hasMore) = sandbox.Push.TakeFailed(corp.CorpId);
            return new JsonObject
            {
                ["has_more"] = hasMore,
                ["failed_list"] = new JsonArray(events.Select(e => (JsonNode)e.FailedListItem()).ToArray()),
            };
        });

        // ---- 审批 (§6) ----
        app.MapPost("/" + DingTalkApis.CreateProcessInstance.Path, (HttpContext c) => pipeline.ApiAsync(c, DingTalkApis.CreateProcessInstance, (corp, body) =>
        {
            CreateProcessInstanceRequest request;
            try
            {
                request = body.Deserialize<CreateProcessInstanceRequest>(DingTalkJson.Api)
                          ?? throw new SandboxRequestException(0, "invalidParameter", "Empty body.");
            }
            catch (JsonException ex)
            {
                throw new SandboxRequestException(0, "invalidParameter", ex.Message);
            }

            if (string.IsNullOrEmpty(request.ProcessCode) || string.IsNullOrEmpty(request.OriginatorUserId))
            {
                throw new SandboxRequestException(0, "invalidParameter", "processCode and originatorUserId are required.");
            }

            List<Events.SandboxEvent> events;
            string instanceId;
            lock (world.Sync)
            {
                (instanceId, events) = sandbox.Approvals.Create(corp, request);
            }

            sandbox.Publish(events);
            return new JsonObject { ["instanceId"] = instanceId };
        }));

        app.MapGet("/" + DingTalkApis.GetProcessInstance.Path, (HttpContext c) => pipeline.ApiAsync(c, DingTalkApis.GetProcessInstance, (corp, _) =>
        {
            var id = c.Request.Query["processInstanceId"].ToString();
            var instance = sandbox.Approvals.Get(corp, id)
                           ?? throw new SandboxRequestException(0, "invalidParameter", $"实例不存在 ({id}).");
            return new JsonObject
            {
                ["result"] = JsonSerializer.SerializeToNode(instance, DingTalkJson.Api),
                ["success"] = "true",
            };
        }));

        // ---- Stream (§9) ----
        app.MapPost("/" + DingTalkApis.OpenStreamConnection.Path, (HttpContext c) => pipeline.PublicApiAsync(c, body =>
        {
            var corp = world.FindByAppKey(body["clientId"]?.ToString() ?? "");
            if (corp is null || corp.AppSecret != body["clientSecret"]?.ToString())
            {
                throw new SandboxRequestException(0, "authFailed", "鉴权失败", StatusCodes.Status401Unauthorized);
            }

            if (sandbox.PushQuotaExhausted(corp.CorpId))
            {
                // Contract §12: the month's pushes are used up; the message service is paused until the month turns.
                throw new SandboxRequestException(20001, "20001", "受调用量超量影响，当前我的消息服务已经暂停", StatusCodes.Status403Forbidden);
            }

            sandbox.SubscribeStream(corp);
            var scheme = c.Request.IsHttps ? "wss" : "ws";
            return new JsonObject
            {
                ["endpoint"] = $"{scheme}://{c.Request.Host}/connect",
                ["ticket"] = sandbox.Stream.IssueTicket(corp),
            };
        }));

        app.Map("/connect", sandbox.Stream.AcceptAsync);
        return app;
    }

    private static JsonObject Result(JsonNode result) => new() { ["result"] = result };

    /// <summary>Edu replies also carry success (§4).</summary>
    private static JsonObject EduResult(JsonNode result) => new() { ["success"] = true, ["result"] = result };

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)v).ToArray());

    private static SandboxDept RequireEnterpriseDept(SandboxCorp corp, long deptId) =>
        corp.Departments.GetValueOrDefault(deptId) ?? throw new SandboxRequestException(60003, "NotFound", "部门不存在");

    private static string RequireRole(JsonObject body)
    {
        var role = RequireString(body, "role");
        return role is EduRoles.Teacher or EduRoles.Guardian or EduRoles.Student
            ? role
            : throw new SandboxRequestException(40035, "invalidParameter", $"不合法的参数: role ({role}); teacher, guardian or student");
    }

    private static void RequireAgent(SandboxCorp corp, JsonObject body)
    {
        if (RequireLong(body, "agent_id") != corp.AgentId)
        {
            throw new SandboxRequestException(400002, "invalidParameter", "agentId不合法");
        }
    }

    private static WorkNoticeStore.NoticeTask RequireTask(DingTalkSandbox sandbox, SandboxCorp corp, JsonObject body, string name)
    {
        var task = sandbox.Notices.Find(corp, RequireLong(body, name));
        return task is not null && sandbox.Time.GetUtcNow() - task.CreatedAt <= TimeSpan.FromHours(24)
            ? task
            : throw new SandboxRequestException(40035, "invalidParameter", "不合法的参数: task_id");
    }

    private static JsonObject UserJson(SandboxUser user, long? inDept) => new()
    {
        ["userid"] = user.UserId, ["unionid"] = user.UnionId, ["name"] = user.Name, ["avatar"] = "", ["state_code"] = "86",
        ["mobile"] = user.Mobile, ["hide_mobile"] = false, ["telephone"] = "", ["job_number"] = user.JobNumber,
        ["title"] = user.Title, ["email"] = "", ["org_email"] = "", ["work_place"] = "", ["remark"] = "",
        ["dept_id_list"] = new JsonArray(user.DeptIds.Select(d => (JsonNode)d).ToArray()),
        ["dept_order"] = inDept is { } d2 ? user.DeptIds.IndexOf(d2) : 0, ["extension"] = "{}", ["hired_date"] = user.HiredDate,
        ["active"] = true, ["admin"] = user.Admin, ["boss"] = user.Boss,
        ["leader"] = inDept is { } d3 && user.LeaderOf.Contains(d3), ["exclusive_account"] = false,
    };

    private static JsonObject EduUserJson(long classId, string role, SandboxEduMember member)
    {
        var item = new JsonObject
        {
            ["userid"] = member.UserId, ["name"] = member.Name, ["unionid"] = member.UnionId, ["class_id"] = classId,
            ["role"] = role,
            ["feature"] = member.StudentNo is null ? "{}" : new JsonObject { ["student_no"] = member.StudentNo }.ToJsonString(),
        };
        if (role == EduRoles.Teacher)
        {
            item["is_adviser"] = member.IsAdviser ? "1" : "0";
        }

        if (role == EduRoles.Student && member.StudentNo is not null)
        {
            item["student_no"] = member.StudentNo;
        }

        return item;
    }
}
