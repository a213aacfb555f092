using System.Collections.Concurrent;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Org;

namespace EduDing.Api.Features.Vision;

/// <summary>One group of a statistic: counts and the rates they give (two decimals, null when nothing is in the denominator).</summary>
internal sealed record StatRow(string Key, string Label, int? Enrolled, int Screened, int Valid, int Myopic, int MyopiaLow, int MyopiaModerate,
    int MyopiaHigh, int OkLens, int PoorVisionKnown, int PoorVision, int PoorMild, int PoorModerate, int PoorSevere)
{
    /// <summary>近视率 = myopic / validly screened (domain-rules §1.13).</summary>
    public decimal? MyopiaRate => VisionStatistics.Rate(Myopic, Valid);

    /// <summary>视力不良率 = poor vision / those with an acuity that the rule applies to (age 6 and over).</summary>
    public decimal? PoorVisionRate => VisionStatistics.Rate(PoorVision, PoorVisionKnown);

    /// <summary>Screened / enrolled when the round opened.</summary>
    public decimal? Coverage => Enrolled is { } e ? VisionStatistics.Rate(Screened, e) : null;
}

/// <summary>
/// How a statistic groups, other than by class: the key over the schools' summed cells (s), and over the round's
/// classes (c) for enrolment (none for sex and age, which a class has no enrolment of).
/// </summary>
internal sealed record Dimension(string Name, string KeySql, string? EnrolledKeySql);

/// <summary>
/// Statistics of a round as sums over vision_stat_cells (per class, sex and age, rebuilt on every write, each with its
/// class's grade and 学段 as the round recorded them) and over vision_stat_school_cells (the same summed over each school's
/// classes), never a scan of the records nor a join: a city round of 120,000 students is about 6,000 class cells and a
/// few hundred school cells (docs/vision.md "Statistics").
/// </summary>
internal sealed class VisionStatistics(Database db, OrgDirectory directory)
{
    public static readonly string[] DimensionNames = ["city", "school", "period", "grade", "class", "sex", "age"];

    private const int RoundsKept = 32;

    private readonly ConcurrentDictionary<long, IReadOnlyList<RoundClass>> _roundClasses = new();

    // As integers: MariaDB sums integers as DECIMAL, which the client would then read as text and convert (3,000 rows of
    // twelve by class). SIGNED INTEGER is an integer type name to both databases.
    private static readonly string Sums = string.Join(", ", new[]
    {
        "screened", "valid", "myopic", "myopia_low", "myopia_moderate", "myopia_high", "ok_lens", "poor_known", "poor_vision", "poor_mild",
        "poor_moderate", "poor_severe",
    }.Select(c => $"CAST(SUM(s.{c}) AS SIGNED INTEGER)"));

    private static Dimension DimensionOf(string name) => name switch
    {
        "city" => new(name, "'city'", "'city'"),
        "school" => new(name, "s.corp_id", "c.corp_id"),
        // 学段 by name (小学部, 初中部): period nodes are per school, the city groups them by what they are.
        "period" => new(name, "s.period_name", "COALESCE(c.period_name, '')"),
        "grade" => new(name, "CAST(s.grade_level AS CHAR(20))", "CAST(COALESCE(c.grade_level, 0) AS CHAR(20))"),
        "sex" => new(name, "s.sex", null),
        "age" => new(name, "CAST(s.age_years AS CHAR(20))", null),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown dimension"),
    };

    /// <summary>A percentage with exactly two decimals (55.00, never 55): adding 0.00m gives the decimal a scale of at least 2.</summary>
    public static decimal? Rate(int numerator, int denominator) =>
        denominator == 0 ? null : Math.Round(100m * numerator / denominator, 2, MidpointRounding.AwayFromZero) + 0.00m;

    /// <summary>The round's statistic grouped by <paramref name="dimension"/>, over one school or (null) all it covers.</summary>
    public async Task<IReadOnlyList<StatRow>> ByAsync(long roundId, string dimension, string? corpId, CancellationToken ct)
    {
        if (dimension == "class")
        {
            return await ByClassAsync(roundId, corpId, ct);
        }

        var d = DimensionOf(dimension);
        var (key, enrolledKey) = (d.KeySql, d.EnrolledKeySql);
        await using var connection = await db.OpenConnectionAsync(ct);
        var args = new { roundId, corpId };
        var sums = (await connection.QueryAsync<(string Key, long Screened, long Valid, long Myopic, long Low, long Moderate, long High, long Ok,
            long PoorKnown, long Poor, long Mild, long PoorModerate, long Severe)>(new CommandDefinition($"""
            SELECT {key} AS k, {Sums}
            FROM vision_stat_school_cells s
            WHERE s.round_id = @roundId AND s.in_round = 1 AND (@corpId IS NULL OR s.corp_id = @corpId)
            GROUP BY {key}
            """, args, cancellationToken: ct))).ToDictionary(r => r.Key, r => Counts.Of(r));
        var enrolled = enrolledKey is null
            ? new Dictionary<string, long>()
            : (await connection.QueryAsync<(string Key, long Enrolled)>(new CommandDefinition($"""
                SELECT {enrolledKey} AS k, SUM(c.enrolled) FROM vision_round_classes c
                WHERE c.round_id = @roundId AND (@corpId IS NULL OR c.corp_id = @corpId)
                GROUP BY {enrolledKey}
                """, args, cancellationToken: ct))).ToDictionary(r => r.Key, r => r.Enrolled);

        var labels = await LabelsAsync(dimension, corpId, ct);
        return Rows(sums, enrolledKey is null ? null : enrolled, labels);
    }

