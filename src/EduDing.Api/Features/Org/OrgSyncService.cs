using System.Collections.Concurrent;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Hosting;
using EduDing.DingTalk;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Org;

/// <summary>
/// The full reconcile of one corp, as a background job: the enterprise tree and its staff, then the 家校 tree and each
/// class's people and relations. Exactly one runner per corp across all instances (a lease renewed while it runs).
/// A permission or scope error fails the run naming what is missing; an org that answers with nobody in it is a
/// failure too, never a "successful" empty sync. When the month's call budget cannot cover every class, a rotating
/// share is reconciled (never-read classes first, then the least recently reconciled) and the run says so
/// (docs/org-mirror.md "The monthly call budget").
/// </summary>
internal sealed class OrgSyncService(DingTalkOrgReader reader, CorpDirectory corps, OrgRepository org, SyncRunRepository runs,
    LeaseRepository leases, CallUsageTracker usage, ServiceInstance instance, IOptions<OrgSyncOptions> options,
    TimeProvider time, ILogger<OrgSyncService> log)
{
    [Description("全量同步")]
    public const string Kind = "full";

    public static string LeaseName(string corpId) => $"org-sync:{corpId}";

    /// <summary>
    /// Runs a full reconcile; the run's id, or null when another instance holds this corp's lease. With the corp as the
    /// caller saw it when it judged the sync due (<c>seen</c>), the corp is read again under the lease: a full sync that
    /// finished since (on another instance, which held the lease meanwhile) satisfies the trigger, and none is run.
    /// </summary>
    public async Task<long?> RunFullSyncAsync(string corpId, string trigger, CancellationToken ct, CorpRow? seen = null)
    {
        var corp = corps.Get(corpId);
        var leaseName = LeaseName(corpId);
        var o = options.Value;
        if (!await leases.TryAcquireAsync(leaseName, instance.Id, o.LeaseDuration, ct))
        {
            return null;
        }

        if (seen is not null && await org.FindCorpAsync(corpId, ct) is { } current && current.LastFullSyncAt != seen.LastFullSyncAt &&
            (trigger != "requested" || current.SyncRequestedAt is null))
        {
            await leases.ReleaseAsync(leaseName, instance.Id, CancellationToken.None);
            log.LogDebug("The {Trigger} sync of {CorpId} was done meanwhile by another instance", trigger, corpId);
            return null;
        }

        using var running = CancellationTokenSource.CreateLinkedTokenSource(ct);
        running.CancelAfter(o.MaxRunDuration);
        var leaseLost = new StrongBox<bool>();
        var renewal = RenewWhileRunningAsync(leaseName, running, leaseLost);
        using var activity = EduDingTelemetry.Activities.StartActivity("org full sync");
        activity?.SetTag("dingtalk.corp_id", corpId);
        activity?.SetTag("eduding.sync.trigger", trigger);
        var started = time.GetTimestamp();
        var requestedBefore = time.UtcNowForDatabase();
        var now = requestedBefore;
        var runId = await runs.StartAsync(corpId, Kind, trigger, instance.Id, now, ct);
        var progress = new Progress(runs, runId, time);
        using var attribution = CallUsageTracker.AttributeTo(progress.Calls);
        string? note = null;
        try
        {
            // The enterprise tree and the 家校 tree use different APIs with separate rate limits: read them side by side.
            await progress.PhaseAsync("reconciling", running.Token);
            note = await FirstFailureCancelsTheOtherAsync(running,
                async () =>
                {
                    await SyncEnterpriseAsync(corp, now, progress, running.Token);
                    return null;
                },
                () => SyncEduAsync(corp, now, progress, running.Token));

            await usage.FlushAsync(running.Token);
            await runs.FinishAsync(runId, SyncRunRepository.Succeeded, progress.Counts, progress.Calls.Snapshot(), note, null,
                time.UtcNowForDatabase(), CancellationToken.None);
            await org.MarkFullSyncedAsync(corpId, now, requestedBefore, CancellationToken.None);
            EduDingTelemetry.SyncDuration.Record(time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", "succeeded"));
            log.LogInformation("Full sync of {CorpId} succeeded: {Counts}; {Calls} DingTalk calls{Note}", corpId,
                string.Join(", ", progress.Counts.Select(c => $"{c.Key} {c.Value}")), progress.Calls.Total,
                note is null ? "" : "; " + note);
            return runId;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var error = ex is OperationCanceledException
                ? leaseLost.Value
                    ? "stopped: this instance lost the corp's lease (another instance may have taken over)"
                    : $"stopped: the run did not finish within OrgSync:MaxRunDuration ({o.MaxRunDuration})"
                : Describe(ex);
            // An outage is expected and said in the error; only the unexpected deserves a stack trace.
            log.LogError(ex is DingTalkException or TimeoutException or HttpRequestException or OperationCanceledException ? null : ex,
                "Full sync of {CorpId} failed: {Error}", corpId, error);
            await runs.FinishAsync(runId, SyncRunRepository.Failed, progress.Counts, progress.Calls.Snapshot(), note, error,
                time.UtcNowForDatabase(), CancellationToken.None);
            EduDingTelemetry.SyncDuration.Record(time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", "failed"));
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, error);
            return runId;
        }
        finally
        {
            await running.CancelAsync();
            await renewal;
            await leases.ReleaseAsync(leaseName, instance.Id, CancellationToken.None);
        }
    }

    private async Task SyncEnterpriseAsync(CorpConfig corp, DateTime now, Progress progress, CancellationToken ct)
    {
        var departments = await reader.ReadDepartmentsAsync(corp, progress.Increment, ct);
        var staff = await reader.ReadStaffAsync(corp, departments, ct);
        if (staff.Count == 0)
        {
            throw new OrgSyncFailedException(
                "DingTalk listed nobody in this corp. The app's address-book scope (通讯录权限范围) or its read permissions " +
                "(qyapi_get_department_list, qyapi_get_department_member) are probably missing; nothing was changed.");
        }

        await org.ReplaceDepartmentsAsync(corp.CorpId, departments, now, EventsSince(now), ct);
        await org.ReplaceStaffAsync(corp.CorpId, staff, now, EventsSince(now), ct);
        progress.Set("departments", departments.Count);
        progress.Set("staff", staff.Count);
    }

    /// <summary>The 家校 tree, then the chosen classes; returns the budget note when only a share was reconciled.</summary>
    private async Task<string?> SyncEduAsync(CorpConfig corp, DateTime now, Progress progress, CancellationToken ct)
    {
        var nodes = await reader.ReadEduTreeAsync(corp, ct);
        await org.ReplaceEduNodesAsync(corp.CorpId, nodes, now, EventsSince(now), ct);
        progress.Set("eduNodes", nodes.Count);
        var classes = nodes.Where(n => n.NodeType == "class").Select(n => n.NodeId).ToList();
        var (chosen, note) = await ChooseClassesAsync(corp.CorpId, classes, ct);
        progress.Set("classes", classes.Count);
        await ReconcileClassesAsync(corp, chosen, now, progress, ct);
        await org.MarkOrphansRemovedAsync(corp.CorpId, now, ct);
        return note;
    }

    /// <summary>
    /// Runs both parts; when one fails the other is cancelled, and the failure reported is the real one, not the
    /// cancellation it caused. Returns the second part's result.
    /// </summary>
    private static async Task<string?> FirstFailureCancelsTheOtherAsync(CancellationTokenSource running,
        Func<Task<string?>> first, Func<Task<string?>> second)
    {
        Task<string?>[] parts = [first(), second()];
        var pending = parts.ToList();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            if (done.IsFaulted)
            {
                await running.CancelAsync();
            }
        }

        var failed = parts.FirstOrDefault(p => p.IsFaulted && p.Exception!.InnerException is not OperationCanceledException)
                     ?? parts.FirstOrDefault(p => p.IsFaulted || p.IsCanceled);
        if (failed is not null)
        {
            await failed;
        }

        return await parts[1];
    }

    private async Task ReconcileClassesAsync(CorpConfig corp, IReadOnlyList<long> classIds, DateTime now, Progress progress,
        CancellationToken ct)
    {
        await Parallel.ForEachAsync(classIds, new ParallelOptions
        {
            MaxDegreeOfParallelism = options.Value.ClassConcurrency,
            CancellationToken = ct,
        }, async (classId, token) =>
        {
            var roster = await reader.ReadClassAsync(corp, classId, token);
            if (roster is null)
            {
                progress.Increment(await org.ReconcileEduNodeRemovedAsync(corp.CorpId, classId, now, EventsSince(now), token)
                    ? "classesGone"
                    : "classesLeftToEvents");
                return;
            }

            if (!await org.ReconcileClassRosterAsync(corp.CorpId, classId, roster, now, EventsSince(now), token))
            {
                progress.Increment("classesLeftToEvents");
                return;
            }

            progress.Increment("classesReconciled");
            progress.Add("students", roster.Students.Count);
            progress.Add("guardianMemberships", roster.Guardians.Count);
            progress.Add("relations", roster.Relations.Count);
        });
    }

    /// <summary>
    /// All classes when the month's remaining budget covers a full pass every remaining night; otherwise tonight's
    /// share of what is left, least recently reconciled classes first. A class never read is read as soon as the month's
    /// budget allows, whatever tonight's share: events keep a class current only once it has been read, and until then
    /// its children are missing from the mirror (a first deployment would otherwise show half a city for weeks).
    /// </summary>
    private async Task<(IReadOnlyList<long> Classes, string? Note)> ChooseClassesAsync(string corpId, IReadOnlyList<long> classes,
        CancellationToken ct)
    {
        var o = options.Value;
        if (classes.Count == 0)
        {
            return (classes, null);
        }

        // Three role lists and the relations, at least a page each; a class of 40 needs about 9.
        var perClass = await EstimateCallsPerClassAsync(corpId, ct);
        var used = await usage.MeteredThisMonthAsync(corpId, ct);
        var available = (long)(o.MonthlyCallBudget * (1 - o.EventReserveShare)) - used;
        var shanghai = ShanghaiTime.FromUtc(time.GetUtcNow().UtcDateTime);
        var nightsLeft = DateTime.DaysInMonth(shanghai.Year, shanghai.Month) - shanghai.Day + 1;
        var fullPass = classes.Count * perClass;
        if (available >= fullPass * nightsLeft)
        {
            return (classes, null);
        }

        var allowance = Math.Max(0, available) / nightsLeft;
        var listed = classes.ToHashSet();
        var ordered = (await org.ClassesByRosterAgeAsync(corpId, ct)).Where(c => listed.Contains(c.ClassId)).ToList();
        var neverRead = classes.Count - ordered.Count(c => c.RosteredAt is not null);
        var firstReads = Math.Min(neverRead, Math.Max(0, available) / perClass);
        var take = (int)Math.Max(firstReads, Math.Min(classes.Count, allowance / perClass));
        if (take >= classes.Count)
        {
            return (classes, null);
        }

        var chosen = ordered.Select(c => c.ClassId).Take(take).ToList();
        return (chosen, $"partial: reconciled {chosen.Count} of {classes.Count} classes (never read first, then least recently reconciled) " +
                        $"because the monthly budget of {o.MonthlyCallBudget} metered calls has {Math.Max(0, available)} left " +
                        $"after the {o.EventReserveShare:P0} event reserve, {nightsLeft} nights remain and a full pass needs about " +
                        $"{fullPass}; events keep the other classes current");
    }

    /// <summary>
    /// Rows an event wrote after this are newer than the run's snapshot and are kept (OrgRepository). The run's start,
    /// less an allowance for clocks of other instances that run behind: keeping an event's row that is a little older
    /// than the snapshot is harmless (it was read from DingTalk moments before), overwriting a newer one is not.
    /// </summary>
    private static DateTime EventsSince(DateTime runStartedAt) => runStartedAt - ClockSkewAllowance;

    private static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromSeconds(30);

    private async Task<long> EstimateCallsPerClassAsync(string corpId, CancellationToken ct)
    {
        var members = await org.ListClassMembersAsync(corpId, null, ct);
        if (members.Count == 0)
        {
            return 9;
        }

        var perClass = members.GroupBy(m => m.ClassId).Select(g =>
            g.GroupBy(m => m.Role).Sum(r => (r.Count() + 29) / 30) + (g.Count(m => m.Role == "guardian") * 11 / 10 + 29) / 30);
        return Math.Max(4, (long)Math.Ceiling(perClass.Average()));
    }

    private async Task RenewWhileRunningAsync(string leaseName, CancellationTokenSource running, StrongBox<bool> lost)
    {
        var every = options.Value.LeaseDuration / 3;
        try
        {
            while (!running.IsCancellationRequested)
            {
                await Task.Delay(every, time, running.Token);
                if (!await leases.TryAcquireAsync(leaseName, instance.Id, options.Value.LeaseDuration, running.Token))
                {
                    log.LogError("Lost the lease {Lease}; stopping this run so that two instances never reconcile at once", leaseName);
                    lost.Value = true;
                    await running.CancelAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        OrgSyncFailedException e => e.Message,
        DingTalkException { Kind: DingTalkErrorKind.Permission } d =>
            $"DingTalk refused {d.Api} with {d.Code} ({d.DingTalkMessage}): the app lacks a permission for it " +
            (d.Api.StartsWith("edu/", StringComparison.Ordinal)
                ? "(家校通讯录 reads need qyapi_addresslist_edu_read)"
                : "or the department is outside its address-book scope") + ". Nothing after this step was changed.",
        DingTalkException { ErrCode: 90020 } or DingTalkException { Code: "Forbidden.AccessDenied.ApiCountLimitForOrg" } =>
            "DingTalk's monthly call quota for this corp is used up (90020); the reconcile stopped and resumes next month " +
            "or when the quota is raised.",
        DingTalkIpBannedException b => $"DingTalk banned this server's IP; calls are paused until {b.PausedUntil:O}.",
        DingTalkException d => $"{d.Api}: {d.Code} {d.DingTalkMessage}",
        _ => ex.Message,
    };

    /// <summary>Counts and calls of a run, written to its record when the phase changes and every couple of seconds.</summary>
    private sealed class Progress(SyncRunRepository runs, long runId, TimeProvider time)
    {
        private readonly ConcurrentDictionary<string, long> _counts = new();
        private string _phase = "starting";
        private long _lastWriteTicks;

        public RunCallCounter Calls { get; } = new();

        public IReadOnlyDictionary<string, long> Counts => new SortedDictionary<string, long>(_counts);

        public void Increment(string name) => Add(name, 1);

        public void Add(string name, long by)
        {
            _counts.AddOrUpdate(name, by, (_, n) => n + by);
            var now = time.GetUtcNow().UtcTicks;
            var last = Interlocked.Read(ref _lastWriteTicks);
            if (now - last > TimeSpan.FromSeconds(2).Ticks && Interlocked.CompareExchange(ref _lastWriteTicks, now, last) == last)
            {
                _ = runs.ProgressAsync(runId, _phase, Counts, Calls.Snapshot(), time.UtcNowForDatabase(), CancellationToken.None);
            }
        }

        public void Set(string name, long value) => _counts[name] = value;

        public Task PhaseAsync(string phase, CancellationToken ct)
        {
            _phase = phase;
            return runs.ProgressAsync(runId, phase, Counts, Calls.Snapshot(), time.UtcNowForDatabase(), ct);
        }
    }
}

internal sealed class OrgSyncFailedException(string message) : Exception(message);
