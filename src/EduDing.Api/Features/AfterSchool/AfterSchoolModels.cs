using System.ComponentModel;
namespace EduDing.Api.Features.AfterSchool;

/// <summary>A term program (学期, "5+2" applies) or a holiday program (暑托, 春秋假托管: the dates it lists).</summary>
internal static class CareProgramKind
{
    [Description("学期托管")]
    public const string Term = "term";
    [Description("假期托管")]
    public const string Holiday = "holiday";

    public static readonly IReadOnlyList<string> All = [Term, Holiday];
}

/// <summary>draft → open (signup, only when "5+2" compliant) → closed.</summary>
internal static class CareProgramStatus
{
    [Description("草稿")]
    public const string Draft = "draft";
    [Description("开放报名")]
    public const string Open = "open";
    [Description("已结束")]
    public const string Closed = "closed";
}

/// <summary>基础托管 (basic care: every eligible child who needs it is served) or 拓展课程 (an elective with a capacity).</summary>
internal static class OfferingKind
{
    [Description("基础托管")]
    public const string Basic = "basic";
    [Description("拓展课程")]
    public const string Elective = "elective";
}

/// <summary>What happens in a session: never new lessons (no collective teaching or 补课).</summary>
internal static class ContentType
{
    [Description("作业辅导")]
    public const string Homework = "homework";

    [Description("阅读")]
    public const string Reading = "reading";

    [Description("体育活动")]
    public const string Sports = "sports";

    [Description("艺术")]
    public const string Arts = "arts";

    [Description("科普")]
    public const string Science = "science";

    [Description("劳动")]
    public const string Labour = "labour";

    [Description("社团")]
    public const string Club = "club";

    [Description("观影")]
    public const string Film = "film";

    public static readonly IReadOnlyList<string> All = [Homework, Reading, Sports, Arts, Science, Labour, Club, Film];
}

/// <summary>How an elective's places go when demand exceeds them.</summary>
internal static class AllocationMode
{
    /// <summary>In the order applications were submitted (never the speed of reviewers).</summary>
    [Description("先到先得")]
    public const string FirstCome = "first-come";

    /// <summary>A recorded, reproducible draw after the window closes, priority categories first (摇号).</summary>
    [Description("摇号")]
    public const string Lottery = "lottery";

    /// <summary>
    /// Ranked choices (志愿): families rank the program's ranked electives; after the window one batch gives each family
    /// its best-ranked choice with a place, in a recorded draw's order with priority categories first.
    /// </summary>
    [Description("志愿")]
    public const string Ranked = "ranked";

    public static readonly IReadOnlyList<string> All = [FirstCome, Lottery, Ranked];

    /// <summary>Allocated after the window (a draw or the ranked batch), not at submission.</summary>
    public static bool AfterWindow(string mode) => mode is Lottery or Ranked;
}

internal static class FeeUnit
{
    [Description("按学期")]
    public const string Term = "term";

    [Description("按月")]
    public const string Month = "month";

    [Description("按天")]
    public const string Day = "day";

    [Description("按课时")]
    public const string Session = "session";

    public static readonly IReadOnlyList<string> All = [Term, Month, Day, Session];
}

/// <summary>An application: pending review → approved (its places become enrolments) | rejected | returned | withdrawn.</summary>
internal static class CareApplicationStatus
{
    [Description("待审核")]
    public const string Pending = "pending";
    [Description("已通过")]
    public const string Approved = "approved";
    [Description("未通过")]
    public const string Rejected = "rejected";
    [Description("已退回")]
    public const string Returned = "returned";
    [Description("已撤回")]
    public const string Withdrawn = "withdrawn";
}

