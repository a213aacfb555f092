using System.Globalization;

namespace EduDing.Api.Features.Vision;

/// <summary>
/// GB/T 11533 acuity (§1.3): the 5-point value L is canonical. L ↔ decimal V by the chart's table (not the formula:
/// 10^(4.9−5) is 0.794 but the chart says 0.8); V → L by round(5 + lg V, 1). The chart runs 4.0–5.3 in 0.1 steps;
/// below 4.0 only by walking closer (走近法), where the distance decides the value.
/// </summary>
internal static class Acuity
{
    public const decimal ChartMin = 4.0m;
    public const decimal ChartMax = 5.3m;

    private static readonly IReadOnlyDictionary<decimal, decimal> DecimalByFivePoint = new Dictionary<decimal, decimal>
    {
        [4.0m] = 0.1m, [4.1m] = 0.12m, [4.2m] = 0.15m, [4.3m] = 0.2m, [4.4m] = 0.25m, [4.5m] = 0.3m, [4.6m] = 0.4m,
        [4.7m] = 0.5m, [4.8m] = 0.6m, [4.9m] = 0.8m, [5.0m] = 1.0m, [5.1m] = 1.2m, [5.2m] = 1.5m, [5.3m] = 2.0m,
    };

    /// <summary>The chart's decimal label of a 5-point value on the chart.</summary>
    public static decimal ToDecimal(decimal fivePoint) =>
        DecimalByFivePoint.TryGetValue(fivePoint, out var v)
            ? v
            : throw new ArgumentOutOfRangeException(nameof(fivePoint), fivePoint, "not a 5-point value on the chart (4.0–5.3, 0.1 steps)");

    /// <summary>round(5 + lg V, 1): reproduces the table (0.6 → 4.778 → 4.8, 0.12 → 4.079 → 4.1).</summary>
    public static decimal FromDecimal(decimal decimalAcuity)
    {
        if (decimalAcuity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(decimalAcuity), decimalAcuity, "must be positive");
        }

        var l = Math.Round((decimal)(5 + Math.Log10((double)decimalAcuity)), 1, MidpointRounding.AwayFromZero);
        return l <= ChartMax ? l : throw new ArgumentOutOfRangeException(nameof(decimalAcuity), decimalAcuity, "above the chart (2.0 = 5.3)");
    }

    /// <summary>
    /// Why a 5-point value cannot be stored, or null: on the 0.1 grid within the chart; below 4.0 only with the
    /// walking-closer distance (metres), and then it must be the value that distance gives (4.0 + lg(d / 5)).
    /// </summary>
    public static string? Problem(decimal fivePoint, decimal? walkingDistanceMetres)
    {
        if (decimal.Round(fivePoint, 1) != fivePoint)
        {
            return $"{fivePoint.ToString(CultureInfo.InvariantCulture)} is not on the 0.1 grid of the 5-point chart";
        }

        if (fivePoint > ChartMax)
        {
            return $"{fivePoint.ToString(CultureInfo.InvariantCulture)} is above the chart maximum 5.3";
        }

        if (fivePoint >= ChartMin)
        {
            return walkingDistanceMetres is null ? null : "a walking-closer distance goes only with values below 4.0";
        }

        if (walkingDistanceMetres is not { } d || d is < 0.5m or >= 5m)
        {
            return "values below 4.0 come from walking closer (走近法): give the distance in metres (0.5 to 4.5)";
        }

        var expected = WalkingCloserValue(d);
        return expected == fivePoint
            ? null
            : $"at {d.ToString(CultureInfo.InvariantCulture)} m the 4.0 line reads {expected.ToString(CultureInfo.InvariantCulture)}, not {fivePoint.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>The 4.0 line read at <paramref name="metres"/> instead of 5 m: 4.0 + lg(d / 5), to one decimal.</summary>
    public static decimal WalkingCloserValue(decimal metres) =>
        Math.Round((decimal)(4.0 + Math.Log10((double)metres / 5.0)), 1, MidpointRounding.AwayFromZero);
}
