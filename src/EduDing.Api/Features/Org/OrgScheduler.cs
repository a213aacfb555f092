using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Org;

/// <summary>Decides which corps need a full reconcile now: never synced, requested, or not since last night's slot.</summary>
/// <remarks>
/// Corps are reconciled side by side (OrgSync:CorpConcurrency), so a corp whose DingTalk calls time out never holds
/// the others up; after a failed run a corp waits, twice as long after each further failure, unless someone asks for
/// a sync after that failure. Runs whose runner died (lease lapsed) are closed as failed.
/// </remarks>
internal sealed class OrgScheduler(CorpDirectory corps, OrgRepository org, OrgSyncService sync, SyncRunRepository runs,
    LeaseRepository leases, IOptions<OrgSyncOptions> options, TimeProvider time, ILogger<OrgScheduler> log, PushBudget? pushes = null)
{
    /// <summary>Registers the configured corps and runs every due reconcile; returns the run ids started here.</summary>
    public async Task<IReadOnlyList<long>> RunDueAsync(CancellationToken ct)
    {
        var now = time.UtcNowForDatabase();
        await org.UpsertCorpsAsync(corps.All.Select(c => (c.CorpId, c.Kind.ToString(), c.Name)), now, ct);
        await CloseAbandonedRunsAsync(now, ct);
        var lastSlot = LastNightlySlot(now);
        var due = new List<(CorpRow Corp, string Trigger)>();
        foreach (var corp in await org.ListCorpsAsync(ct))
        {
            if (corps.Find(corp.CorpId) is null)
            {
                continue;
            }

            var trigger = corp.LastFullSyncAt is null ? "initial"
                : corp.SyncRequestedAt is not null ? "requested"
                : corp.LastFullSyncAt < lastSlot ? "nightly"
                : corp.LastFullSyncAt < now - options.Value.ReconcileOnlyInterval && pushes is not null &&
                  (await pushes.StateAsync(corp.CorpId, ct)).ReconcileOnly ? "reconcile-only"
                : null;
            if (trigger is not null && await BackoffOverAsync(corp, now, ct))
            {
                due.Add((corp, trigger));
            }
        }

        var started = new System.Collections.Concurrent.ConcurrentBag<long>();
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = options.Value.CorpConcurrency, CancellationToken = ct },
            async (corp, token) =>
            {
                if (await sync.RunFullSyncAsync(corp.Corp.CorpId, corp.Trigger, token, seen: corp.Corp) is { } runId)
                {
                    started.Add(runId);
                }
            });
        return started.Order().ToList();
    }

    /// <summary>False while the corp waits out the backoff after failed runs; a sync requested after the last failure does not wait.</summary>
    private async Task<bool> BackoffOverAsync(CorpRow corp, DateTime now, CancellationToken ct)
    {
        var (failures, lastFailedAt) = await runs.RecentFailuresAsync(corp.CorpId, ct);
        if (failures == 0 || lastFailedAt is null || corp.SyncRequestedAt > lastFailedAt)
        {
            return true;
        }

        var o = options.Value;
        var wait = Backoff.Doubling(o.FailedSyncRetryDelay, o.FailedSyncRetryMaxDelay, failures);
        return now >= lastFailedAt.Value + wait;
    }

    private async Task CloseAbandonedRunsAsync(DateTime now, CancellationToken ct)
    {
        foreach (var run in await runs.RunningAsync(ct))
        {
            var lease = await leases.FindAsync(OrgSyncService.LeaseName(run.CorpId), ct);
            if ((lease is null || lease.ExpiresAt <= now || lease.Holder != run.Holder)
                && await runs.AbandonAsync(run.Id, $"abandoned: its runner ({run.Holder}) stopped renewing the corp's lease", now, ct))
            {
                log.LogWarning("Sync run {RunId} of {CorpId} was abandoned by {Holder}; recorded as failed", run.Id, run.CorpId, run.Holder);
            }
        }
    }

    /// <summary>The most recent NightlyAt (Asia/Shanghai) at or before <paramref name="now"/>, in UTC.</summary>
    private DateTime LastNightlySlot(DateTime now)
    {
        var local = ShanghaiTime.FromUtc(now);
        var slot = new DateTimeOffset(local.Date.Add(options.Value.NightlyAt.ToTimeSpan()), ShanghaiTime.Offset);
        if (slot > local)
        {
            slot = slot.AddDays(-1);
        }

        return slot.UtcDateTime;
    }
}
