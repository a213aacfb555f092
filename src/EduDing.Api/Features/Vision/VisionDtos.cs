using System.ComponentModel;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Vision;


/// <summary>A record as the API takes it; glasses is none, frame, contact or ok-lens; acuities are 5-point values.</summary>
[RequestSchema("studentUserId", "sex", "birthDate", "screenedOn", "glasses")]
internal sealed record RecordRequest(string? StudentUserId, [property: CodeValues(typeof(SexCode))] string? Sex, DateOnly? BirthDate, DateOnly? ScreenedOn, [property: CodeValues(typeof(GlassesCode))] string? Glasses,
    decimal? UcvaRight, decimal? UcvaLeft, decimal? WalkDistanceRight, decimal? WalkDistanceLeft, decimal? CvaRight, decimal? CvaLeft,
    decimal? SphereRight, decimal? CylinderRight, int? AxisRight, decimal? SphereLeft, decimal? CylinderLeft, int? AxisLeft,
    decimal? AxialLengthRight, decimal? AxialLengthLeft, string? NotTestableReason);

[RequestSchema("records")]
internal sealed record ClassRecordsRequest(IReadOnlyList<RecordRequest?>? Records);

internal sealed record RoundDto(long Id, [property: CodeValues(typeof(RoundKind))] string Kind, string KindName, int SchoolYear, string Name, string? CorpId, DateOnly OpensOn,
    DateOnly ClosesOn, long? RescreenOf)
{
    public static RoundDto From(VisionRound r) => new(r.Id, r.Kind, RoundKind.Chinese(r.Kind), r.SchoolYear, r.Name, r.CorpId, r.OpensOn,
        r.ClosesOn, r.RescreenOf);
}

internal sealed record ProgressItem(string CorpId, long? ClassId, string Name, int Enrolled, int Screened, [property: Unit(UnitAttribute.Percent)] decimal? Coverage);

internal sealed record RoundProgressDto(RoundDto Round, IReadOnlyList<ProgressItem> Schools, IReadOnlyList<ProgressItem> Classes);

internal sealed record EyeDto(decimal? Ucva, decimal? WalkDistance, decimal? Cva, decimal? Sphere, decimal? Cylinder, int? Axis, decimal? AxialLength,
    decimal? SphericalEquivalent);

/// <summary>How a record was entered; an import's file is named by the start of its SHA-256 (<c>importFileSha</c>).</summary>
internal static class VisionRecordSource
{
    [Description("单人录入")]
    public const string Single = "single";
    [Description("整班录入")]
    public const string Class = "class";
    [Description("表格导入")]
    public const string Import = "import";

    private const string ImportPrefix = Import + ":";

    /// <summary>The stored source of an import: "import:" and the start of the file's SHA-256.</summary>
    public static string ForImport(string sha256Hex) => ImportPrefix + sha256Hex[..12];

    public static string Of(string stored) => stored.StartsWith(ImportPrefix, StringComparison.Ordinal) ? Import : stored;

    public static string? ImportFileOf(string stored) => stored.StartsWith(ImportPrefix, StringComparison.Ordinal) ? stored[ImportPrefix.Length..] : null;
}

