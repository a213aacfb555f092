namespace EduDing.Api.Hosting;

/// <summary>Waits that double after each failure, up to a ceiling (event retries, failed reconciles).</summary>
internal static class Backoff
{
    /// <summary>The wait after the <paramref name="failures"/>-th failure in a row: first, 2 × first, 4 × first … at most max.</summary>
    public static TimeSpan Doubling(TimeSpan first, TimeSpan max, int failures) =>
        TimeSpan.FromTicks((long)Math.Min(max.Ticks, first.Ticks * Math.Pow(2, Math.Clamp(failures - 1, 0, 40))));
}
