using EduDing.Api.Features.Vision;

namespace EduDing.Api.Tests.Features.Vision;

/// <summary>domain-rules.md §5 A–G, case by case, with the recommended defaults for the configurable rules.</summary>
public sealed class VisionRulesTests
{
    private readonly VisionClassifier _rules = new(new VisionOptions());

    private static EyeMeasurement Eye(decimal? ucva, decimal? sphere = null, decimal? cylinder = null) => new(ucva, sphere, cylinder);

    // ---- A. Acuity conversion (§1.3) ----

    [Theory]
    [InlineData(1.0, 5.0)]
    [InlineData(0.8, 4.9)]
    [InlineData(0.6, 4.8)]
    [InlineData(0.5, 4.7)]
    [InlineData(0.4, 4.6)]
    [InlineData(0.3, 4.5)]
    [InlineData(0.25, 4.4)]
    [InlineData(0.2, 4.3)]
    [InlineData(0.15, 4.2)]
    [InlineData(0.12, 4.1)]
    [InlineData(0.1, 4.0)]
    [InlineData(1.2, 5.1)]
    [InlineData(1.5, 5.2)]
    [InlineData(2.0, 5.3)]
    public void A_DecimalToFivePoint(double decimalAcuity, double fivePoint)
    {
        Assert.Equal((decimal)fivePoint, Acuity.FromDecimal((decimal)decimalAcuity));
        Assert.Equal((decimal)decimalAcuity, Acuity.ToDecimal((decimal)fivePoint));
    }

    [Fact]
    public void A_FivePoint49_IsTheTableValue08_NotTheFormula()
    {
        Assert.Equal(0.8m, Acuity.ToDecimal(4.9m));
    }

    [Theory]
    [InlineData(4.05, "0.1 grid")]
    [InlineData(5.4, "above the chart maximum")]
    public void A_OffTheChart_IsRejected(double fivePoint, string reason)
    {
        Assert.Contains(reason, Acuity.Problem((decimal)fivePoint, null));
    }

    [Fact]
    public void A_BelowFour_NeedsTheWalkingCloserDistance_AndMustMatchIt()
    {
        Assert.NotNull(Acuity.Problem(3.8m, null));
        Assert.Null(Acuity.Problem(3.8m, 3m));      // 4.0 + lg(3/5) = 3.78 → 3.8
        Assert.Null(Acuity.Problem(3.0m, 0.5m));    // 4.0 + lg(0.1) = 3.0
        Assert.Contains("reads 3.7", Acuity.Problem(3.8m, 2.5m));
        Assert.NotNull(Acuity.Problem(4.5m, 3m));   // a distance only goes with walking closer
    }

    // ---- B. Spherical equivalent (§1.4) ----

    [Theory]
    [InlineData(-1.25, -0.50, -1.50)]
    [InlineData(1.00, -2.00, 0.00)]
    [InlineData(-1.00, 2.00, 0.00)]
    [InlineData(-2.00, -0.75, -2.375)]
    public void B_SphericalEquivalent_IsExact(double sphere, double cylinder, double expected)
    {
        Assert.Equal((decimal)expected, VisionClassifier.SphericalEquivalent((decimal)sphere, (decimal)cylinder));
    }

    // ---- C. 视力不良 (§1.5) ----

    [Theory]
    [InlineData(7, 5.0, 5.1, "None")]
    [InlineData(7, 4.9, 5.0, "Mild")]
    [InlineData(9, 4.8, 4.6, "Moderate")]
    [InlineData(9, 4.5, 4.9, "Severe")]
    public void C_PoorVision_FromTheWorseEye(int age, double right, double left, string expected)
    {
        var result = _rules.Classify(age, GlassesType.None, Eye((decimal)right, 0, 0), Eye((decimal)left, 0, 0), false, false);

        Assert.Equal(Enum.Parse<PoorVisionGrade>(expected), result.PoorVision);
    }

    [Fact]
    public void C_Age5_IsNotClassified_AndMeetsTheNorm()
    {
        var result = _rules.Classify(5, GlassesType.None, Eye(4.9m, 0, 0), Eye(4.9m, 0, 0), false, false);

        Assert.Null(result.PoorVision);
        Assert.Null(result.Myopic);
        Assert.False(result.BelowAgeNorm);
        Assert.False(result.Valid); // under 6: outside the myopia rate
    }

    [Fact]
    public void C_Age4_Below48_IsFlaggedBelowTheAgeNorm()
    {
        var result = _rules.Classify(4, GlassesType.None, Eye(4.7m, 0, 0), Eye(4.7m, 0, 0), false, false);

        Assert.True(result.BelowAgeNorm);
        Assert.Null(result.PoorVision);
    }

    // ---- D. 筛查性近视 and grade (§1.7–1.8), single eye ----

    [Theory]
    [InlineData(10, 4.8, -1.25, -0.50, -1.50, true, "Low")]
    [InlineData(10, 5.0, -1.00, 0.00, -1.00, false, "None")]
    [InlineData(10, 4.7, 0.50, -0.50, 0.25, false, "None")]
    [InlineData(12, 4.3, -4.00, -1.00, -4.50, true, "Moderate")]
    [InlineData(14, 4.0, -6.50, -1.00, -7.00, true, "High")]
    public void D_ScreeningMyopia_NeedsBothConditions(int age, double ucva, double sphere, double cylinder, double se, bool myopic,
        string grade)
    {
        var eye = _rules.ClassifyEye(age, Eye((decimal)ucva, (decimal)sphere, (decimal)cylinder));

        Assert.Equal((decimal)se, eye.SphericalEquivalent);
        Assert.Equal(myopic, eye.ScreeningMyopia);
        Assert.Equal(Enum.Parse<MyopiaGrade>(grade), eye.MyopiaGrade);
    }

