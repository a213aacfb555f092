using System.Text.Json.Nodes;
using EduDing.DingTalk;
using EduDing.DingTalk.Stream;

namespace EduDing.Api.Features.DingTalk;

/// <summary>
/// Puts events into the inbox from wherever they come: Stream frames, and DingTalk's list of pushes it failed to
/// deliver (drained at start and periodically). HTTP pushes come in through <see cref="CallbackEndpoints"/>.
/// </summary>
internal sealed class EventIntake(EventInbox inbox, DingTalkClient client, ILogger<EventIntake> log)
{
    /// <summary>A Stream EVENT frame: SUCCESS once stored (or already stored), LATER if the database failed.</summary>
    public async Task<StreamAck> FromStreamAsync(CorpConfig corp, StreamEvent ev, CancellationToken ct)
    {
        try
        {
            var payload = JsonNode.Parse(ev.Data) as JsonObject ?? [];
            payload["EventType"] = ev.EventType;
            var text = payload.ToJsonString();
            await inbox.TryAddAsync(corp.CorpId, EventInbox.KeyFor(ev.EventId, ev.EventType, text), ev.EventType, text, EventSource.Stream, ct);
            return StreamAck.Success;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "Could not store stream event {EventId} of {CorpId}; asking DingTalk to deliver it again", ev.EventId, corp.CorpId);
            return StreamAck.Later;
        }
    }

    /// <summary>Takes every event DingTalk failed to push to this corp (DingTalk hands each out once); returns how many.</summary>
    public async Task<int> DrainFailedPushesAsync(CorpConfig corp, CancellationToken ct)
    {
        var taken = 0;
        while (true)
        {
            var page = await client.GetFailedCallbacksAsync(corp.App, ct);
            foreach (var failed in page.Events)
            {
                var payload = failed.Data is null ? [] : (JsonObject)failed.Data.DeepClone();
                payload["EventType"] = failed.EventType;
                var text = payload.ToJsonString();
                await inbox.TryAddAsync(corp.CorpId, EventInbox.KeyFor(payload["eventId"]?.ToString(), failed.EventType, text),
                    failed.EventType, text, EventSource.FailedList, ct);
                taken++;
            }

            if (!page.HasMore || page.Events.Count == 0)
            {
                return taken;
            }
        }
    }
}