internal sealed record RecordDto(long RoundId, string CorpId, string StudentUserId, long ClassId, [property: CodeValues(typeof(SexCode))] string Sex, DateOnly BirthDate, DateOnly ScreenedOn,
    int AgeYears, [property: CodeValues(typeof(GlassesCode))] string Glasses, EyeDto Right, EyeDto Left, string? NotTestableReason, [property: CodeValues(typeof(PoorVisionCode))] string? PoorVision, bool? Myopic, [property: CodeValues(typeof(MyopiaGradeCode))] string? MyopiaGrade,
    bool Valid, bool FollowUp, bool BelowAgeNorm, bool NeedsReferral, string RuleSet, int Version,
    [property: CodeValues(typeof(VisionRecordSource))] string Source, string? ImportFileSha, string EnteredByUserId, DateTime EnteredAt)
{
    public static RecordDto From(VisionRecord r) => new(r.RoundId, r.CorpId, r.StudentUserId, r.ClassId, r.Sex, r.BirthDate, r.ScreenedOn, r.AgeYears,
        r.Glasses, new EyeDto(r.UcvaR, r.WalkDistanceR, r.CvaR, r.SphereR, r.CylinderR, r.AxisR, r.AxialLengthR, r.SeR),
        new EyeDto(r.UcvaL, r.WalkDistanceL, r.CvaL, r.SphereL, r.CylinderL, r.AxisL, r.AxialLengthL, r.SeL), r.NotTestableReason, r.PoorVision,
        r.Myopic, r.MyopiaGrade, r.Valid, r.FollowUp, r.BelowAgeNorm, r.NeedsReferral, r.RuleSet, r.Version, VisionRecordSource.Of(r.Source), VisionRecordSource.ImportFileOf(r.Source), r.EnteredByUserId, r.EnteredAt);
}

internal sealed record SavedDto(int Created, int Updated, int Unchanged);

internal sealed record StudentVisionDto(RecordDto Current, IReadOnlyList<RecordDto> EarlierVersions);

/// <summary>One group's figures; a suppressed group (too few children to show outside the school) has only its key and label.</summary>
internal sealed record StatisticsRowDto(string Key, string Label, int? Enrolled, int? Screened, int? Valid, int? Myopic, [property: Unit(UnitAttribute.Percent)] decimal? MyopiaRate,
    int? MyopiaLow, int? MyopiaModerate, int? MyopiaHigh, int? OkLens, int? PoorVisionKnown, int? PoorVision, [property: Unit(UnitAttribute.Percent)] decimal? PoorVisionRate,
    [property: Unit(UnitAttribute.Percent)] decimal? Coverage, bool Suppressed = false)
{
    public static StatisticsRowDto From(StatRow r) => new(r.Key, r.Label, r.Enrolled, r.Screened, r.Valid, r.Myopic, r.MyopiaRate, r.MyopiaLow,
        r.MyopiaModerate, r.MyopiaHigh, r.OkLens, r.PoorVisionKnown, r.PoorVision, r.PoorVisionRate, r.Coverage);

    /// <summary>The row as shown outside the school: withheld when 0 &lt; screened &lt; <paramref name="minimum"/>.</summary>
    public StatisticsRowDto SuppressedBelow(int minimum) => Screened is > 0 && Screened < minimum
        ? new(Key, Label, null, null, null, null, null, null, null, null, null, null, null, null, null, Suppressed: true)
        : this;
}

internal sealed record YearOnYearDto(long RoundId, string Name, [property: Unit(UnitAttribute.Percent)] decimal? MyopiaRate, [property: Unit(UnitAttribute.PercentagePoints)] decimal? Change);

/// <summary>
/// The plan's binding indicator (docs/vision.md): the myopia rate below <see cref="Limit"/> percent by <see cref="ByYear"/>,
/// compared strictly (a rate equal to the limit does not meet it). <see cref="Met"/> is null without a rate.
/// </summary>
internal sealed record BindingTargetDto(int ByYear, [property: Unit(UnitAttribute.Percent)] decimal Limit, string Comparison, [property: Unit(UnitAttribute.Percent)] decimal? Rate, bool? Met);

/// <summary>
/// The plan's annual decline: at least <see cref="RequiredDrop"/> percentage points below the same round a year earlier
/// (rate ≤ previous − drop). Null fields where either round has no rate.
/// </summary>
internal sealed record AnnualDeclineDto(long PreviousRoundId, [property: Unit(UnitAttribute.Percent)] decimal? PreviousRate, [property: Unit(UnitAttribute.PercentagePoints)] decimal RequiredDrop, [property: Unit(UnitAttribute.Percent)] decimal? RequiredRate, [property: Unit(UnitAttribute.Percent)] decimal? Rate,
    [property: Unit(UnitAttribute.PercentagePoints)] decimal? Drop, bool? Met);

