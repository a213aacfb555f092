using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Vision;

/// <summary>Aggregates of a round and the trend, with the city targets, small groups withheld outside the school.</summary>
internal static class VisionStatisticsEndpoints
{
    private static async Task<StatisticsDto> BuildStatisticsAsync(long roundId, string? by, string? corpId, Caller caller, VisionRepository vision,
        VisionStatistics statistics, IOptions<VisionOptions> options, CancellationToken ct)
    {
        by ??= "school";
        if (!VisionStatistics.DimensionNames.Contains(by))
        {
            throw new RequestValidationException("by", $"must be one of {string.Join(", ", VisionStatistics.DimensionNames)}");
        }

        VisionAccess.RequireStatistics(caller, corpId);
        var round = await vision.FindRoundAsync(roundId, ct) ?? throw new NotFoundException($"No screening round {roundId}.");
        var previous = await vision.SameRoundAYearEarlierAsync(round, ct);

        // Both checks of the plan, for the total (the city, or the school asked for) and for each row of a school, period or grade:
        // those need the year-earlier round by the same grouping, the rest its total alone. The two rounds are read at once.
        var current = statistics.WithTotalAsync(roundId, by, corpId, ct);
        var earlier = previous is null
            ? Task.FromResult<(IReadOnlyList<StatRow> Rows, StatRow? Total)>(([], null))
            : by is "school" or "period" or "grade"
                ? statistics.WithTotalAsync(previous.Id, by, corpId, ct)
                : statistics.WithTotalAsync(previous.Id, "city", corpId, ct);
        await Task.WhenAll(current, earlier);
        var (rows, total) = current.Result;
        var (previousRows, previousTotal) = earlier.Result;

        var yoy = previous is null ? null : VisionTargets.YearOnYear(previous, previousTotal?.MyopiaRate, total?.MyopiaRate);
        var o = options.Value;

        TargetsDto Targets(decimal? rate, decimal? previousRate) => VisionTargets.Check(o, previous?.Id, rate, previousRate);

        // Outside the school's own staff, small groups are withheld, and so are their targets.
        var minimum = VisionAccess.MinimumCellSize(caller, corpId, o);
        var shown = rows.Select(r => StatisticsRowDto.From(r).SuppressedBelow(minimum)).ToList();
        var shownTotal = total is null ? null : StatisticsRowDto.From(total).SuppressedBelow(minimum);
        return new StatisticsDto(RoundDto.From(round), by, corpId, shown, shownTotal, shownTotal?.Suppressed == true ? null : yoy,
            shownTotal?.Suppressed == true ? null : Targets(total?.MyopiaRate, yoy?.MyopiaRate),
            by is "school" or "period" or "grade"
                ? rows.Where((r, i) => !shown[i].Suppressed)
                    .ToDictionary(r => r.Key, r => Targets(r.MyopiaRate, previousRows.FirstOrDefault(p => p.Key == r.Key)?.MyopiaRate))
                : null);
    }

    internal static async Task<Ok<StatisticsDto>> StatisticsAsync(long roundId, string? by, string? corpId, Caller caller, VisionRepository vision, VisionStatistics statistics, IOptions<VisionOptions> options, CancellationToken ct) =>
        TypedResults.Ok(await BuildStatisticsAsync(roundId, by, corpId, caller, vision, statistics, options, ct));

    internal static async Task<FileContentHttpResult> ExportAsync(long roundId, string? by, string? corpId, Caller caller, VisionRepository vision, VisionStatistics statistics, VisionAccess access, IOptions<VisionOptions> options,
        CancellationToken ct)
    {
        var stats = await BuildStatisticsAsync(roundId, by, corpId, caller, vision, statistics, options, ct);
        var rows = stats.Rows.Append(stats.Total).OfType<StatisticsRowDto>().Select(r => new Dictionary<string, object?>
        {
            ["分组"] = r == stats.Total ? "合计" : r.Label,
            ["在册人数"] = r.Enrolled,
            ["筛查人数"] = r.Screened,
            ["有效人数"] = r.Valid,
            ["近视人数"] = r.Myopic,
            ["近视率(%)"] = r.MyopiaRate,
            ["低度"] = r.MyopiaLow,
            ["中度"] = r.MyopiaModerate,
            ["高度"] = r.MyopiaHigh,
            ["角膜塑形镜"] = r.OkLens,
            ["视力不良人数"] = r.PoorVision,
            ["视力不良率(%)"] = r.PoorVisionRate,
            ["筛查覆盖率(%)"] = r.Coverage,
        }).ToList();
        var file = await Xlsx.FileAsync(rows, $"round-{roundId}-{stats.By}.xlsx", "统计", ct);
        await access.AuditExportAsync(caller, corpId ?? "city", $"statistics of round {roundId} by {stats.By} (aggregates)", ct);
        return file;
    }

    internal static async Task<Ok<IReadOnlyList<TrendPoint>>> TrendAsync(int? rounds, string? corpId, Caller caller,
        VisionRepository vision, VisionStatistics statistics, IOptions<VisionOptions> options, CancellationToken ct)
    {
        if (rounds is < 1 or > 40)
        {
            throw new RequestValidationException("rounds", "must be 1 to 40");
        }

        VisionAccess.RequireStatistics(caller, corpId);
        var recent = (await vision.RecentCityRoundsAsync(rounds ?? 10, ct)).Reverse().ToList();
        var totals = await statistics.TotalsAsync(recent.Select(r => r.Id).ToList(), corpId, ct);
        var points = recent.Select(round =>
        {
            var total = totals.GetValueOrDefault(round.Id);
            return new TrendPoint(round.Id, round.Name, round.OpensOn, total?.Screened ?? 0, total?.Valid ?? 0, total?.MyopiaRate,
                total?.PoorVisionRate, VisionTargets.PathFor(options.Value, round.OpensOn.Year));
        }).ToList();

        return TypedResults.Ok<IReadOnlyList<TrendPoint>>(points);
    }
}
