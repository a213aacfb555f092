using System.Text.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;

namespace EduDing.Api.Features.Org;

/// <summary>
/// The org mirror's events (contract §8): every event is read as "these ids changed", and the person, department,
/// node or class is re-read from DingTalk and stored as it is now, so an event applied twice, late or out of order
/// changes nothing, and a removal is seen as the id being gone. Within a batch each id is re-read once, which keeps
/// metered 家校 calls down.
/// </summary>
internal sealed class OrgEventHandler(DingTalkOrgReader reader, OrgRepository org, TimeProvider time) : IDingTalkEventHandler
{
    public string Name => "org mirror";

    public Task HandleAsync(CorpConfig corp, IReadOnlyList<InboxEvent> events, CancellationToken ct) =>
        ApplyAsync(corp, Changes.From(events), ct);

    /// <summary>The event types the org mirror applies (contract §8): 通讯录 changes and 家校 changes.</summary>
    public bool Handles(string eventType) => IsOrgEvent(eventType);

    public static bool IsOrgEvent(string eventType) =>
        eventType is "user_add_org" or "user_modify_org" or "user_leave_org" or "user_active_org" or "org_admin_add" or "org_admin_remove"
            or "org_dept_create" or "org_dept_modify" or "org_dept_remove"
        || eventType.StartsWith("edu_dept_", StringComparison.Ordinal) || eventType.StartsWith("edu_user_", StringComparison.Ordinal);

    private async Task ApplyAsync(CorpConfig corp, Changes changes, CancellationToken ct)
    {
        var now = time.UtcNowForDatabase();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct };
        await Parallel.ForEachAsync(changes.Departments, parallel, async (deptId, token) =>
        {
            if (await reader.ReadDepartmentAsync(corp, deptId, token) is { } dept)
            {
                await org.UpsertDepartmentAsync(corp.CorpId, dept, now, token);
            }
            else
            {
                await org.MarkDepartmentRemovedAsync(corp.CorpId, deptId, now, token);
            }
        });
        await Parallel.ForEachAsync(changes.Users, parallel, async (userId, token) =>
        {
            if (await reader.ReadUserAsync(corp, userId, token) is { } staff)
            {
                await org.UpsertStaffAsync(corp.CorpId, staff, now, token);
            }
            else
            {
                await org.MarkStaffRemovedAsync(corp.CorpId, userId, now, token);
            }
        });

        var known = (await org.ListEduNodesAsync(corp.CorpId, ct)).Select(n => n.NodeId).ToHashSet();
        var classes = new HashSet<long>(changes.Classes);
        foreach (var nodeId in changes.EduNodes.Concat(changes.Classes.Where(c => !known.Contains(c))).Distinct())
        {
            if (await reader.ReadEduNodeAsync(corp, nodeId, ct) is { } node)
            {
                await org.UpsertEduNodeAsync(corp.CorpId, node, now, ct);
                if (node.NodeType == "class")
                {
                    classes.Add(nodeId);
                }
            }
            else
            {
                await org.MarkEduNodeRemovedAsync(corp.CorpId, nodeId, now, ct);
                classes.Remove(nodeId);
            }
        }

        await Parallel.ForEachAsync(classes, parallel, async (classId, token) =>
        {
            if (await reader.ReadClassAsync(corp, classId, token) is { } roster)
            {
                await org.ApplyClassRosterAsync(corp.CorpId, classId, roster, now, token);
            }
            else
            {
                await org.MarkEduNodeRemovedAsync(corp.CorpId, classId, now, token);
            }
        });
    }

    /// <summary>The ids a batch of events says changed, by kind; payload keys are matched ignoring case and underscores.</summary>
    private sealed class Changes
    {
        public HashSet<string> Users { get; } = new(StringComparer.Ordinal);

        public HashSet<long> Departments { get; } = [];

        public HashSet<long> EduNodes { get; } = [];

        public HashSet<long> Classes { get; } = [];

        public static Changes From(IEnumerable<InboxEvent> events)
        {
            var changes = new Changes();
            foreach (var ev in events)
            {
                JsonObject payload;
                try
                {
                    payload = JsonNode.Parse(ev.Payload) as JsonObject ?? [];
                }
                catch (JsonException)
                {
                    continue;
                }

                switch (ev.EventType)
                {
                    case "user_add_org" or "user_modify_org" or "user_leave_org" or "user_active_org" or "org_admin_add" or "org_admin_remove":
                        changes.Users.UnionWith(Strings(Field(payload, "userid")));
                        break;
                    case "org_dept_create" or "org_dept_modify" or "org_dept_remove":
                        changes.Departments.UnionWith(Longs(Field(payload, "deptid")));
                        break;
                    case "edu_dept_insert" or "edu_dept_update" or "edu_dept_delete":
                        changes.EduNodes.UnionWith(Longs(Field(payload, "deptid")));
                        break;
                    case var t when t.StartsWith("edu_user_", StringComparison.Ordinal):
                        changes.Classes.UnionWith(Longs(Field(payload, "classid")));
                        break;
                }
            }

            return changes;
        }

        private static JsonNode? Field(JsonObject payload, string normalized) =>
            payload.FirstOrDefault(p => Normalize(p.Key) == normalized).Value;

        private static string Normalize(string key) => key.Trim().Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

        private static IEnumerable<string> Strings(JsonNode? node) => node switch
        {
            JsonArray array => array.Select(v => v?.ToString()).OfType<string>(),
            JsonValue value => [value.ToString()],
            _ => [],
        };

        private static IEnumerable<long> Longs(JsonNode? node) =>
            Strings(node).Select(s => long.TryParse(s, out var id) ? id : (long?)null).OfType<long>();
    }
}