    /// <summary>
    /// By class: the class cells grouped in the order of their key (the database streams the groups instead of sorting
    /// 3,000 composed strings), with each class's name and enrolment as the round recorded them.
    /// </summary>
    private async Task<IReadOnlyList<StatRow>> ByClassAsync(long roundId, string? corpId, CancellationToken ct)
    {
        var classes = (await RoundClassesAsync(roundId, ct)).Where(c => corpId is null || c.CorpId == corpId).ToList();
        await using var connection = await db.OpenConnectionAsync(ct);
        var sums = (await connection.QueryAsync<(string CorpId, long ClassId, long Screened, long Valid, long Myopic, long Low, long Moderate,
            long High, long Ok, long PoorKnown, long Poor, long Mild, long PoorModerate, long Severe)>(new CommandDefinition($"""
            SELECT s.corp_id, s.class_id, {Sums}
            FROM vision_stat_cells s
            WHERE s.round_id = @roundId AND s.in_round = 1 AND (@corpId IS NULL OR s.corp_id = @corpId)
            GROUP BY s.corp_id, s.class_id
            """, new { roundId, corpId }, cancellationToken: ct))).ToDictionary(r => ClassKey(r.CorpId, r.ClassId),
            r => new Counts(r.Screened, r.Valid, r.Myopic, r.Low, r.Moderate, r.High, r.Ok, r.PoorKnown, r.Poor, r.Mild, r.PoorModerate, r.Severe));
        return Rows(sums, classes.ToDictionary(c => c.Key, c => c.Enrolled), classes.ToDictionary(c => c.Key, c => c.Name));
    }

