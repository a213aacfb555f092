namespace EduDing.Api.Features.Vision;

/// <summary>
/// The city's myopia targets (docs/vision.md): the binding one (under Vision:TargetFinalRate by its year, strictly),
/// the annual path (Vision:TargetAnnualDrop points a year below the same round a year earlier), and the path's value
/// for a year from the 2020 base.
/// </summary>
internal static class VisionTargets
{
    /// <summary>Both checks for one rate: the binding target, and (with the same round a year earlier) the annual decline.</summary>
    public static TargetsDto Check(VisionOptions o, long? previousRoundId, decimal? rate, decimal? previousRate) => new(
        new BindingTargetDto(o.TargetFinalYear, o.TargetFinalRate, "<", rate, rate is { } r ? r < o.TargetFinalRate : null),
        previousRoundId is not { } previous ? null : new AnnualDeclineDto(previous, previousRate, o.TargetAnnualDrop,
            previousRate - o.TargetAnnualDrop, rate, previousRate - rate,
            rate is { } now && previousRate is { } before ? now <= before - o.TargetAnnualDrop : null));

    /// <summary>The rate against the same round a year earlier, in points (negative: fewer myopic children).</summary>
    public static YearOnYearDto YearOnYear(VisionRound previous, decimal? previousRate, decimal? rate) =>
        new(previous.Id, previous.Name, previousRate, previousRate is { } before && rate is { } now ? now - before : null);

    /// <summary>The city path for a calendar year: the base rate less the annual drop per year, and under the final rate from its year.</summary>
    public static decimal PathFor(VisionOptions o, int year)
    {
        var path = o.TargetBaseRate - (o.TargetAnnualDrop * Math.Max(0, year - o.TargetBaseYear));
        return year >= o.TargetFinalYear ? Math.Min(path, o.TargetFinalRate) : path;
    }
}
