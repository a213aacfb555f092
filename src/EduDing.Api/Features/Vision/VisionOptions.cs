using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Vision;

/// <summary>
/// The classification rules of domain-rules.md §1 whose exact form is uncertain, at their documented defaults. Every
/// stored result names the rule set that produced it (<see cref="RuleSetName"/>), so a change here is visible.
/// </summary>
internal sealed class VisionOptions : IValidatedOptions
{
    public static string Section => "Vision";

    /// <summary>筛查性近视 needs SE at or below this (§1.7).</summary>
    public decimal MyopiaSeThreshold { get; set; } = -0.50m;

    /// <summary>True: SE ≤ threshold (the 2019 guideline, default); false: SE &lt; threshold (some WS/T 663 readings).</summary>
    public bool MyopiaThresholdInclusive { get; set; } = true;

    /// <summary>SE at or below this is 中度 myopia (§1.8 recommended default −3.00).</summary>
    public decimal ModerateMyopiaAtOrBelow { get; set; } = -3.00m;

    /// <summary>SE at or below this is 高度 myopia (§1.8 recommended default −6.00).</summary>
    public decimal HighMyopiaAtOrBelow { get; set; } = -6.00m;

    /// <summary>Overnight OK-lens wearers count as myopic in the rate, with no grade (§1.10, practice).</summary>
    public bool OkLensCountsAsMyopic { get; set; } = true;

    /// <summary>
    /// Under 6, a UCVA below the norm for the age is flagged "低于同龄参考值" (§1.6, 2021 update: age 1 ≈4.3, 2 ≥4.6,
    /// 3 ≥4.7, 4 ≥4.8, 5 ≥4.9). Keys are completed years.
    /// </summary>
    public Dictionary<int, decimal> UnderSixNorms { get; set; } = new() { [1] = 4.3m, [2] = 4.6m, [3] = 4.7m, [4] = 4.8m, [5] = 4.9m };

    /// <summary>The city path (seed, 专栏3): the rate in the base year, falling by the annual drop.</summary>
    public int TargetBaseYear { get; set; } = 2020;

    public decimal TargetBaseRate { get; set; } = 58.22m;

    public decimal TargetAnnualDrop { get; set; } = 1.00m;

    /// <summary>The plan's end: the rate must be under this by that year.</summary>
    public int TargetFinalYear { get; set; } = 2025;

    public decimal TargetFinalRate { get; set; } = 55.00m;

    /// <summary>
    /// Aggregates shown to anyone but the school's own staff (the bureau) hide a cell of fewer screened children than
    /// this (counts and rates null, suppressed true), so a small class, sex or age group cannot be read as individuals.
    /// 0 shows every cell.
    /// </summary>
    public int MinimumCellSize { get; set; } = 5;

    /// <summary>A short name of these settings, stored with every classification.</summary>
    public string RuleSetName =>
        $"NHC2019/WS-T663: SE{(MyopiaThresholdInclusive ? "<=" : "<")}{MyopiaSeThreshold:0.00}; grades {ModerateMyopiaAtOrBelow:0.00}/{HighMyopiaAtOrBelow:0.00}; OK={(OkLensCountsAsMyopic ? "myopic" : "excluded")}";

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (MinimumCellSize is < 0 or > 100)
        {
            yield return (nameof(MinimumCellSize), "must be 0 to 100");
        }

        if (MyopiaSeThreshold > 0)
        {
            yield return (nameof(MyopiaSeThreshold), "must be negative (dioptres of myopia)");
        }

        if (!(HighMyopiaAtOrBelow < ModerateMyopiaAtOrBelow && ModerateMyopiaAtOrBelow < MyopiaSeThreshold))
        {
            yield return (nameof(ModerateMyopiaAtOrBelow), "must lie between HighMyopiaAtOrBelow and MyopiaSeThreshold");
        }

        if (UnderSixNorms.Keys.Any(age => age is < 0 or > 5) || UnderSixNorms.Values.Any(v => v is < 3.0m or > 5.3m))
        {
            yield return (nameof(UnderSixNorms), "keys are ages 0 to 5, values 5-point acuities 3.0 to 5.3");
        }

        if (TargetFinalYear <= TargetBaseYear || TargetAnnualDrop < 0)
        {
            yield return (nameof(TargetFinalYear), "must be after TargetBaseYear, with a non-negative TargetAnnualDrop");
        }
    }
}