/// <summary>
/// An application's place in one offering: held (counted against capacity while the application is reviewed),
/// enrolled (the application was approved), waitlisted (in queue order: submission, or the draw), released (rejected,
/// withdrawn, an offer declined or lapsed), applied (waiting for a lottery's draw or the ranked batch), or offered (a
/// freed place kept for this family until the claim window ends).
/// </summary>
internal static class PlaceStatus
{
    [Description("审核中占位")]
    public const string Held = "held";
    [Description("已录取")]
    public const string Enrolled = "enrolled";
    [Description("候补")]
    public const string Waitlisted = "waitlisted";
    [Description("已释放")]
    public const string Released = "released";

    /// <summary>Applied for an elective allocated after the window: waiting for the draw, not counted against capacity.</summary>
    [Description("待分配")]
    public const string Applied = "applied";

    /// <summary>A freed place offered to the next family in line: counted against capacity until claimed, declined or lapsed.</summary>
    [Description("待确认递补")]
    public const string Offered = "offered";
}

internal sealed record CareProgram(long Id, string CorpId, string Name, string Kind, DateOnly StartsOn, DateOnly EndsOn, DateTime SignupOpensAt,
    DateTime SignupClosesAt, string GradeLevels, string Status, string Terms, int TermsVersion, string FeeUnit, string? SafetyNotes,
    DateTime CreatedAt, string CreatedByUserId, DateTime UpdatedAt)
{
    public IReadOnlyList<int> Grades => GradeLevels.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
}

internal sealed record CareSession(long ProgramId, int Weekday, string StartsAt, string EndsAt);

/// <summary>A basic care group or an elective; an elective run by an outside provider names it (its teacher is the provider's).</summary>
internal sealed record CareOffering(long Id, long ProgramId, string Kind, string Name, string GradeLevels, string? TeacherUserId, string ContentType,
    int Capacity, int FeeCents, string Allocation, int Version, long? ProviderId = null, string? ClassIds = null)
{
    public IReadOnlyList<int> Grades => GradeLevels.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();

    /// <summary>The classes the group is for, when formed by class ("1,2"); empty: every class of its grades.</summary>
    public IReadOnlyList<long> Classes => (ClassIds ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList();

    /// <summary>Whether a child of this grade and class may take it.</summary>
    public bool IsFor(int grade, long classId) => Grades.Contains(grade) && (Classes.Count == 0 || Classes.Contains(classId));
}

internal sealed record CareApplication(long Id, long ProgramId, string CorpId, string StudentUserId, long ClassId, string GuardianCorpId,
    string GuardianUserId, string? OnBehalfByUserId, string Weekdays, string Pickup, string? Priority, string? Exemption, int TermsVersion,
    string Status, DateTime SubmittedAt, DateTime? DecidedAt)
{
    /// <summary>The weekdays chosen (1 = Monday … 7 = Sunday), stored as a sorted list "1,3,5".</summary>
    public IReadOnlySet<int> WeekdaySet => Weekdays.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToHashSet();

    public IReadOnlyList<PickupPerson> PickupPeople() =>
        System.Text.Json.JsonSerializer.Deserialize<List<PickupPerson>>(Pickup, System.Text.Json.JsonSerializerOptions.Web) ?? [];
}

internal sealed record CarePlace(long ApplicationId, long OfferingId, string Status, long QueuePosition, DateTime? EnrolledAt, DateTime UpdatedAt,
    int? ChoiceRank, DateTime? OfferExpiresAt);

/// <summary>A pickup person: at least one per application (name, relation, phone).</summary>
internal sealed record PickupPerson(string Name, string Relation, string Phone)
{
    /// <summary>A name (≤ 50), a relation (≤ 20) and a phone number: what a pickup person or a delegate must have.</summary>
    public static bool IsValid(PickupPerson? p) =>
        p is not null && !string.IsNullOrWhiteSpace(p.Name) && p.Name.Length <= 50 && !string.IsNullOrWhiteSpace(p.Relation) &&
        p.Relation.Length <= 20 && p.Phone is not null && System.Text.RegularExpressions.Regex.IsMatch(p.Phone, @"^\+?[0-9\- ]{7,20}$");
}