    /// <summary>
    /// The round's classes with their names and enrolment (the class grouping's labels, sex's and age's total enrolment):
    /// written once when the round is created and never changed (they are the round's record of its classes), so every
    /// instance may keep them; a city round has 3,000.
    /// </summary>
    private async Task<IReadOnlyList<RoundClass>> RoundClassesAsync(long roundId, CancellationToken ct)
    {
        if (_roundClasses.TryGetValue(roundId, out var kept))
        {
            return kept;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var classes = (await connection.QueryAsync<(string CorpId, long ClassId, string Name, long Enrolled)>(new CommandDefinition(
                "SELECT corp_id, class_id, class_name, enrolled FROM vision_round_classes WHERE round_id = @roundId", new { roundId },
                cancellationToken: ct)))
            .Select(c => new RoundClass(c.CorpId, ClassKey(c.CorpId, c.ClassId), c.Name, c.Enrolled)).ToList();
        if (_roundClasses.Count >= RoundsKept)
        {
            _roundClasses.Clear();
        }

        _roundClasses[roundId] = classes;
        return classes;
    }

    private static string ClassKey(string corpId, long classId) => $"{corpId}:{classId.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>One row per group that has cells or enrolment; numbers as numbers (age 10 after age 9), everything else by its key.</summary>
    private static List<StatRow> Rows(Dictionary<string, Counts> sums, Dictionary<string, long>? enrolled, IReadOnlyDictionary<string, string> labels) =>
        sums.Keys.Union(enrolled?.Keys ?? Enumerable.Empty<string>())
            .OrderBy(k => long.TryParse(k, out var n) ? n : long.MaxValue).ThenBy(k => k, StringComparer.Ordinal)
            .Select(k =>
            {
                var s = sums.GetValueOrDefault(k) ?? Counts.None;
                return new StatRow(k, labels.GetValueOrDefault(k, k), enrolled is null ? null : (int)enrolled.GetValueOrDefault(k), (int)s.Screened,
                    (int)s.Valid, (int)s.Myopic, (int)s.Low, (int)s.Moderate, (int)s.High, (int)s.Ok, (int)s.PoorKnown, (int)s.Poor, (int)s.Mild,
                    (int)s.PoorModerate, (int)s.Severe);
            }).ToList();

    /// <summary>
    /// The round's statistic grouped by <paramref name="dimension"/> and its total (the "city" grouping, the school's when
    /// <paramref name="corpId"/> is given), which is the sum of the groups: every cell is in exactly one group.
    /// </summary>
    public async Task<(IReadOnlyList<StatRow> Rows, StatRow? Total)> WithTotalAsync(long roundId, string dimension, string? corpId, CancellationToken ct)
    {
        var rows = await ByAsync(roundId, dimension, corpId, ct);
        int enrolled;
        if (dimension is not ("sex" or "age"))
        {
            if (rows.Count == 0)
            {
                return (rows, null);
            }

            enrolled = rows.Sum(r => r.Enrolled ?? 0);
        }
        else
        {
            // Sex and age have no enrolment of their own: the round's classes give the total's.
            var classes = (await RoundClassesAsync(roundId, ct)).Where(c => corpId is null || c.CorpId == corpId).ToList();
            if (rows.Count == 0 && classes.Count == 0)
            {
                return (rows, null);
            }

            enrolled = (int)classes.Sum(c => c.Enrolled);
        }

        var label = (await LabelsAsync("city", corpId, ct))["city"];
        return (rows, new StatRow("city", label, enrolled, rows.Sum(r => r.Screened), rows.Sum(r => r.Valid), rows.Sum(r => r.Myopic),
            rows.Sum(r => r.MyopiaLow), rows.Sum(r => r.MyopiaModerate), rows.Sum(r => r.MyopiaHigh), rows.Sum(r => r.OkLens),
            rows.Sum(r => r.PoorVisionKnown), rows.Sum(r => r.PoorVision), rows.Sum(r => r.PoorMild), rows.Sum(r => r.PoorModerate),
            rows.Sum(r => r.PoorSevere)));
    }

    /// <summary>Each round's totals (over one school, or all), from the schools' summed cells: the trend.</summary>
    public async Task<IReadOnlyDictionary<long, StatRow>> TotalsAsync(IReadOnlyList<long> roundIds, string? corpId, CancellationToken ct)
    {
        if (roundIds.Count == 0)
        {
            return new Dictionary<long, StatRow>();
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(long RoundId, long Screened, long Valid, long Myopic, long Low, long Moderate, long High, long Ok,
            long PoorKnown, long Poor, long Mild, long PoorModerate, long Severe)>(new CommandDefinition($"""
            SELECT s.round_id, {Sums}
            FROM vision_stat_school_cells s
            WHERE s.round_id IN @roundIds AND (@corpId IS NULL OR s.corp_id = @corpId)
            GROUP BY s.round_id
            """, new { roundIds, corpId }, cancellationToken: ct));
        return rows.ToDictionary(r => r.RoundId, r => new StatRow("city", "全市", null, (int)r.Screened, (int)r.Valid, (int)r.Myopic, (int)r.Low,
            (int)r.Moderate, (int)r.High, (int)r.Ok, (int)r.PoorKnown, (int)r.Poor, (int)r.Mild, (int)r.PoorModerate, (int)r.Severe));
    }

    private async Task<IReadOnlyDictionary<string, string>> LabelsAsync(string dimension, string? corpId, CancellationToken ct) => dimension switch
    {
        // The total of one school is that school's, not the city's.
        "city" when corpId is not null => new Dictionary<string, string>
        {
            ["city"] = (await directory.CorpNamesAsync(ct)).GetValueOrDefault(corpId, corpId),
        },
        "city" => new Dictionary<string, string> { ["city"] = "全市" },
        "school" => await directory.CorpNamesAsync(ct),
        "grade" => Enumerable.Range(1, 12).ToDictionary(g => g.ToString(System.Globalization.CultureInfo.InvariantCulture), g => $"{g}年级"),
        "sex" => new Dictionary<string, string> { ["male"] = "男", ["female"] = "女" },
        _ => new Dictionary<string, string>(),
    };

    private sealed record RoundClass(string CorpId, string Key, string Name, long Enrolled);

    /// <summary>The twelve counts of a group, as the database summed them.</summary>
    private sealed record Counts(long Screened, long Valid, long Myopic, long Low, long Moderate, long High, long Ok, long PoorKnown, long Poor,
        long Mild, long PoorModerate, long Severe)
    {
        public static readonly Counts None = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        public static Counts Of((string Key, long Screened, long Valid, long Myopic, long Low, long Moderate, long High, long Ok, long PoorKnown,
            long Poor, long Mild, long PoorModerate, long Severe) r) =>
            new(r.Screened, r.Valid, r.Myopic, r.Low, r.Moderate, r.High, r.Ok, r.PoorKnown, r.Poor, r.Mild, r.PoorModerate, r.Severe);
    }
}
