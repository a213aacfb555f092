using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Training;

/// <summary>What a report needs of one teacher's standing.</summary>
internal sealed record ReportRow(string CorpId, string UserId, string Name, int CycleStart, int CycleYears, decimal Total, bool Complete,
    string Registration, int YearsMet, decimal[] Domains, decimal[] Levels, decimal[] TrainingLevels, IReadOnlyList<string> Reasons)
{
    public bool InCycle(int year) => year >= CycleStart && year < CycleStart + CycleYears;

    public bool YearMet(int year) => InCycle(year) && (YearsMet & (1 << (year - CycleStart))) != 0;

    public static ReportRow Of(PersonStanding s)
    {
        var c = s.Compliance;
        var met = c.Years.Where(y => y.MeetsMinimum).Aggregate(0, (mask, y) => mask | (1 << (y.Year - c.CycleStart)));
        return new ReportRow(s.CorpId, s.UserId, s.Name, c.CycleStart, c.CycleEnd - c.CycleStart + 1, c.Total, c.TrainingComplete, c.Registration, met,
            Enumerable.Range(1, 7).Select(d => c.Domains.Where(x => x.Domain == d).Sum(x => x.Earned)).ToArray(),
            CreditLevel.All.Select(l => c.Levels.Where(x => x.Level == l).Sum(x => x.Earned)).ToArray(),
            TrainingStandings.TrainingLevels.Select(l => s.ByTrainingLevel.GetValueOrDefault(l)).ToArray(), c.Reasons);
    }
}

/// <summary>One school's line of the city report, summed by the database over the kept standings.</summary>
internal sealed class SchoolSums
{
    public string CorpId { get; set; } = "";

    public long Teachers { get; set; }

    public long Stale { get; set; }

    public long Complete { get; set; }

    public long InCycle { get; set; }

    public long YearMet { get; set; }

    public long Pass { get; set; }

    public long Deferred { get; set; }

    public long Failed { get; set; }

    public decimal D1 { get; set; }

    public decimal D2 { get; set; }

    public decimal D3 { get; set; }

    public decimal D4 { get; set; }

    public decimal D5 { get; set; }

    public decimal D6 { get; set; }

    public decimal D7 { get; set; }

    public decimal LBasic { get; set; }

    public decimal LIntermediate { get; set; }

    public decimal LAdvanced { get; set; }

    public decimal TlProvince { get; set; }

    public decimal TlCity { get; set; }

    public decimal TlCounty { get; set; }

    public decimal TlSchool { get; set; }

    public decimal TlOther { get; set; }

    public decimal[] Domains => [D1, D2, D3, D4, D5, D6, D7];

    public decimal[] Levels => [LBasic, LIntermediate, LAdvanced];

    public decimal[] TrainingLevels => [TlProvince, TlCity, TlCounty, TlSchool, TlOther];
}

/// <summary>
/// The city's standings kept between requests (docs/training.md), so that the city report sums 10,000 kept rows in the
/// database instead of reading every credit of the city. A kept row is recomputed — set-based, by
/// <see cref="TrainingStandings"/> — when it is missing (a new teacher), computed on an earlier Beijing day (dates move
/// requirements on), under other rules, or before a change to one of the accounts it was computed from: a credit
/// written or decided, an appraisal, a profile, a training result, a person link made or ended. A mandatory training
/// created since makes every row stale. Rows are stamped a few seconds before their inputs are read, so that a write
/// racing the computation counts as newer. Several instances may recompute the same rows: the writes are upserts.
/// </summary>
internal sealed class CityStandings(Database db, TrainingStandings standings, TimeProvider time)
{
    private static readonly TimeSpan RaceMargin = TimeSpan.FromSeconds(5);

    /// <summary>A teacher's kept row (t, joined to the staff row) is missing, from an earlier Beijing day, or under other rules.</summary>
    private const string StaleRow = "t.corp_id IS NULL OR t.rules_hash <> @hash OR t.computed_at < @dayStart";

