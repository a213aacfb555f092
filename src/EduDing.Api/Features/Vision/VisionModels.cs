using System.ComponentModel;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EduDing.Api.Features.Vision;

/// <summary>两假双测 rounds plus ad-hoc and rescreen rounds.</summary>
internal static class RoundKind
{
    [Description("寒假离校")]
    public const string WinterLeave = "winter-leave";
    [Description("寒假返校")]
    public const string WinterReturn = "winter-return";
    [Description("暑假离校")]
    public const string SummerLeave = "summer-leave";
    [Description("暑假返校")]
    public const string SummerReturn = "summer-return";
    [Description("临时筛查")]
    public const string AdHoc = "ad-hoc";
    [Description("复查")]
    public const string Rescreen = "rescreen";

    public static readonly string[] All = [WinterLeave, WinterReturn, SummerLeave, SummerReturn, AdHoc, Rescreen];

    public static string Chinese(string kind) => kind switch
    {
        WinterLeave => "寒假离校",
        WinterReturn => "寒假返校",
        SummerLeave => "暑假离校",
        SummerReturn => "暑假返校",
        AdHoc => "专项筛查",
        _ => "复筛",
    };

    /// <summary>A round's name when none is given: "2026学年寒假离校视力筛查", "2026学年专项视力筛查", "2026学年视力复筛".</summary>
    public static string DefaultName(string kind, int schoolYear) => kind switch
    {
        AdHoc => $"{schoolYear}学年专项视力筛查",
        Rescreen => $"{schoolYear}学年视力复筛",
        _ => $"{schoolYear}学年{Chinese(kind)}视力筛查",
    };
}

/// <summary>Why a child is referred (docs/vision.md): screening myopia first, then below the norm for their age, then poor vision.</summary>
internal static class ReferralReason
{
    public const string ScreeningMyopia = "screening-myopia";
    public const string BelowAgeNorm = "below-age-norm";
    public const string PoorVision = "poor-vision";
}

internal static class ReferralStatus
{
    [Description("待就诊")]
    public const string Open = "open";
    [Description("家长已确认")]
    public const string Acknowledged = "acknowledged";
    [Description("已就诊")]
    public const string Visited = "visited";
    [Description("已取消")]
    public const string Cancelled = "cancelled";
}

internal sealed record VisionRound(long Id, string Kind, int SchoolYear, string Name, string? CorpId, DateOnly OpensOn, DateOnly ClosesOn,
    long? RescreenOf, string CreatedByCorpId, string CreatedByUserId, DateTime CreatedAt);

