namespace EduDing.Api.Features.Vision;

internal enum GlassesType
{
    None,
    Frame,
    Contact,
    OkLens,
}

/// <summary>视力不良 grades (§1.5): 4.9 mild, 4.6–4.8 moderate, ≤ 4.5 severe.</summary>
internal enum PoorVisionGrade
{
    None,
    Mild,
    Moderate,
    Severe,
}

/// <summary>近视程度 by SE (§1.8), with the cut points of <see cref="VisionOptions"/>.</summary>
internal enum MyopiaGrade
{
    None,
    Low,
    Moderate,
    High,
}

/// <summary>One eye as measured: 5-point UCVA, and the non-cycloplegic sphere and cylinder in dioptres.</summary>
internal sealed record EyeMeasurement(decimal? Ucva, decimal? Sphere, decimal? Cylinder);

/// <summary>What the rules say of one eye. Null means the data needed for that answer is missing (or the age rule excludes it).</summary>
internal sealed record EyeClassification(decimal? SphericalEquivalent, PoorVisionGrade? PoorVision, bool? ScreeningMyopia,
    MyopiaGrade? MyopiaGrade, bool FollowUp, bool BelowAgeNorm);

/// <summary>
/// The student: myopic if either eye is (or an OK-lens wearer), graded from the worse eye; valid when the data the
/// rate needs is complete; a referral when the rules call for one. RuleSet names the settings that decided it.
/// </summary>
internal sealed record StudentClassification(EyeClassification Right, EyeClassification Left, PoorVisionGrade? PoorVision, bool? Myopic,
    MyopiaGrade? MyopiaGrade, bool Valid, bool FollowUp, bool BelowAgeNorm, bool NeedsReferral, string RuleSet)
{
    /// <summary>Why the child is referred, when they are: the reason follows the record through corrections.</summary>
    public string? ReferralReason => !NeedsReferral ? null
        : Myopic == true ? Vision.ReferralReason.ScreeningMyopia
        : BelowAgeNorm ? Vision.ReferralReason.BelowAgeNorm
        : Vision.ReferralReason.PoorVision;
}

/// <summary>
/// domain-rules.md §1, exactly: SE = S + C/2 in decimal arithmetic, never rounded before comparing; 视力不良 and
/// 筛查性近视 for age 6 and over (筛查性近视 needs both UCVA &lt; 5.0 and SE ≤ −0.50, operator configurable); grades from
/// the worse eye; OK-lens wearers counted myopic without a grade; under-6 norms only flagged.
/// </summary>
internal sealed class VisionClassifier(VisionOptions options)
{
    private const decimal NormalAcuity = 5.0m;
    private const int RuleMinimumAge = 6;

    public static decimal SphericalEquivalent(decimal sphere, decimal cylinder) => sphere + (cylinder / 2);

    public static PoorVisionGrade PoorVisionOf(decimal ucva) => ucva switch
    {
        >= NormalAcuity => PoorVisionGrade.None,
        4.9m => PoorVisionGrade.Mild,
        >= 4.6m => PoorVisionGrade.Moderate,
        _ => PoorVisionGrade.Severe,
    };

    public MyopiaGrade GradeOf(decimal se) =>
        se <= options.HighMyopiaAtOrBelow ? MyopiaGrade.High
        : se <= options.ModerateMyopiaAtOrBelow ? MyopiaGrade.Moderate
        : MeetsMyopiaThreshold(se) ? MyopiaGrade.Low
        : MyopiaGrade.None;

    private bool MeetsMyopiaThreshold(decimal se) =>
        options.MyopiaThresholdInclusive ? se <= options.MyopiaSeThreshold : se < options.MyopiaSeThreshold;

    public EyeClassification ClassifyEye(int ageYears, EyeMeasurement eye)
    {
        decimal? se = eye is { Sphere: { } s, Cylinder: { } c } ? SphericalEquivalent(s, c) : null;
        if (ageYears < RuleMinimumAge)
        {
            var norm = options.UnderSixNorms.Where(n => n.Key <= ageYears).OrderByDescending(n => n.Key).Select(n => (decimal?)n.Value)
                .FirstOrDefault();
            return new EyeClassification(se, null, null, null, false, eye.Ucva is { } u && norm is { } n2 && u < n2);
        }

        PoorVisionGrade? poor = eye.Ucva is { } ucva ? PoorVisionOf(ucva) : null;
        bool? myopia = (eye.Ucva, se) switch
        {
            ({ } u, { } e) => u < NormalAcuity && MeetsMyopiaThreshold(e),
            ({ } u, null) when u >= NormalAcuity => false, // both conditions are needed: normal acuity rules it out
            _ => null,
        };
        MyopiaGrade? grade = myopia switch
        {
            true => GradeOf(se!.Value),
            false => MyopiaGrade.None,
            null => null,
        };
        var followUp = eye.Ucva >= NormalAcuity && se is { } value && MeetsMyopiaThreshold(value);
        return new EyeClassification(se, poor, myopia, grade, followUp, false);
    }

    /// <summary>
    /// A student from both eyes. <paramref name="notTestable"/> (with a reason, recorded elsewhere) makes the record
    /// invalid for the rate. OK-lens wearers: daytime values reflect the lens, so only corrected acuity is needed.
    /// </summary>
    public StudentClassification Classify(int ageYears, GlassesType glasses, EyeMeasurement right, EyeMeasurement left,
        bool hasCorrectedAcuity, bool notTestable)
    {
        var r = ClassifyEye(ageYears, right);
        var l = ClassifyEye(ageYears, left);
        var eyes = new[] { r, l };
        // The worse eye decides; with one eye unknown, a poor known eye is still reported, a normal one decides nothing.
        var known = eyes.Where(e => e.PoorVision is not null).Select(e => e.PoorVision!.Value).ToList();
        PoorVisionGrade? poor = known.Count == 2 ? known.Max() : known.Count == 1 && known[0] != PoorVisionGrade.None ? known[0] : null;
        var belowNorm = eyes.Any(e => e.BelowAgeNorm);

        if (glasses == GlassesType.OkLens && options.OkLensCountsAsMyopic)
        {
            var okValid = !notTestable && hasCorrectedAcuity;
            return new StudentClassification(r, l, poor, ageYears >= RuleMinimumAge ? true : null, null, okValid && ageYears >= RuleMinimumAge,
                false, belowNorm, false, options.RuleSetName);
        }

        bool? myopic = eyes.Any(e => e.ScreeningMyopia == true) ? true : eyes.All(e => e.ScreeningMyopia == false) ? false : null;
        MyopiaGrade? grade = myopic switch
        {
            true => eyes.Where(e => e.MyopiaGrade is not null).Max(e => e.MyopiaGrade),
            false => MyopiaGrade.None,
            null => null,
        };
        var complete = right is { Ucva: not null, Sphere: not null, Cylinder: not null } && left is { Ucva: not null, Sphere: not null, Cylinder: not null };
        var valid = !notTestable && complete && ageYears >= RuleMinimumAge;
        var referral = myopic == true || poor is PoorVisionGrade.Mild or PoorVisionGrade.Moderate or PoorVisionGrade.Severe || belowNorm;
        return new StudentClassification(r, l, poor, myopic, grade, valid, eyes.Any(e => e.FollowUp) && myopic != true, belowNorm, referral,
            options.RuleSetName);
    }
}
