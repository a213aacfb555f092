using System.Text.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Org;

/// <summary>
/// Applies a corp's inbox in arrival order, one instance at a time (a lease per corp). Every event is read as "these
/// ids changed": the person, department, node or class is re-read from DingTalk and stored as it is now, so an event
/// applied twice, late or out of order changes nothing, and a removal is seen as the id being gone. Within a batch each
/// id is re-read once, which keeps metered 家校 calls down.
/// </summary>
internal sealed class OrgEventProcessor(EventInbox inbox, DingTalkOrgReader reader, CorpDirectory corps, OrgRepository org,
    LeaseRepository leases, ServiceInstance instance, IOptions<OrgSyncOptions> options, TimeProvider time,
    ILogger<OrgEventProcessor> log)
{
    public const int BatchSize = 200;

    /// <summary>Applies the corp's pending events; how many were applied (0 when another instance has the corp).</summary>
    public async Task<int> ProcessPendingAsync(string corpId, CancellationToken ct)
    {
        var corp = corps.Find(corpId);
        if (corp is null)
        {
            return 0;
        }

        var lease = $"org-events:{corpId}";
        if (!await leases.TryAcquireAsync(lease, instance.Id, options.Value.LeaseDuration, ct))
        {
            return 0;
        }

        var applied = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var batch = await inbox.PendingAsync(corpId, BatchSize, ct);
                if (batch.Count == 0)
                {
                    break;
                }

                // Only the organization's own events are this processor's; anything else (approvals, a type nobody
                // handles yet) is kept as unhandled, visible to operators and replayable, never marked processed.
                var unhandled = batch.Where(e => !Handles(e.EventType)).ToList();
                if (unhandled.Count > 0)
                {
                    await inbox.MarkUnhandledAsync(unhandled, ct);
                    batch = batch.Except(unhandled).ToList();
                }

                var ids = batch.Select(e => e.Id).ToList();
                try
                {
                    await ApplyAsync(corp, Changes.From(batch), ct);
                    await inbox.MarkProcessedAsync(ids, ct);
                    applied += batch.Count;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.LogWarning("Applying {Count} events of {CorpId} failed ({Reason}); they are retried later", batch.Count, corpId,
                        ex.Message);
                    var o = options.Value;
                    await inbox.MarkFailedAsync(batch, ex.Message, o.MaxEventAttempts, o.EventRetryDelay, o.EventRetryMaxDelay, ct);
                    break;
                }

                await leases.TryAcquireAsync(lease, instance.Id, options.Value.LeaseDuration, ct);
            }
        }
        finally
        {
            await leases.ReleaseAsync(lease, instance.Id, CancellationToken.None);
        }

        return applied;
    }

    /// <summary>The event types the org mirror applies (contract §8): 通讯录 changes and 家校 changes.</summary>
    public static bool Handles(string eventType) =>
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
