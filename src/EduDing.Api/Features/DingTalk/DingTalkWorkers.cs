using EduDing.Api.Features.Org;
using EduDing.DingTalk;
using EduDing.DingTalk.Stream;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.DingTalk;

// The workers share OrgSync:RunWorkers and the OrgSync settings for events, polling and corp concurrency (docs/events.md).

/// <summary>Hands inbox events to the features that handle them, corp by corp.</summary>
internal sealed class EventWorker(IServiceScopeFactory scopes, IOptions<OrgSyncOptions> options, TimeProvider time,
    ILogger<EventWorker> log) : OrgWorker(scopes, options, time, log)
{
    protected override TimeSpan Interval => Settings.EventPollInterval;

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken ct)
    {
        // Side by side, so that a corp whose DingTalk calls time out does not hold up the healthy ones.
        var processor = services.GetRequiredService<EventDispatcher>();
        await Parallel.ForEachAsync(await services.GetRequiredService<EventInbox>().CorpsWithPendingAsync(ct),
            new ParallelOptions { MaxDegreeOfParallelism = Settings.CorpConcurrency, CancellationToken = ct },
            async (corpId, token) => await processor.ProcessPendingAsync(corpId, token));
    }
}

/// <summary>Drains DingTalk's failed-push lists of HTTP-delivery corps, and flushes metered-call counts.</summary>
internal sealed class FailedPushWorker(IServiceScopeFactory scopes, IOptions<OrgSyncOptions> options, TimeProvider time,
    ILogger<FailedPushWorker> log) : OrgWorker(scopes, options, time, log)
{
    protected override TimeSpan Interval => Settings.FailedPushDrainInterval;

    protected override async Task RunOnceAsync(IServiceProvider services, CancellationToken ct)
    {
        var intake = services.GetRequiredService<EventIntake>();
        var log = services.GetRequiredService<ILogger<FailedPushWorker>>();
        await Parallel.ForEachAsync(services.GetRequiredService<CorpDirectory>().All.Where(c => c.Delivery == EventDelivery.Http),
            new ParallelOptions { MaxDegreeOfParallelism = Settings.CorpConcurrency, CancellationToken = ct },
            async (corp, token) =>
            {
                try
                {
                    await intake.DrainFailedPushesAsync(corp, token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    log.LogWarning("Could not drain the failed pushes of {CorpId}: {Reason}; trying again in {Interval}", corp.CorpId,
                        ex.Message, Interval);
                }
            });

        await services.GetRequiredService<CallUsageTracker>().FlushAsync(ct);
    }
}

/// <summary>One Stream connection per Stream-delivery corp, feeding the inbox; DingTalk spreads frames over instances.</summary>
/// <remarks>
/// Resolves the client when it runs, not when constructed: the host builds every hosted service before starting any,
/// and in sandbox mode the client's address exists only once the sandbox host has started.
/// </remarks>
internal sealed class StreamIngestWorker(IServiceProvider services, IOptions<OrgSyncOptions> options, ILoggerFactory loggers)
    : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunWorkers)
        {
            return Task.CompletedTask;
        }

        var client = services.GetRequiredService<DingTalkClient>();
        var intake = services.GetRequiredService<EventIntake>();
        var pushes = services.GetRequiredService<PushBudget>();
        var log = loggers.CreateLogger<StreamIngestWorker>();
        return Task.WhenAll(services.GetRequiredService<CorpDirectory>().All.Where(c => c.Delivery == EventDelivery.Stream).Select(corp =>
            new DingTalkStreamClient(client, corp.App, new DingTalkStreamOptions
                {
                    MaxReconnectDelay = options.Value.StreamMaxReconnectDelay,
                    // 20001: the month's pushes are used up; events stop until the month turns, reconciling keeps the mirror.
                    OnConnectFailed = async ex =>
                    {
                        if (ex is DingTalkException { Code: "20001" } refused)
                        {
                            log.LogWarning("DingTalk paused event delivery for {CorpId} ({Message}); reconcile-only until the month turns",
                                corp.CorpId, refused.DingTalkMessage);
                            await pushes.MarkExhaustedAsync(corp.CorpId, $"DingTalk 20001: {refused.DingTalkMessage}", stoppingToken);
                        }
                    },
                }, loggers.CreateLogger<DingTalkStreamClient>())
                .RunAsync((ev, ct) => intake.FromStreamAsync(corp, ev, ct), stoppingToken)));
    }
}
