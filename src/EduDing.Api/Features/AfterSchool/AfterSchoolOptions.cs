using System.Globalization;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>After-school care (docs/after-school.md): the "5+2" rule's local values, uncertain rules as settings.</summary>
internal sealed class AfterSchoolOptions : IValidatedOptions
{
    public static string Section => "AfterSchool";

    /// <summary>"5+2": at least this many hours of after-school care each school day.</summary>
    public decimal MinimumDailyHours { get; set; } = 2m;

    /// <summary>The local off-work time (下班时间) the service may not end before.</summary>
    public TimeOnly OffWorkTime { get; set; } = new(17, 30);

    /// <summary>Seasonal off-work times: from a month-day ("MM-dd") on, until the next entry (e.g. winter hours from 10-01).</summary>
    public Dictionary<string, TimeOnly> SeasonalOffWorkTimes { get; set; } = [];

    /// <summary>The city's participation in 2020, the plan's baseline (34 public primary schools, 63.34% of their pupils).</summary>
    public decimal BaselineParticipationRate { get; set; } = 63.34m;

    /// <summary>
    /// Fee exemption categories and the share of the fee each waives, in percent (困难家庭 and the like; Zhejiang's and
    /// Haining's categories were not found, so they are the bureau's to set).
    /// </summary>
    public Dictionary<string, int> FeeExemptions { get; set; } = new() { ["low-income"] = 100, ["special-needs"] = 100 };

    /// <summary>Per-term and per-month fees pro rata to the sessions had when a child joins or leaves within the period.</summary>
    public bool ProRataFees { get; set; } = true;

    /// <summary>Run the after-school worker (the day's absence and handover alerts) in this instance.</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>How often the worker looks for alerts to send.</summary>
    public TimeSpan AlertInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A present child with no handover this long after the session's end raises the handover alert.</summary>
    public TimeSpan HandoverGrace { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How long a freed elective place is kept for the next family in line before it moves on to the one after; zero
    /// gives the place at once.
    /// </summary>
    public TimeSpan ClaimWindow { get; set; } = TimeSpan.FromHours(48);

    /// <summary>The roll of an earlier day may be marked late (补签) for this many days, then it is locked.</summary>
    public int RollCorrectionDays { get; set; } = 3;

    /// <summary>Whether the roll of <paramref name="day"/> is locked on <paramref name="today"/>: no late entries, no corrections.</summary>
    public bool RollLocked(DateOnly day, DateOnly today) => day < today.AddDays(-RollCorrectionDays);

    /// <summary>The off-work time on a date: the latest seasonal entry on or before that month-day, else <see cref="OffWorkTime"/>.</summary>
    public TimeOnly OffWorkTimeOn(DateOnly day)
    {
        var key = day.ToString("MM-dd", CultureInfo.InvariantCulture);
        var seasonal = SeasonalOffWorkTimes.Where(s => string.CompareOrdinal(s.Key, key) <= 0).OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
        if (seasonal.Count > 0)
        {
            return seasonal[^1].Value;
        }

        // Before the first entry of the year, the last entry of the previous year still holds.
        return SeasonalOffWorkTimes.Count > 0 ? SeasonalOffWorkTimes.OrderBy(s => s.Key, StringComparer.Ordinal).Last().Value : OffWorkTime;
    }

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (MinimumDailyHours is <= 0 or > 8)
        {
            yield return (nameof(MinimumDailyHours), "must be more than 0 and at most 8 hours");
        }

        foreach (var (category, percent) in FeeExemptions.Where(e => e.Value is < 0 or > 100))
        {
            yield return ($"{nameof(FeeExemptions)}:{category}", $"must be 0 to 100 percent (was {percent})");
        }

        if (AlertInterval < TimeSpan.FromSeconds(1))
        {
            yield return (nameof(AlertInterval), "must be at least a second");
        }

        if (HandoverGrace < TimeSpan.Zero || HandoverGrace > TimeSpan.FromHours(3))
        {
            yield return (nameof(HandoverGrace), "must be 0 to 3 hours");
        }

        if (ClaimWindow < TimeSpan.Zero || ClaimWindow > TimeSpan.FromDays(14))
        {
            yield return (nameof(ClaimWindow), "must be 0 to 14 days");
        }

        if (RollCorrectionDays is < 0 or > 60)
        {
            yield return (nameof(RollCorrectionDays), "must be 0 to 60 days");
        }

        foreach (var key in SeasonalOffWorkTimes.Keys.Where(k =>
                     !DateOnly.TryParseExact("2024-" + k, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)))
        {
            yield return ($"{nameof(SeasonalOffWorkTimes)}:{key}", "must be a month-day MM-dd");
        }
    }
}
