using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Org;

/// <summary>Decides which corps need a full reconcile now: never synced, requested, or not since last night's slot.</summary>
internal sealed class OrgScheduler(CorpDirectory corps, OrgRepository org, OrgSyncService sync, IOptions<OrgSyncOptions> options,
    TimeProvider time)
{
    /// <summary>Registers the configured corps and runs every due reconcile; returns the run ids started here.</summary>
    public async Task<IReadOnlyList<long>> RunDueAsync(CancellationToken ct)
    {
        var now = time.UtcNowForDatabase();
        await org.UpsertCorpsAsync(corps.All.Select(c => (c.CorpId, c.Kind.ToString(), c.Name)), now, ct);
        var lastSlot = LastNightlySlot(now);
        var started = new List<long>();
        foreach (var corp in await org.ListCorpsAsync(ct))
        {
            if (corps.Find(corp.CorpId) is null)
            {
                continue;
            }

            var trigger = corp.LastFullSyncAt is null ? "initial"
                : corp.SyncRequestedAt is not null ? "requested"
                : corp.LastFullSyncAt < lastSlot ? "nightly"
                : null;
            if (trigger is not null && await sync.RunFullSyncAsync(corp.CorpId, trigger, ct) is { } runId)
            {
                started.Add(runId);
            }
        }

        return started;
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