/// <summary>One student's screening as entered (by hand, a class form, or an xlsx row).</summary>
internal sealed record VisionRecordInput(string StudentUserId, string Sex, DateOnly BirthDate, DateOnly ScreenedOn, GlassesType Glasses,
    decimal? UcvaRight, decimal? UcvaLeft, decimal? WalkDistanceRight, decimal? WalkDistanceLeft, decimal? CvaRight, decimal? CvaLeft,
    decimal? SphereRight, decimal? CylinderRight, int? AxisRight, decimal? SphereLeft, decimal? CylinderLeft, int? AxisLeft,
    decimal? AxialLengthRight, decimal? AxialLengthLeft, string? NotTestableReason)
{
    /// <summary>Completed years on the screening date (周岁, domain-rules §0).</summary>
    public int AgeYears
    {
        get
        {
            var age = ScreenedOn.Year - BirthDate.Year;
            return ScreenedOn < BirthDate.AddYears(age) ? age - 1 : age;
        }
    }

    /// <summary>The same values give the same hash: an unchanged re-import is recognised and changes nothing.</summary>
    public string Hash()
    {
        static string D(decimal? d) => d?.ToString("0.###", CultureInfo.InvariantCulture) ?? "";
        var canonical = string.Join('|', StudentUserId, Sex, BirthDate.ToString("O"), ScreenedOn.ToString("O"), Glasses,
            D(UcvaRight), D(UcvaLeft), D(WalkDistanceRight), D(WalkDistanceLeft), D(CvaRight), D(CvaLeft),
            D(SphereRight), D(CylinderRight), AxisRight, D(SphereLeft), D(CylinderLeft), AxisLeft, D(AxialLengthRight), D(AxialLengthLeft),
            NotTestableReason ?? "");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))).ToLowerInvariant();
    }

    /// <summary>Every reason the input cannot be stored, by field (the JSON names; the import maps them to its columns).</summary>
    public IReadOnlyList<(string Field, string Reason)> Problems(VisionRound round, DateOnly today)
    {
        var problems = new List<(string, string)>();
        if (Sex is not ("male" or "female"))
        {
            problems.Add(("sex", "must be male or female (男/女)"));
        }

        if (ScreenedOn < round.OpensOn || ScreenedOn > round.ClosesOn || ScreenedOn > today)
        {
            problems.Add(("screenedOn", $"must be within the round's window {round.OpensOn:yyyy-MM-dd} to {round.ClosesOn:yyyy-MM-dd}, and not in the future"));
        }

        if (AgeYears is < 3 or > 20)
        {
            problems.Add(("birthDate", $"gives age {AgeYears} on the screening date; expected 3 to 20"));
        }

        var testable = string.IsNullOrWhiteSpace(NotTestableReason);
        if (!testable && NotTestableReason!.Length > 200)
        {
            problems.Add(("notTestableReason", "at most 200 characters"));
        }

        var okLens = Glasses == GlassesType.OkLens;
        foreach (var (side, ucva, walk, cva, sphere, cylinder, axis, axial) in new[]
                 {
                     ("Right", UcvaRight, WalkDistanceRight, CvaRight, SphereRight, CylinderRight, AxisRight, AxialLengthRight),
                     ("Left", UcvaLeft, WalkDistanceLeft, CvaLeft, SphereLeft, CylinderLeft, AxisLeft, AxialLengthLeft),
                 })
        {
            if (ucva is { } u)
            {
                if (Acuity.Problem(u, walk) is { } problem)
                {
                    problems.Add(($"ucva{side}", problem));
                }
            }
            else if (testable && !okLens)
            {
                problems.Add(($"ucva{side}", "is required (or give notTestableReason)"));
            }
            else if (walk is not null)
            {
                problems.Add(($"walkDistance{side}", "goes only with an uncorrected acuity below 4.0"));
            }

            if (cva is { } c && Acuity.Problem(c, null) is { } cvaProblem)
            {
                problems.Add(($"cva{side}", cvaProblem));
            }
            else if (cva is null && testable && Glasses != GlassesType.None)
            {
                problems.Add(($"cva{side}", "is required for glasses wearers (戴镜视力)"));
            }

            if (sphere is null != cylinder is null)
            {
                problems.Add(($"cylinder{side}", "sphere and cylinder go together (write 0 for no cylinder)"));
            }

            if (sphere is { } s && (s % 0.25m != 0 || s is < -30 or > 30))
            {
                problems.Add(($"sphere{side}", "must be a multiple of 0.25 D between -30 and +30"));
            }

            if (cylinder is { } cy && (cy % 0.25m != 0 || cy is < -10 or > 10))
            {
                problems.Add(($"cylinder{side}", "must be a multiple of 0.25 D between -10 and +10"));
            }

            if (axis is { } a && a is < 1 or > 180)
            {
                problems.Add(($"axis{side}", "must be 1 to 180"));
            }
            else if (axis is null && cylinder is { } cyl && cyl != 0)
            {
                problems.Add(($"axis{side}", "is required with a non-zero cylinder"));
            }

            if (axial is { } len && len is < 15 or > 35)
            {
                problems.Add(($"axialLength{side}", "must be 15 to 35 mm"));
            }
        }

        return problems;
    }
}

/// <summary>A stored record: the input, the classification, and who entered which version when.</summary>
internal sealed record VisionRecord(long RoundId, string CorpId, string StudentUserId, long ClassId, string Sex, DateOnly BirthDate,
    DateOnly ScreenedOn, int AgeYears, string Glasses, decimal? UcvaR, decimal? UcvaL, decimal? WalkDistanceR, decimal? WalkDistanceL,
    decimal? CvaR, decimal? CvaL, decimal? SphereR, decimal? CylinderR, int? AxisR, decimal? SphereL, decimal? CylinderL, int? AxisL,
    decimal? AxialLengthR, decimal? AxialLengthL, string? NotTestableReason, decimal? SeR, decimal? SeL, string? PoorVision, bool? Myopic,
    string? MyopiaGrade, bool Valid, bool FollowUp, bool BelowAgeNorm, bool NeedsReferral, string RuleSet, string InputHash, int Version,
    string Source, string EnteredByCorpId, string EnteredByUserId, DateTime EnteredAt, string? EyesSealed);

