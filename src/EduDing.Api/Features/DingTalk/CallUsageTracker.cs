using System.Collections.Concurrent;
using Dapper;
using EduDing.Api.Data;
using EduDing.DingTalk;

namespace EduDing.Api.Features.DingTalk;

/// <summary>Calls made on behalf of one sync run, by API (attributed through the async flow that runs it).</summary>
internal sealed class RunCallCounter
{
    private readonly ConcurrentDictionary<string, long> _calls = new();

    public void Add(DingTalkApi api) => _calls.AddOrUpdate(api.Name, 1, (_, n) => n + 1);

    public IReadOnlyDictionary<string, long> Snapshot() => new SortedDictionary<string, long>(_calls);

    public long Total => _calls.Values.Sum();
}

/// <summary>
/// Sees every DingTalk call: counts metered ones per corp per month (the quota is per org; edu, notices and approvals
/// are metered, token and 通讯录 reads are not) and attributes calls to the sync run in progress. Counts are kept in
/// memory and flushed to dingtalk_call_usage by <see cref="FlushAsync"/>, so a call never waits on the database.
/// </summary>
internal sealed class CallUsageTracker(Database db, TimeProvider time) : IDingTalkCallObserver
{
    private static readonly AsyncLocal<RunCallCounter?> CurrentRun = new();
    private readonly ConcurrentDictionary<(string CorpId, int Month, string Api), long> _pending = new();

    public static IDisposable AttributeTo(RunCallCounter counter)
    {
        var previous = CurrentRun.Value;
        CurrentRun.Value = counter;
        return new Restore(previous);
    }

    public void OnCall(DingTalkCall call)
    {
        CurrentRun.Value?.Add(call.Api);
        if (!call.Api.QuotaExempt)
        {
            _pending.AddOrUpdate((call.App.CorpId, Month(), call.Api.Name), 1, (_, n) => n + 1);
        }
    }

    /// <summary>Counts one more of something metered that is not a call (an event push) under <paramref name="api"/>.</summary>
    public void Count(string corpId, string api) => _pending.AddOrUpdate((corpId, Month(), api), 1, (_, n) => n + 1);

    public int CurrentMonth => Month();

    /// <summary>This month's count under one name (e.g. pushes), stored and not yet stored.</summary>
    public async Task<long> ThisMonthAsync(string corpId, string api, CancellationToken ct)
    {
        var month = Month();
        await using var connection = await db.OpenConnectionAsync(ct);
        var stored = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT SUM(calls) FROM dingtalk_call_usage WHERE corp_id = @corpId AND month = @month AND api = @api",
            new { corpId, month, api }, cancellationToken: ct)) ?? 0;
        return stored + _pending.Where(p => p.Key.CorpId == corpId && p.Key.Month == month && p.Key.Api == api).Sum(p => p.Value);
    }

    /// <summary>Metered calls this month (Asia/Shanghai), stored and not yet stored; pushes are counted apart.</summary>
    public async Task<long> MeteredThisMonthAsync(string corpId, CancellationToken ct)
    {
        var month = Month();
        await using var connection = await db.OpenConnectionAsync(ct);
        var stored = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT SUM(calls) FROM dingtalk_call_usage WHERE corp_id = @corpId AND month = @month AND api <> 'push'",
            new { corpId, month }, cancellationToken: ct)) ?? 0;
        return stored + _pending.Where(p => p.Key.CorpId == corpId && p.Key.Month == month && p.Key.Api != "push").Sum(p => p.Value);
    }

    /// <summary>Metered calls this month of every corp that made one, stored and not yet stored (the quota gauge).</summary>
    public async Task<IReadOnlyDictionary<string, long>> MeteredThisMonthByCorpAsync(CancellationToken ct)
    {
        var month = Month();
        await using var connection = await db.OpenConnectionAsync(ct);
        var byCorp = (await connection.QueryAsync<(string CorpId, long Calls)>(new CommandDefinition(
                "SELECT corp_id, SUM(calls) FROM dingtalk_call_usage WHERE month = @month AND api <> 'push' GROUP BY corp_id",
                new { month }, cancellationToken: ct)))
            .ToDictionary(r => r.CorpId, r => r.Calls, StringComparer.Ordinal);
        foreach (var ((corpId, pendingMonth, api), calls) in _pending)
        {
            if (pendingMonth == month && api != "push")
            {
                byCorp[corpId] = byCorp.GetValueOrDefault(corpId) + calls;
            }
        }

        return byCorp;
    }

    public async Task FlushAsync(CancellationToken ct)
    {
        foreach (var key in _pending.Keys.ToList())
        {
            if (!_pending.TryRemove(key, out var calls) || calls == 0)
            {
                continue;
            }

            try
            {
                // At READ COMMITTED the update of a month's first row locks no gap, so two instances adding their first
                // calls of a month never deadlock; the one whose insert comes second adds to the other's row instead.
                await db.InTransactionAsync<bool>(async (tx, token) =>
                {
                    var args = new { corpId = key.CorpId, month = key.Month, api = key.Api, calls };
                    const string add = "UPDATE dingtalk_call_usage SET calls = calls + @calls WHERE corp_id = @corpId AND month = @month AND api = @api";
                    if (await tx.Connection!.ExecuteAsync(new CommandDefinition(add, args, tx, cancellationToken: token)) > 0)
                    {
                        return true;
                    }

                    try
                    {
                        await tx.Connection!.ExecuteAsync(new CommandDefinition(
                            "INSERT INTO dingtalk_call_usage (corp_id, month, api, calls) VALUES (@corpId, @month, @api, @calls)",
                            args, tx, cancellationToken: token));
                    }
                    catch (System.Data.Common.DbException ex) when (db.Dialect.IsUniqueViolation(ex))
                    {
                        await tx.Connection!.ExecuteAsync(new CommandDefinition(add, args, tx, cancellationToken: token));
                    }

                    return true;
                }, db.Dialect.GapFreeIsolation, ct);
            }
            catch
            {
                _pending.AddOrUpdate(key, calls, (_, n) => n + calls);
                throw;
            }
        }
    }

    private int Month()
    {
        var shanghai = Hosting.ShanghaiTime.FromUtc(time.GetUtcNow().UtcDateTime);
        return shanghai.Year * 100 + shanghai.Month;
    }

    private sealed class Restore(RunCallCounter? previous) : IDisposable
    {
        public void Dispose() => CurrentRun.Value = previous;
    }
}
