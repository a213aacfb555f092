using EduDing.Api.Data;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.DingTalk;

/// <summary>
/// A feature's share of DingTalk's events: the types it registers, and how it applies a batch of them. Handlers read
/// an event as "this changed, look again", so applying one twice, late or out of order changes nothing.
/// </summary>
internal interface IDingTalkEventHandler
{
    /// <summary>Shown to operators when the handler fails.</summary>
    string Name { get; }

    bool Handles(string eventType);

    Task HandleAsync(CorpConfig corp, IReadOnlyList<InboxEvent> events, CancellationToken ct);
}

/// <summary>
/// Hands a corp's inbox, in arrival order, to the features that registered each event type (docs/events.md), one
/// instance at a time per corp (a lease). A type nobody registered is kept as unhandled; a handler that throws has its
/// events retried with doubling waits and then parked with the error, while the corp's other events go on.
/// </summary>
internal sealed class EventDispatcher(EventInbox inbox, IEnumerable<IDingTalkEventHandler> handlers, CorpDirectory corps,
    LeaseRepository leases, ServiceInstance instance, IOptions<OrgSyncOptions> options, ILogger<EventDispatcher> log)
{
    public const int BatchSize = 200;

    private readonly IReadOnlyList<IDingTalkEventHandler> _handlers = handlers.ToList();

    /// <summary>Applies the corp's due events; how many were applied (0 when another instance has the corp).</summary>
    public async Task<int> ProcessPendingAsync(string corpId, CancellationToken ct)
    {
        var corp = corps.Find(corpId);
        if (corp is null)
        {
            return 0;
        }

        var lease = $"events:{corpId}";
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

                var byHandler = batch.GroupBy(e => _handlers.FirstOrDefault(h => h.Handles(e.EventType))).ToList();
                if (byHandler.FirstOrDefault(g => g.Key is null) is { } unhandled)
                {
                    await inbox.MarkUnhandledAsync(unhandled.ToList(), ct);
                }

                foreach (var group in byHandler.Where(g => g.Key is not null))
                {
                    var events = group.ToList();
                    try
                    {
                        await group.Key!.HandleAsync(corp, events, ct);
                        await inbox.MarkProcessedAsync(events.Select(e => e.Id), ct);
                        applied += events.Count;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        log.LogWarning("{Handler} failed on {Count} events of {CorpId} ({Reason}); they are retried later", group.Key!.Name,
                            events.Count, corpId, ex.Message);
                        var o = options.Value;
                        await inbox.MarkFailedAsync(events, $"{group.Key!.Name}: {ex.Message}", o.MaxEventAttempts, o.EventRetryDelay,
                            o.EventRetryMaxDelay, ct);
                    }
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
}
