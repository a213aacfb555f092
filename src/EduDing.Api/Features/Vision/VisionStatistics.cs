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

/// <summary>How a statistic groups: the key over the cells (s) joined to the round's classes (c), and over the classes alone for enrolment.</summary>
internal sealed record Dimension(string Name, string KeySql, string? EnrolledKeySql);

/// <summary>
/// Statistics of a round as sums over vision_stat_cells (per class, sex and age, rebuilt on every write), never a
/// scan of the records: a city round of 120,000 students is about 3,000 classes' cells.
/// </summary>
internal sealed class VisionStatistics(Database db, OrgDirectory directory)
{
    public static readonly string[] DimensionNames = ["city", "school", "period", "grade", "class", "sex", "age"];

    private Dimension DimensionOf(string name) => name switch
    {
        "city" => new(name, "'city'", "'city'"),
        "school" => new(name, "s.corp_id", "c.corp_id"),
        // 学段 by name (小学部, 初中部): period nodes are per school, the city groups them by what they are.
        "period" => new(name, "COALESCE(c.period_name, '')", "COALESCE(c.period_name, '')"),
        "grade" => new(name, "CAST(COALESCE(c.grade_level, 0) AS CHAR(20))", "CAST(COALESCE(c.grade_level, 0) AS CHAR(20))"),
        "class" => new(name, db.Dialect.Concat("s.corp_id", "':'", "CAST(s.class_id AS CHAR(20))"),
            db.Dialect.Concat("c.corp_id", "':'", "CAST(c.class_id AS CHAR(20))")),
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
        var d = DimensionOf(dimension);
        var (key, enrolledKey) = (d.KeySql, d.EnrolledKeySql);
        await using var connection = await db.OpenConnectionAsync(ct);
        var args = new { roundId, corpId };
        var sums = (await connection.QueryAsync<(string Key, long Screened, long Valid, long Myopic, long Low, long Moderate, long High, long Ok,
            long PoorKnown, long Poor, long Mild, long PoorModerate, long Severe)>(new CommandDefinition($"""
            SELECT {key} AS k, SUM(s.screened), SUM(s.valid), SUM(s.myopic), SUM(s.myopia_low), SUM(s.myopia_moderate), SUM(s.myopia_high),
                   SUM(s.ok_lens), SUM(s.poor_known), SUM(s.poor_vision), SUM(s.poor_mild), SUM(s.poor_moderate), SUM(s.poor_severe)
            FROM vision_stat_cells s
            JOIN vision_round_classes c ON c.round_id = s.round_id AND c.corp_id = s.corp_id AND c.class_id = s.class_id
            WHERE s.round_id = @roundId AND (@corpId IS NULL OR s.corp_id = @corpId)
            GROUP BY {key}
            """, args, cancellationToken: ct))).ToDictionary(r => r.Key);
        var enrolled = enrolledKey is null
            ? new Dictionary<string, long>()
            : (await connection.QueryAsync<(string Key, long Enrolled)>(new CommandDefinition($"""
                SELECT {enrolledKey} AS k, SUM(c.enrolled) FROM vision_round_classes c
                WHERE c.round_id = @roundId AND (@corpId IS NULL OR c.corp_id = @corpId)
                GROUP BY {enrolledKey}
                """, args, cancellationToken: ct))).ToDictionary(r => r.Key, r => r.Enrolled);

        var labels = await LabelsAsync(connection, directory, roundId, dimension, corpId, ct);

        // Numbers as numbers (age 10 after age 9), everything else by its key.
        return sums.Keys.Union(enrolled.Keys).OrderBy(k => long.TryParse(k, out var n) ? n : long.MaxValue).ThenBy(k => k, StringComparer.Ordinal)
            .Select(k =>
        {
            var s = sums.GetValueOrDefault(k);
            return new StatRow(k, labels.GetValueOrDefault(k, k), enrolledKey is null ? null : (int)enrolled.GetValueOrDefault(k), (int)s.Screened,
                (int)s.Valid, (int)s.Myopic, (int)s.Low, (int)s.Moderate, (int)s.High, (int)s.Ok, (int)s.PoorKnown, (int)s.Poor, (int)s.Mild,
                (int)s.PoorModerate, (int)s.Severe);
        }).ToList();
    }

    /// <summary>Each round's totals (over one school, or all), in one pass over the cells: the trend.</summary>
    public async Task<IReadOnlyDictionary<long, StatRow>> TotalsAsync(IReadOnlyList<long> roundIds, string? corpId, CancellationToken ct)
    {
        if (roundIds.Count == 0)
        {
            return new Dictionary<long, StatRow>();
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(long RoundId, long Screened, long Valid, long Myopic, long Low, long Moderate, long High, long Ok,
            long PoorKnown, long Poor, long Mild, long PoorModerate, long Severe)>(new CommandDefinition("""
            SELECT s.round_id, SUM(s.screened), SUM(s.valid), SUM(s.myopic), SUM(s.myopia_low), SUM(s.myopia_moderate), SUM(s.myopia_high),
                   SUM(s.ok_lens), SUM(s.poor_known), SUM(s.poor_vision), SUM(s.poor_mild), SUM(s.poor_moderate), SUM(s.poor_severe)
            FROM vision_stat_cells s
            WHERE s.round_id IN @roundIds AND (@corpId IS NULL OR s.corp_id = @corpId)
            GROUP BY s.round_id
            """, new { roundIds, corpId }, cancellationToken: ct));
        return rows.ToDictionary(r => r.RoundId, r => new StatRow("city", "全市", null, (int)r.Screened, (int)r.Valid, (int)r.Myopic, (int)r.Low,
            (int)r.Moderate, (int)r.High, (int)r.Ok, (int)r.PoorKnown, (int)r.Poor, (int)r.Mild, (int)r.PoorModerate, (int)r.Severe));
    }

    private static async Task<IReadOnlyDictionary<string, string>> LabelsAsync(System.Data.Common.DbConnection connection, OrgDirectory directory, long roundId,
        string dimension, string? corpId, CancellationToken ct) => dimension switch
    {
        // The total of one school is that school's, not the city's.
        "city" when corpId is not null => new Dictionary<string, string>
        {
            ["city"] = (await directory.CorpNamesAsync(ct)).GetValueOrDefault(corpId, corpId),
        },
        "city" => new Dictionary<string, string> { ["city"] = "全市" },
        "school" => await directory.CorpNamesAsync(ct),
        "grade" => Enumerable.Range(1, 12).ToDictionary(g => g.ToString(System.Globalization.CultureInfo.InvariantCulture), g => $"{g}年级"),
        "class" => (await connection.QueryAsync<(string, long, string)>(new CommandDefinition(
                "SELECT corp_id, class_id, class_name FROM vision_round_classes WHERE round_id = @roundId", new { roundId }, cancellationToken: ct)))
            .ToDictionary(r => $"{r.Item1}:{r.Item2}", r => r.Item3),
        "sex" => new Dictionary<string, string> { ["male"] = "男", ["female"] = "女" },
        _ => new Dictionary<string, string>(),
    };
}