    [Fact]
    public void D2_NormalAcuityWithMyopicRefraction_IsFlaggedForFollowUp()
    {
        var eye = _rules.ClassifyEye(10, Eye(5.0m, -1.00m, 0m));

        Assert.False(eye.ScreeningMyopia);
        Assert.True(eye.FollowUp);
    }

    [Fact]
    public void D3_PoorVisionWithoutMyopia_IsModerate_AndReferred()
    {
        var result = _rules.Classify(10, GlassesType.None, Eye(4.7m, 0.50m, -0.50m), Eye(5.0m, 0m, 0m), false, false);

        Assert.Equal(PoorVisionGrade.Moderate, result.PoorVision);
        Assert.False(result.Myopic);
        Assert.True(result.NeedsReferral);
    }

    [Fact]
    public void D10_MissingRefraction_IsUnknown_AndInvalid_ButPoorVisionIsStillReported()
    {
        var eye = _rules.ClassifyEye(11, Eye(4.6m));
        var student = _rules.Classify(11, GlassesType.None, Eye(4.6m), Eye(4.6m), false, false);

        Assert.Null(eye.ScreeningMyopia);
        Assert.Equal(PoorVisionGrade.Moderate, eye.PoorVision);
        Assert.Null(student.Myopic);
        Assert.False(student.Valid);
        Assert.Equal(PoorVisionGrade.Moderate, student.PoorVision);
    }

    [Fact]
    public void D_AtExactlyMinus050_TheOperatorIsConfigurable()
    {
        var inclusive = _rules.ClassifyEye(10, Eye(4.8m, -0.50m, 0m));
        var strict = new VisionClassifier(new VisionOptions { MyopiaThresholdInclusive = false }).ClassifyEye(10, Eye(4.8m, -0.50m, 0m));

        Assert.True(inclusive.ScreeningMyopia);
        Assert.False(strict.ScreeningMyopia);
    }

    [Theory]
    [InlineData(-3.00, "Moderate")]
    [InlineData(-2.875, "Low")]
    [InlineData(-6.00, "High")]
    [InlineData(-5.875, "Moderate")]
    [InlineData(-0.50, "Low")]
    public void D_GradeBoundaries_FollowTheRecommendedDefault(double se, string grade)
    {
        Assert.Equal(Enum.Parse<MyopiaGrade>(grade), _rules.GradeOf((decimal)se));
    }

    [Fact]
    public void D_Under6_IsNeverScreeningMyopia()
    {
        Assert.Null(_rules.ClassifyEye(5, Eye(4.5m, -2.00m, 0m)).ScreeningMyopia);
    }

    // ---- E. Student level (§1.11) ----

    [Fact]
    public void E_EitherEyeMakesTheStudentMyopic()
    {
        var result = _rules.Classify(10, GlassesType.None, Eye(4.8m, -1.00m, 0m), Eye(5.0m, -0.25m, 0m), false, false);

        Assert.True(result.Myopic);
        Assert.Equal(MyopiaGrade.Low, result.MyopiaGrade);
        Assert.True(result.Valid);
    }

    [Fact]
    public void E_TheGradeComesFromTheWorseEye()
    {
        var result = _rules.Classify(13, GlassesType.None, Eye(4.6m, -1.00m, 0m), Eye(4.2m, -6.25m, 0m), false, false);

        Assert.Equal(MyopiaGrade.High, result.MyopiaGrade);
    }

    // ---- F. Glasses (§1.10) ----

    [Fact]
    public void F_FrameWearer_IsClassifiedOnUncorrectedAcuity()
    {
        var result = _rules.Classify(12, GlassesType.Frame, Eye(4.5m, -2.50m, 0m), Eye(4.5m, -2.50m, 0m), true, false);

        Assert.True(result.Myopic);
        Assert.Equal(MyopiaGrade.Low, result.MyopiaGrade);
        Assert.Equal(PoorVisionGrade.Severe, result.PoorVision);
    }

    [Fact]
    public void F_OkLensWearer_CountsAsMyopic_WithNoGrade_ValidOnCorrectedAcuityAlone()
    {
        var result = _rules.Classify(11, GlassesType.OkLens, Eye(5.0m), Eye(5.0m), true, false);

        Assert.True(result.Myopic);
        Assert.Null(result.MyopiaGrade);
        Assert.True(result.Valid);
        Assert.False(result.NeedsReferral);
    }

    [Fact]
    public void NotTestable_IsNeverValid()
    {
        Assert.False(_rules.Classify(10, GlassesType.None, Eye(4.8m, -1m, 0m), Eye(4.8m, -1m, 0m), false, notTestable: true).Valid);
    }

    [Fact]
    public void EveryResult_NamesItsRuleSet()
    {
        var result = _rules.Classify(10, GlassesType.None, Eye(4.8m, -1m, 0m), Eye(4.8m, -1m, 0m), false, false);

        Assert.Contains("SE<=-0.50", result.RuleSet);
    }

    // ---- G. Myopia rate (§1.13) ----

    [Fact]
    public void G_Rate_IsMyopicOverValid_ToTwoDecimals()
    {
        Assert.Equal(55.32m, VisionStatistics.Rate(260, 470));
        Assert.Null(VisionStatistics.Rate(0, 0));
    }
}
