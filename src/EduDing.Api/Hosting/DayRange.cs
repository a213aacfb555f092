namespace EduDing.Api.Hosting;

/// <summary>A span of Beijing days asked for by <c>from</c> and <c>to</c> query parameters (reports, audit verification).</summary>
internal static class DayRange
{
    /// <summary>The longest span one request covers.</summary>
    public const int MaxDays = 366;

    /// <summary>
    /// <paramref name="to"/> defaults to today and <paramref name="from"/> to <paramref name="defaultDays"/> days ending
    /// then; 400 naming the field when from is after to or the span is longer than <see cref="MaxDays"/>.
    /// </summary>
    public static (DateOnly From, DateOnly To) Of(DateOnly? from, DateOnly? to, int defaultDays, TimeProvider time)
    {
        var last = to ?? ShanghaiTime.Today(time);
        var first = from ?? last.AddDays(1 - defaultDays);
        if (first > last)
        {
            throw new RequestValidationException("from", "must not be after to");
        }

        if (last.DayNumber - first.DayNumber >= MaxDays)
        {
            throw new RequestValidationException("to", $"at most {MaxDays} days at a time");
        }

        return (first, last);
    }
}