/// <summary>
/// The per-eye values of one record, sealed together in vision_records.eyes_sealed (docs/encryption.md): everything
/// measured, while the classification stays in its columns for the statistics.
/// </summary>
internal sealed record EyeValues(decimal? UcvaR, decimal? UcvaL, decimal? WalkDistanceR, decimal? WalkDistanceL, decimal? CvaR, decimal? CvaL,
    decimal? SphereR, decimal? CylinderR, int? AxisR, decimal? SphereL, decimal? CylinderL, int? AxisL, decimal? AxialLengthR,
    decimal? AxialLengthL, string? NotTestableReason, decimal? SeR, decimal? SeL)
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static EyeValues Of(VisionRecord r) => new(r.UcvaR, r.UcvaL, r.WalkDistanceR, r.WalkDistanceL, r.CvaR, r.CvaL, r.SphereR, r.CylinderR,
        r.AxisR, r.SphereL, r.CylinderL, r.AxisL, r.AxialLengthR, r.AxialLengthL, r.NotTestableReason, r.SeR, r.SeL);

    public static EyeValues FromJson(string json) => System.Text.Json.JsonSerializer.Deserialize<EyeValues>(json, Json)!;

    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, Json);

    /// <summary>The values by the column names a row from before encryption keeps them in (a guardian's copy shows them so).</summary>
    public IEnumerable<(string Column, object? Value)> Columns() =>
    [
        ("ucva_r", UcvaR), ("ucva_l", UcvaL), ("walk_distance_r", WalkDistanceR), ("walk_distance_l", WalkDistanceL), ("cva_r", CvaR),
        ("cva_l", CvaL), ("sphere_r", SphereR), ("cylinder_r", CylinderR), ("axis_r", AxisR), ("sphere_l", SphereL), ("cylinder_l", CylinderL),
        ("axis_l", AxisL), ("axial_length_r", AxialLengthR), ("axial_length_l", AxialLengthL), ("not_testable_reason", NotTestableReason),
        ("se_r", SeR), ("se_l", SeL),
    ];

    public VisionRecord ApplyTo(VisionRecord r) => r with
    {
        UcvaR = UcvaR, UcvaL = UcvaL, WalkDistanceR = WalkDistanceR, WalkDistanceL = WalkDistanceL, CvaR = CvaR, CvaL = CvaL, SphereR = SphereR,
        CylinderR = CylinderR, AxisR = AxisR, SphereL = SphereL, CylinderL = CylinderL, AxisL = AxisL, AxialLengthR = AxialLengthR,
        AxialLengthL = AxialLengthL, NotTestableReason = NotTestableReason, SeR = SeR, SeL = SeL, EyesSealed = null,
    };
}

internal sealed record VisionReferral(long Id, long RoundId, string CorpId, string StudentUserId, long ClassId, string Reason, string Status,
    DateTime CreatedAt, DateTime? AcknowledgedAt, string? AcknowledgedByUserId, DateOnly? VisitDate, string? Hospital, string? Diagnosis,
    string? Prescription, DateTime? ReportedAt, DateTime? LastRemindedAt);

internal sealed record VisionClassroom(string CorpId, string ClassroomId, string Name, DateOnly? LightingRenovatedOn, int Desks,
    int AdjustableDesks, DateTime UpdatedAt, string UpdatedByUserId);

/// <summary>A child's sex as records carry it.</summary>
internal static class SexCode
{
    [Description("男")]
    public const string Male = "male";

    [Description("女")]
    public const string Female = "female";
}

/// <summary>What a child wears for the screening (<see cref="GlassesType"/> as records carry it).</summary>
internal static class GlassesCode
{
    [Description("不戴镜")]
    public const string None = "none";

    [Description("框架眼镜")]
    public const string Frame = "frame";

    [Description("隐形眼镜")]
    public const string Contact = "contact";

    [Description("角膜塑形镜（OK镜）")]
    public const string OkLens = "ok-lens";
}

/// <summary>近视程度 (<see cref="MyopiaGrade"/>) as records carry it.</summary>
internal static class MyopiaGradeCode
{
    [Description("无近视")]
    public const string None = "none";

    [Description("低度近视")]
    public const string Low = "low";

    [Description("中度近视")]
    public const string Moderate = "moderate";

    [Description("高度近视")]
    public const string High = "high";
}

/// <summary>视力不良程度 (<see cref="PoorVisionGrade"/>) as records carry it.</summary>
internal static class PoorVisionCode
{
    [Description("视力正常")]
    public const string None = "none";

    [Description("轻度视力不良")]
    public const string Mild = "mild";

    [Description("中度视力不良")]
    public const string Moderate = "moderate";

    [Description("重度视力不良")]
    public const string Severe = "severe";
}
