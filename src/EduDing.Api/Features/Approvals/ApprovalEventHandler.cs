using System.Text.Json;
using System.Text.Json.Nodes;
using EduDing.Api.Features.DingTalk;

namespace EduDing.Api.Features.Approvals;

/// <summary>
/// DingTalk OA events (contract §6d): bpms_instance_change and bpms_task_change name an instance; the instance is
/// re-read and the request moved to where DingTalk says it is, so duplicated, reordered or late events change nothing
/// and a missed one is caught by the periodic re-read. Instances that are not ours are ignored.
/// </summary>
internal sealed class ApprovalEventHandler(ApprovalService approvals) : IDingTalkEventHandler
{
    public string Name => "approvals";

    public bool Handles(string eventType) => eventType is "bpms_instance_change" or "bpms_task_change";

    public async Task HandleAsync(CorpConfig corp, IReadOnlyList<InboxEvent> events, CancellationToken ct)
    {
        foreach (var instanceId in events.Select(e => InstanceId(e.Payload)).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            await approvals.RefreshInstanceAsync(corp, instanceId, ct);
        }
    }

    private static string? InstanceId(string payload)
    {
        try
        {
            return (JsonNode.Parse(payload) as JsonObject)?
                .FirstOrDefault(p => string.Equals(p.Key, "processInstanceId", StringComparison.OrdinalIgnoreCase)).Value?.ToString();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