internal sealed record TargetsDto(BindingTargetDto Binding, AnnualDeclineDto? AnnualDecline);

internal sealed record StatisticsDto(RoundDto Round, string By, string? CorpId, IReadOnlyList<StatisticsRowDto> Rows, StatisticsRowDto? Total,
    YearOnYearDto? SameRoundLastYear, TargetsDto? Targets, IReadOnlyDictionary<string, TargetsDto>? RowTargets);

internal sealed record TrendPoint(long RoundId, string Name, DateOnly OpensOn, int Screened, int Valid, [property: Unit(UnitAttribute.Percent)] decimal? MyopiaRate, [property: Unit(UnitAttribute.Percent)] decimal? PoorVisionRate,
    [property: Unit(UnitAttribute.Percent)] decimal Target);

/// <summary>A correction made after the results were published: when, and what it changed in plain words.</summary>
internal sealed record CorrectionDto(DateTime CorrectedAt, int Version, IReadOnlyList<string> Changes);

internal sealed record ResultDto(RoundDto Round, RecordDto Record, ResultForParents Words, IReadOnlyList<CorrectionDto> Corrections);

internal sealed record SeriesPoint(long RoundId, DateOnly ScreenedOn, decimal? UcvaRight, decimal? UcvaLeft, decimal? SeRight, decimal? SeLeft);

internal sealed record ReferralDto(long Id, long RoundId, string CorpId, string StudentUserId, long ClassId, string Reason, [property: CodeValues(typeof(ReferralStatus))] string Status,
    DateTime CreatedAt, DateTime? AcknowledgedAt, DateOnly? VisitDate, string? Hospital, string? Diagnosis, string? Prescription, DateTime? ReportedAt,
    DateTime? LastRemindedAt)
{
    public static ReferralDto From(VisionReferral r) => new(r.Id, r.RoundId, r.CorpId, r.StudentUserId, r.ClassId, r.Reason, r.Status, r.CreatedAt,
        r.AcknowledgedAt, r.VisitDate, r.Hospital, r.Diagnosis, r.Prescription, r.ReportedAt, r.LastRemindedAt);
}

internal sealed record ChildVisionDto(string CorpId, string StudentUserId, string Name, IReadOnlyList<ResultDto> Results, IReadOnlyList<SeriesPoint> Series,
    IReadOnlyList<ReferralDto> Referrals);

internal sealed record MyChildSummary(string CorpId, string StudentUserId, string Name, ResultDto? Latest, int OpenReferrals);

[RequestSchema("visitDate", "hospital", "diagnosis")]
internal sealed record VisitRequest(DateOnly? VisitDate, string? Hospital, string? Diagnosis, string? Prescription);

[RequestSchema()]
internal sealed record RemindRequest(long? ClassId, long? RoundId);

internal sealed record RemindedDto(int Guardians);

/// <summary>Referral completion of a school (ClassId null) or a class; a suppressed class (too few to show outside the school) has only its name.</summary>
internal sealed record ReferralCompletion(string CorpId, long? ClassId, string Name, int? Referred, int? Acknowledged, int? Visited,
    [property: Unit(UnitAttribute.Percent)] decimal? AcknowledgedRate, [property: Unit(UnitAttribute.Percent)] decimal? CompletionRate, bool Suppressed = false);

[RequestSchema("name", "desks", "adjustableDesks")]
internal sealed record ClassroomRequest(string? Name, DateOnly? LightingRenovatedOn, int? Desks, int? AdjustableDesks);

internal sealed record ClassroomDto(string CorpId, string ClassroomId, string Name, DateOnly? LightingRenovatedOn, int Desks, int AdjustableDesks,
    DateTime UpdatedAt);

internal sealed record ClassroomSummary(string CorpId, string Name, int Classrooms, int LightingRenovated, [property: Unit(UnitAttribute.Percent)] decimal? LightingRate, int Desks,
    int AdjustableDesks, [property: Unit(UnitAttribute.Percent)] decimal? AdjustableRate, [property: Unit(UnitAttribute.Percent)] decimal Target);
