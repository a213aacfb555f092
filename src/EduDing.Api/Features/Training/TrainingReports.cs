using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Training;

/// <summary>Credits counted toward the teachers' cycles under one key (a knowledge domain, a level, a training level).</summary>
internal sealed record ReportBucket(string Key, string Name, decimal Credits);

/// <summary>
/// A school's completion: teachers, those whose cycle training is complete, those whose cycle includes the report's
/// year and those of them who met that year's minimum, and the registration outcome as it stands.
/// </summary>
internal sealed record SchoolCompletion(string CorpId, string Name, int Teachers, int CycleComplete, int YearTeachers, int YearComplete, int Pass,
    int Deferred, int Failed);

/// <summary>A teacher who would not pass the next 定期注册 as things stand, with every reason.</summary>
internal sealed record TeacherAtRisk(string CorpId, string UserId, string Name, decimal Total, string Registration, IReadOnlyList<string> Reasons);

/// <summary>
/// A report: completion, distributions, each school's line, and the teachers at risk — all of them for a school, and for
/// the city the first <see cref="TrainingReports.CityAtRiskLimit"/> (不合格 first, then the fewest credits; the workbook
/// lists all), <paramref name="AtRiskCount"/> saying how many there are.
/// </summary>
internal sealed record TrainingReport(string Scope, int Year, int Teachers, int CycleComplete, int YearTeachers, int YearComplete,
    IReadOnlyList<ReportBucket> ByDomain, IReadOnlyList<ReportBucket> ByLevel, IReadOnlyList<ReportBucket> ByTrainingLevel,
    IReadOnlyList<SchoolCompletion> Schools, int AtRiskCount, IReadOnlyList<TeacherAtRisk> AtRisk);