    private static readonly string[] NumberColumns =
        ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "l_basic", "l_intermediate", "l_advanced", "tl_province", "tl_city", "tl_county", "tl_school", "tl_other"];

    /// <summary>
    /// Each school's sums over its current teachers' kept standings, brought up to date first: the rows changed since
    /// they were computed today, then the rows the sums count as missing or stale by day or rules (read with the sums,
    /// so that a city with nothing more due costs one read of the rows).
    /// </summary>
    public async Task<IReadOnlyList<SchoolSums>> CurrentSumsAsync(IReadOnlyList<string> corpIds, int year, TrainingOptions rules, CancellationToken ct)
    {
        var hash = RulesHash(rules);
        var dayStart = ShanghaiTime.StartOfDayUtc(time.GetUtcNow().UtcDateTime);
        var computedAt = time.UtcNowForDatabase() - RaceMargin;
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            var (changed, keptToday) = await ChangedAsync(connection, corpIds, hash, dayStart, ct);
            await RecomputeAsync(corpIds, changed, wholeCity: changed.Count > keptToday / 4, rules, hash, computedAt, ct);
        }

        var sums = await SumsAsync(corpIds, year, hash, dayStart, ct);
        var (teachers, stale) = (sums.Sum(s => s.Teachers), sums.Sum(s => s.Stale));
        if (stale == 0)
        {
            return sums;
        }

        IReadOnlyCollection<(string CorpId, string UserId)> due = [];
        if (stale <= teachers / 4)
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            due = (await connection.QueryAsync<(string, string)>(new CommandDefinition($"""
                SELECT s.corp_id, s.user_id FROM staff s LEFT JOIN training_standings t ON t.corp_id = s.corp_id AND t.user_id = s.user_id
                WHERE s.corp_id IN @corpIds AND s.removed_at IS NULL AND ({StaleRow})
                """, new { corpIds, hash, dayStart }, cancellationToken: ct))).ToList();
        }

        await RecomputeAsync(corpIds, due, wholeCity: stale > teachers / 4, rules, hash, computedAt, ct);
        return await SumsAsync(corpIds, year, hash, dayStart, ct);
    }

    /// <summary>Recomputes and keeps the standings of <paramref name="due"/>, or of every school at once (a handful of statements by school).</summary>
    private async Task RecomputeAsync(IReadOnlyList<string> corpIds, IReadOnlyCollection<(string CorpId, string UserId)> due, bool wholeCity,
        TrainingOptions rules, string hash, DateTime computedAt, CancellationToken ct)
    {
        var recomputed = wholeCity ? await standings.OfSchoolsAsync(corpIds, rules, ct)
            : due.Count > 0 ? await standings.OfAccountsAsync(due.ToList(), rules, ct)
            : [];
        await SaveAsync(recomputed, computedAt, hash, ct);
    }

    /// <summary>The kept rows computed before a change to one of the accounts they were computed from, and how many rows were kept today.</summary>
    private static async Task<(IReadOnlyCollection<(string CorpId, string UserId)> Changed, long KeptToday)> ChangedAsync(System.Data.Common.DbConnection connection,
        IReadOnlyList<string> corpIds, string hash, DateTime dayStart, CancellationToken ct)
    {
        // The oldest of today's rows under these rules (an index range): every change since may concern one of them.
        var (since, keptToday) = await connection.QuerySingleAsync<(DateTime?, long)>(new CommandDefinition(
            "SELECT MIN(computed_at), COUNT(*) FROM training_standings WHERE computed_at >= @dayStart AND rules_hash = @hash", new { hash, dayStart },
            cancellationToken: ct));
        if (since is null)
        {
            return ([], 0);
        }

        if (await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM trainings WHERE mandatory_for IS NOT NULL AND created_at >= @since", new { since }, cancellationToken: ct)) > 0)
        {
            return ((await connection.QueryAsync<(string, string)>(new CommandDefinition(
                "SELECT corp_id, user_id FROM staff WHERE corp_id IN @corpIds AND removed_at IS NULL", new { corpIds }, cancellationToken: ct))).ToList(),
                keptToday);
        }

        // Every kind of change since, in one round trip (each an index range on its time column).
        var changes = (await connection.QueryAsync<(string CorpId, string UserId, DateTime At)>(new CommandDefinition("""
            SELECT corp_id, user_id, created_at FROM training_credits WHERE created_at >= @since
            UNION ALL SELECT corp_id, user_id, decided_at FROM training_credits WHERE decided_at >= @since
            UNION ALL SELECT corp_id, user_id, recorded_at FROM training_appraisals WHERE recorded_at >= @since
            UNION ALL SELECT corp_id, user_id, recorded_at FROM training_cycle_overrides WHERE recorded_at >= @since
            UNION ALL SELECT corp_id, user_id, result_at FROM training_enrolments WHERE result_at >= @since
            UNION ALL SELECT corp_id_a, user_id_a, created_at FROM person_links WHERE created_at >= @since
            UNION ALL SELECT corp_id_b, user_id_b, created_at FROM person_links WHERE created_at >= @since
            UNION ALL SELECT corp_id_a, user_id_a, unlinked_at FROM person_links WHERE unlinked_at >= @since
            UNION ALL SELECT corp_id_b, user_id_b, unlinked_at FROM person_links WHERE unlinked_at >= @since
            """, new { since }, cancellationToken: ct))).ToList();

        var latest = changes.GroupBy(c => (c.CorpId, c.UserId)).ToDictionary(g => g.Key, g => g.Max(c => c.At));
        var stale = new HashSet<(string, string)>();
        foreach (var chunk in latest.Keys.Chunk(500))
        {
            var (filter, args) = IdentityFilter.Of(chunk, "a.corp_id", "a.user_id");
            foreach (var (standingCorp, standingUser, corpId, userId, computedAt) in await connection.QueryAsync<(string, string, string, string, DateTime)>(
                         new CommandDefinition($"""
                             SELECT a.standing_corp_id, a.standing_user_id, a.corp_id, a.user_id, t.computed_at
                             FROM training_standing_accounts a
                             JOIN training_standings t ON t.corp_id = a.standing_corp_id AND t.user_id = a.standing_user_id
                             WHERE {filter}
                             """, args, cancellationToken: ct)))
            {
                if (latest[(corpId, userId)] >= computedAt)
                {
                    stale.Add((standingCorp, standingUser));
                }
            }
        }

        return (stale, keptToday);
    }

    /// <summary>Each school's sums over its current teachers' kept standings, with how many of them are missing or stale.</summary>
    private async Task<IReadOnlyList<SchoolSums>> SumsAsync(IReadOnlyList<string> corpIds, int year, string hash, DateTime dayStart, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<SchoolSums>(new CommandDefinition($"""
            SELECT s.corp_id AS CorpId, COUNT(*) AS Teachers,
                   SUM(CASE WHEN {StaleRow} THEN 1 ELSE 0 END) AS Stale,
                   COALESCE(SUM(t.complete), 0) AS Complete,
                   SUM(CASE WHEN t.cycle_start <= @year AND t.cycle_start + t.cycle_years > @year THEN 1 ELSE 0 END) AS InCycle,
                   SUM(CASE WHEN t.cycle_start <= @year AND t.cycle_start + t.cycle_years > @year
                             AND (t.years_met & (1 << (@year - t.cycle_start))) <> 0 THEN 1 ELSE 0 END) AS YearMet,
                   SUM(CASE WHEN t.registration = 'pass' THEN 1 ELSE 0 END) AS Pass,
                   SUM(CASE WHEN t.registration = 'deferred' THEN 1 ELSE 0 END) AS Deferred,
                   SUM(CASE WHEN t.registration = 'fail' THEN 1 ELSE 0 END) AS Failed,
                   {string.Join(", ", NumberColumns.Select(c => $"COALESCE(SUM(t.{c}), 0) AS {string.Concat(c.Split('_').Select(p => char.ToUpperInvariant(p[0]) + p[1..]))}"))}
            FROM staff s LEFT JOIN training_standings t ON t.corp_id = s.corp_id AND t.user_id = s.user_id
            WHERE s.corp_id IN @corpIds AND s.removed_at IS NULL
            GROUP BY s.corp_id
            ORDER BY s.corp_id
            """, new { corpIds, year, hash, dayStart }, cancellationToken: ct))).ToList();
    }

    /// <summary>The teachers at risk for the next registration (不合格 first, then the fewest credits), at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<TeacherAtRisk>> AtRiskAsync(IReadOnlyList<string> corpIds, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string CorpId, string UserId, string Name, decimal Total, string Registration, string Reasons)>(
                new CommandDefinition("""
                    SELECT s.corp_id, s.user_id, s.name, t.total, t.registration, t.reasons
                    FROM staff s JOIN training_standings t ON t.corp_id = s.corp_id AND t.user_id = s.user_id
                    WHERE s.corp_id IN @corpIds AND s.removed_at IS NULL AND t.risk < 2
                    ORDER BY t.risk, t.total, t.corp_id, t.user_id
                    LIMIT @limit
                    """, new { corpIds, limit }, cancellationToken: ct)))
            .Select(r => new TeacherAtRisk(r.CorpId, r.UserId, r.Name, r.Total, r.Registration, r.Reasons.Length == 0 ? [] : r.Reasons.Split('\n'))).ToList();
    }

    private async Task SaveAsync(IReadOnlyList<PersonStanding> computed, DateTime computedAt, string hash, CancellationToken ct)
    {
        string[] columns = ["corp_id", "user_id", "computed_at", "rules_hash", "cycle_start", "cycle_years", "total", "complete", "registration", "risk", "years_met",
            .. NumberColumns, "reasons"];
        foreach (var chunk in computed.Chunk(1000))
        {
            await db.InTransactionAsync(async (tx, token) =>
            {
                await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "training_standings", columns, chunk.Select(ReportRow.Of).ToList(),
                    r => [r.CorpId, r.UserId, computedAt, hash, r.CycleStart, r.CycleYears, r.Total, r.Complete, r.Registration, Risk(r.Registration), r.YearsMet,
                        .. r.Domains.Concat(r.Levels).Concat(r.TrainingLevels).Cast<object?>(), string.Join('\n', r.Reasons)],
                    token, db.Dialect.OnConflictSet(["corp_id", "user_id"], columns[2..]));
                var (mine, args) = IdentityFilter.Of(chunk.Select(c => (c.CorpId, c.UserId)).ToList(), "standing_corp_id", "standing_user_id");
                await tx.Connection!.ExecuteAsync(new CommandDefinition($"DELETE FROM training_standing_accounts WHERE {mine}", args, tx,
                    cancellationToken: token));
                await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "training_standing_accounts", ["standing_corp_id", "standing_user_id", "corp_id", "user_id"],
                    chunk.SelectMany(c => c.Accounts.Append((c.CorpId, c.UserId)).Distinct().Select(a => (c.CorpId, c.UserId, a.CorpId, a.UserId))).ToList(),
                    x => [x.Item1, x.Item2, x.Item3, x.Item4], token,
                    db.Dialect.OnConflictSet(["standing_corp_id", "standing_user_id", "corp_id", "user_id"], ["corp_id"]));
            }, ct);
        }
    }

    /// <summary>The order of the at-risk list, kept as a column so that the list is read in index order.</summary>
    private static int Risk(string registration) => registration switch
    {
        RegistrationOutcome.Fail => 0,
        RegistrationOutcome.Deferred => 1,
        _ => 2,
    };

    private static string RulesHash(TrainingOptions rules) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(rules)))).ToLowerInvariant();
}
