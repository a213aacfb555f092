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

        foreach (var key in SeasonalOffWorkTimes.Keys.Where(k =>
                     !DateOnly.TryParseExact("2024-" + k, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)))
        {
            yield return ($"{nameof(SeasonalOffWorkTimes)}:{key}", "must be a month-day MM-dd");
        }
    }
}