/// <summary>
/// Reports per school and for the city (docs/training.md): completion for the cycle and the year, credits by knowledge
/// domain, level and training level (省/市/县/校), and the teachers at risk for the next registration: a school's from
/// its live standings (<see cref="TrainingStandings"/>), the city's summed by the database over the kept standings of
/// <see cref="CityStandings"/>, brought up to date first.
/// </summary>
internal sealed class TrainingReports(TrainingStandings standings, CityStandings city, CorpDirectory corps, AccessPolicy access, IOptions<TrainingOptions> options,
    TimeProvider time)
{
    private static readonly IReadOnlyDictionary<string, string> LevelNames = new Dictionary<string, string>
    {
        ["basic"] = "初级", ["intermediate"] = "中级", ["advanced"] = "高级",
    };

    private static readonly IReadOnlyDictionary<string, string> TrainingLevelNames = new Dictionary<string, string>
    {
        ["province"] = "省级", ["city"] = "市级", ["county"] = "县级", ["school"] = "校级", ["other"] = "其他（折算、非审核机构）",
    };

    public async Task<TrainingReport> SchoolAsync(Caller caller, string corpId, int? year, CancellationToken ct)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            access.RequireSchoolAdmin(caller, corpId, "the school follows its teachers' credits");
        }

        access.School(corpId);
        return Build(corpId, (await standings.OfSchoolsAsync([corpId], options.Value, ct)).Select(ReportRow.Of).ToList(), ReportYear(year));
    }

    /// <summary>How many teachers at risk the city report lists (the workbook lists all).</summary>
    public const int CityAtRiskLimit = 200;

    public async Task<TrainingReport> CityAsync(Caller caller, int? year, CancellationToken ct, int atRiskLimit = CityAtRiskLimit)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            throw new ForbiddenException("Missing scope: admin of the bureau.");
        }

        var reportYear = ReportYear(year);
        var schools = SchoolCorpIds();
        var sums = await city.CurrentSumsAsync(schools, reportYear, options.Value, ct);
        var lines = sums.Select(s => new SchoolCompletion(s.CorpId, corps.Find(s.CorpId)?.Name ?? s.CorpId, (int)s.Teachers, (int)s.Complete,
            (int)s.InCycle, (int)s.YearMet, (int)s.Pass, (int)s.Deferred, (int)s.Failed)).ToList();
        return new TrainingReport("city", reportYear, lines.Sum(l => l.Teachers), lines.Sum(l => l.CycleComplete), lines.Sum(l => l.YearTeachers),
            lines.Sum(l => l.YearComplete), Buckets(SumColumns(sums.Select(s => s.Domains), 7), SumColumns(sums.Select(s => s.Levels), 3),
                SumColumns(sums.Select(s => s.TrainingLevels), 5), out var byLevel, out var byTrainingLevel), byLevel, byTrainingLevel, lines,
            lines.Sum(l => l.Deferred + l.Failed), await city.AtRiskAsync(schools, atRiskLimit, ct));
    }

    /// <summary>Brings the city's kept standings up to date (the training worker, after each Beijing midnight and change).</summary>
    public async Task KeepCityCurrentAsync(CancellationToken ct) =>
        await city.CurrentSumsAsync(SchoolCorpIds(), ShanghaiTime.Today(time).Year, options.Value, ct);

    private List<string> SchoolCorpIds() => corps.All.Where(c => c.Kind == CorpKind.School).Select(c => c.CorpId).ToList();

    /// <summary>Column by column, the sums of equally wide rows.</summary>
    private static decimal[] SumColumns(IEnumerable<decimal[]> rows, int width) =>
        rows.Aggregate(new decimal[width], (total, row) => total.Zip(row, (a, b) => a + b).ToArray());

    private int ReportYear(int? year)
    {
        var thisYear = ShanghaiTime.Today(time).Year;
        return year is null ? thisYear
            : year >= 2016 && year <= thisYear ? year.Value
            : throw new RequestValidationException("year", $"a year from 2016 (the credit system) to {thisYear}");
    }

    /// <summary>The report over <paramref name="rows"/>: pure, so that a test can compare it with its own computation.</summary>
    public TrainingReport Build(string scope, IReadOnlyList<ReportRow> rows, int year)
    {
        var byDomain = Buckets(SumColumns(rows.Select(r => r.Domains), 7), SumColumns(rows.Select(r => r.Levels), 3),
            SumColumns(rows.Select(r => r.TrainingLevels), 5),
            out var byLevel, out var byTrainingLevel);
        var schools = rows.GroupBy(r => r.CorpId).Select(g => new SchoolCompletion(g.Key, corps.Find(g.Key)?.Name ?? g.Key, g.Count(),
                g.Count(r => r.Complete), g.Count(r => r.InCycle(year)), g.Count(r => r.YearMet(year)),
                g.Count(r => r.Registration == RegistrationOutcome.Pass), g.Count(r => r.Registration == RegistrationOutcome.Deferred),
                g.Count(r => r.Registration == RegistrationOutcome.Fail)))
            .OrderBy(s => s.CorpId, StringComparer.Ordinal).ToList();
        var atRisk = rows.Where(r => r.Registration != RegistrationOutcome.Pass)
            .OrderBy(r => r.Registration == RegistrationOutcome.Fail ? 0 : 1).ThenBy(r => r.Total).ThenBy(r => r.CorpId, StringComparer.Ordinal)
            .ThenBy(r => r.UserId, StringComparer.Ordinal)
            .Select(r => new TeacherAtRisk(r.CorpId, r.UserId, r.Name, r.Total, r.Registration, r.Reasons)).ToList();
        return new TrainingReport(scope, year, rows.Count, rows.Count(r => r.Complete), rows.Count(r => r.InCycle(year)), rows.Count(r => r.YearMet(year)),
            byDomain, byLevel, byTrainingLevel, schools, atRisk.Count, atRisk);
    }

    /// <summary>Credits by domain, level and training level as named buckets (a database's sums rounded to the cent).</summary>
    private List<ReportBucket> Buckets(decimal[] domains, decimal[] levels, decimal[] trainingLevels, out List<ReportBucket> byLevel,
        out List<ReportBucket> byTrainingLevel)
    {
        var rules = options.Value;
        byLevel = CreditLevel.All.Select((l, i) => new ReportBucket(l, LevelNames[l], Math.Round(levels[i], 2))).ToList();
        byTrainingLevel = TrainingStandings.TrainingLevels.Select((l, i) => new ReportBucket(l, TrainingLevelNames[l], Math.Round(trainingLevels[i], 2)))
            .ToList();
        return Enumerable.Range(1, 7).Select(d => new ReportBucket(d.ToString(System.Globalization.CultureInfo.InvariantCulture),
            rules.DomainNames.ElementAtOrDefault(d - 1) ?? $"{d}", Math.Round(domains[d - 1], 2))).ToList();
    }

    /// <summary>The report as a workbook: schools, distributions and teachers at risk, one sheet each, headers in Chinese.</summary>
    public static Dictionary<string, object> Workbook(TrainingReport report) => new()
    {
        ["学校完成情况"] = report.Schools.Select(s => new Dictionary<string, object?>
        {
            ["学校"] = s.Name, ["编号"] = s.CorpId, ["教师数"] = s.Teachers, ["周期学分达标"] = s.CycleComplete,
            [$"{report.Year}年在周期内"] = s.YearTeachers, [$"{report.Year}年学分达标"] = s.YearComplete,
            ["注册合格"] = s.Pass, ["暂缓注册"] = s.Deferred, ["注册不合格"] = s.Failed,
        }).ToList(),
        ["学分分布"] = report.ByDomain.Select(b => Bucket("知识领域", b))
            .Concat(report.ByLevel.Select(b => Bucket("层次", b)))
            .Concat(report.ByTrainingLevel.Select(b => Bucket("培训级别", b))).ToList(),
        ["注册风险教师"] = report.AtRisk.Select(t => new Dictionary<string, object?>
        {
            ["学校"] = t.CorpId, ["工号"] = t.UserId, ["姓名"] = t.Name, ["周期学分"] = t.Total,
            ["预计结果"] = t.Registration switch { RegistrationOutcome.Fail => "不合格", RegistrationOutcome.Deferred => "暂缓", _ => "合格" },
            ["原因"] = string.Join("；", t.Reasons),
        }).ToList(),
    };

    private static Dictionary<string, object?> Bucket(string dimension, ReportBucket b) =>
        new() { ["维度"] = dimension, ["类别"] = b.Name, ["学分"] = b.Credits };
}
