using System.ComponentModel;
using EduDing.Api.Hosting;
namespace EduDing.Api.Features.Training;

/// <summary>What a credit is for: the cycle (regular), 新任教师培训 in probation, or 新任校长 任职资格培训.</summary>
internal static class CreditKind
{
    [Description("常规培训学分")]
    public const string Regular = "regular";
    [Description("新教师培训")]
    public const string NewTeacher = "new-teacher";
    [Description("校长任职资格培训")]
    public const string PrincipalQualification = "principal-qualification";

    public static readonly IReadOnlyList<string> All = [Regular, NewTeacher, PrincipalQualification];
}

/// <summary>Where a credit comes from (Art. 3): an institution's training, 校本研修, a conversion, or a non-vetted institution with prior approval.</summary>
internal static class CreditSource
{
    [Description("省平台")]
    public const string Provincial = "provincial";

    [Description("市级培训")]
    public const string City = "city";

    [Description("校本研修")]
    public const string SchoolBased = "school-based";

    [Description("学历提升")]
    public const string Degree = "degree";

    [Description("课题研究")]
    public const string Research = "research";

    [Description("培训授课")]
    public const string TeachingTrainers = "teaching-trainers";

    [Description("支教")]
    public const string SupportTeaching = "support-teaching";

    [Description("非认定机构（事前审批）")]
    public const string NonVetted = "non-vetted";

    public static readonly IReadOnlyList<string> All = [Provincial, City, SchoolBased, Degree, Research, TeachingTrainers, SupportTeaching, NonVetted];
}

/// <summary>初 / 中 / 高.</summary>
internal static class CreditLevel
{
    [Description("初级")]
    public const string Basic = "basic";

    [Description("中级")]
    public const string Intermediate = "intermediate";

    [Description("高级")]
    public const string Advanced = "advanced";

    public static readonly IReadOnlyList<string> All = [Basic, Intermediate, Advanced];
}

/// <summary>A share of one credit's (or training's) credits in a knowledge domain and level.</summary>
internal sealed record CreditPart(int Domain, [property: CodeValues(typeof(CreditLevel))] string Level, decimal Credits);

[Hosting.RequestSchema("domain", "level", "credits")]
internal sealed record CreditPartRequest(int? Domain, [property: CodeValues(typeof(CreditLevel))] string? Level, decimal? Credits);

/// <summary>One training's credits split across domains and levels (docs/training.md): 2 to 7 parts, each (domain, level) once, summing to the whole.</summary>
internal static class CreditParts
{
    /// <summary>The parts, or null when none were given; each problem is added to <paramref name="errors"/> by the part's index.</summary>
    public static List<CreditPart>? Validate(IReadOnlyList<CreditPartRequest?>? parts, decimal? total, Dictionary<string, string[]> errors)
    {
        if (parts is null || parts.Count == 0)
        {
            return null;
        }

        if (parts.Count is < 2 or > 7)
        {
            errors["parts"] = ["a split lists 2 to 7 parts (or none: the credits count in one domain and level)"];
            return null;
        }

        var valid = new List<CreditPart>();
        for (var i = 0; i < parts.Count; i++)
        {
            if (parts[i] is { Domain: >= 1 and <= 7, Level: { } level, Credits: > 0 and <= 200 } p && CreditLevel.All.Contains(level))
            {
                valid.Add(new CreditPart(p.Domain!.Value, level, p.Credits!.Value));
            }
            else
            {
                errors[$"parts[{i}]"] = [$"a domain 1 to 7, a level ({string.Join(", ", CreditLevel.All)}) and credits more than 0"];
            }
        }

        if (valid.Count == parts.Count && valid.DistinctBy(p => (p.Domain, p.Level)).Count() != valid.Count)
        {
            errors["parts"] = ["each domain and level once"];
        }
        else if (valid.Count == parts.Count && (total is null || valid.Sum(p => p.Credits) != total))
        {
            errors["parts"] = [$"the parts sum to {valid.Sum(p => p.Credits):0.##}: they must sum to the credits ({total?.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) ?? "required with a split"})"];
        }

        return valid.Count == parts.Count ? valid : null;
    }
}

/// <summary>One approved credit as the rules see it.</summary>
internal sealed record CreditEntry(DateOnly EarnedOn, decimal Credits, string Kind, int Domain, string Level, string Source, bool Practical = false,
    bool Concentrated = false);

/// <summary>A year's annual appraisal (年度考核): passed (合格 or better) or not.</summary>
internal sealed record AppraisalResult(int Year, bool Passed);

internal sealed record YearCredits(int Year, decimal Credits, bool MeetsMinimum);

internal sealed record DomainCredits(int Domain, string Name, decimal Earned, decimal Counted, decimal? Minimum, decimal? Cap);

/// <summary>A level's credits in the cycle, and what higher levels' surplus brought to its minimum (a higher level stands in for a lower one).</summary>
internal sealed record LevelCredits([property: CodeValues(typeof(CreditLevel))] string Level, decimal Earned, decimal FromHigherLevels, decimal? Minimum, bool Met);

/// <summary>定期注册: 合格 (pass), 暂缓 (deferred), 不合格 (fail).</summary>
internal static class RegistrationOutcome
{
    [Description("合格")]
    public const string Pass = "pass";
    [Description("暂缓注册")]
    public const string Deferred = "deferred";
    [Description("不合格")]
    public const string Fail = "fail";
}

/// <summary>A role period that brings its own training requirement: 新任教师 in probation, 新任校长 in their qualification period.</summary>
internal static class TeacherRoleKind
{
    [Description("新任教师")]
    public const string NewTeacher = "new-teacher";
    [Description("新任校长")]
    public const string NewPrincipal = "new-principal";

    public static readonly IReadOnlyList<string> All = [NewTeacher, NewPrincipal];
}

internal sealed record TeacherRole([property: CodeValues(typeof(TeacherRoleKind))] string Role, DateOnly StartsOn, DateOnly? EndsOn);

/// <summary>A mandatory training that applies to the teacher, ending on <paramref name="EndsOn"/>, and whether they passed it.</summary>
internal sealed record MandatoryAttendance(long TrainingId, string Title, DateOnly EndsOn, bool Completed);

/// <summary>What else the rules need about a teacher: role periods and the mandatory trainings meant for them, as of today.</summary>
internal sealed record TeacherSituation(IReadOnlyList<TeacherRole> Roles, IReadOnlyList<MandatoryAttendance> Mandatory, DateOnly Today)
{
    public static readonly TeacherSituation None = new([], [], DateOnly.MaxValue);
}

/// <summary>A requirement beyond the credit counts (a role's training, a mandatory training): met, in progress, or missed.</summary>
internal sealed record Requirement(string Name, [property: CodeValues(typeof(RequirementStatus))] string Status, string Detail);

internal static class RequirementStatus
{
    [Description("已完成")]
    public const string Met = "met";
    [Description("进行中")]
    public const string InProgress = "in-progress";
    [Description("未按期完成")]
    public const string Missed = "missed";
}

/// <summary>A teacher's standing in a cycle, with every reason it falls short.</summary>
internal sealed record CycleCompliance(int CycleStart, int CycleEnd, decimal Total, decimal Minimum, IReadOnlyList<YearCredits> Years,
    IReadOnlyList<DomainCredits> Domains, IReadOnlyList<LevelCredits> Levels, decimal NewTeacherCredits, decimal NewTeacherPracticalCredits, decimal PrincipalCredits,
    decimal PrincipalConcentratedCredits, bool TrainingComplete, string Registration, IReadOnlyList<string> Reasons,
    IReadOnlyList<Requirement>? Requirements = null);

/// <summary>
/// The credit rules (docs/training.md): a cycle's total and each year's minimum over the regular credits plus the counted
/// share of 任职资格培训; 新任教师培训 tracked apart and never counted; per-domain and per-source caps and domain minimums
/// from configuration; and the registration outcome — 不合格 after two consecutive failed appraisals in the cycle,
/// 暂缓 for a training shortfall or any failed appraisal, else 合格. Pure: the caller brings the credits and appraisals.
/// </summary>
internal static class CreditCompliance
{
    public static CycleCompliance Evaluate(int cycleStart, IReadOnlyList<CreditEntry> credits, IReadOnlyList<AppraisalResult> appraisals,
        TrainingOptions rules, TeacherSituation? situation = null)
    {
        situation ??= TeacherSituation.None;
        var cycleEnd = cycleStart + rules.CycleYears - 1;
        bool InCycle(CreditEntry c) => c.EarnedOn.Year >= cycleStart && c.EarnedOn.Year <= cycleEnd;
        decimal Counted(CreditEntry c) => CountedTowardCycle(c, rules);

        var cycle = credits.Where(InCycle).Where(c => c.Kind != CreditKind.NewTeacher).ToList();
        var reasons = new List<string>();

        // Caps first by source, then by domain: what is counted toward the total.
        var bySource = cycle.GroupBy(c => c.Source).ToDictionary(g => g.Key, g => g.Sum(Counted));
        var sourceExcess = bySource.Sum(s => rules.SourceCaps.TryGetValue(s.Key, out var cap) && s.Value > cap ? s.Value - cap : 0m);
        var domains = new List<DomainCredits>();
        var domainExcess = 0m;
        for (var domain = 1; domain <= 7; domain++)
        {
            var earned = cycle.Where(c => c.Domain == domain).Sum(Counted);
            var key = domain.ToString(System.Globalization.CultureInfo.InvariantCulture);
            decimal? cap = rules.DomainCaps.TryGetValue(key, out var c) ? c : null;
            decimal? minimum = rules.DomainMinimums.TryGetValue(key, out var m) ? m : null;
            var counted = cap is { } limit ? Math.Min(earned, limit) : earned;
            domainExcess += earned - counted;
            domains.Add(new DomainCredits(domain, rules.DomainNames.ElementAtOrDefault(domain - 1) ?? key, earned, counted, minimum, cap));
            if (minimum is { } min && earned < min)
            {
                reasons.Add($"domain {domain} ({rules.DomainNames.ElementAtOrDefault(domain - 1)}): {earned:0.##} of the {min:0.##} required");
            }
        }

        // Level minimums, from the highest level down: what a higher level earns beyond its own minimum stands in for a
        // lower level's, never the reverse.
        var levels = new List<LevelCredits>();
        var carried = 0m;
        foreach (var level in CreditLevel.All.Reverse())
        {
            var earned = cycle.Where(c => c.Level == level).Sum(Counted);
            decimal? minimum = rules.LevelMinimums.TryGetValue(level, out var m) ? m : null;
            var available = earned + carried;
            levels.Insert(0, new LevelCredits(level, earned, carried, minimum, minimum is not { } min || available >= min));
            if (minimum is { } required && available < required)
            {
                reasons.Add($"level {level}: {available:0.##} credits (higher levels counted in) of the {required:0.##} required");
            }

            carried = Math.Max(0m, available - (minimum ?? 0m));
        }

        // An excess cut by both a source cap and a domain cap is cut once: the larger of the two cuts.
        var total = cycle.Sum(Counted) - Math.Max(sourceExcess, domainExcess);
        if (total < rules.CycleMinimum)
        {
            reasons.Add($"cycle {cycleStart}–{cycleEnd}: {total:0.##} credits of the {rules.CycleMinimum:0.##} required");
        }

        var years = new List<YearCredits>();
        for (var year = cycleStart; year <= cycleEnd; year++)
        {
            var sum = cycle.Where(c => c.EarnedOn.Year == year).Sum(Counted);
            years.Add(new YearCredits(year, sum, sum >= rules.YearMinimum));
            if (sum < rules.YearMinimum)
            {
                reasons.Add($"{year}: {sum:0.##} credits of the {rules.YearMinimum:0.##} required each year");
            }
        }

        var newTeacher = credits.Where(c => c.Kind == CreditKind.NewTeacher).ToList();
        var principal = credits.Where(c => c.Kind == CreditKind.PrincipalQualification).ToList();
        var requirements = Requirements(cycleStart, cycleEnd, newTeacher, principal, situation, rules, reasons);
        var trainingComplete = reasons.Count == 0;

        var failed = appraisals.Where(a => a.Year >= cycleStart && a.Year <= cycleEnd && !a.Passed).Select(a => a.Year).Order().ToList();
        var consecutive = failed.Zip(failed.Skip(1)).Any(p => p.Second == p.First + 1);
        foreach (var year in failed)
        {
            reasons.Add($"{year}: annual appraisal not passed");
        }

        var registration = consecutive ? RegistrationOutcome.Fail
            : !trainingComplete || failed.Count > 0 ? RegistrationOutcome.Deferred
            : RegistrationOutcome.Pass;
        if (consecutive)
        {
            reasons.Add("two consecutive years of annual appraisal not passed in the cycle");
        }

        return new CycleCompliance(cycleStart, cycleEnd, total, rules.CycleMinimum, years, domains, levels, newTeacher.Sum(c => c.Credits),
            newTeacher.Where(c => c.Practical).Sum(c => c.Credits), principal.Sum(c => c.Credits),
            principal.Where(c => c.Concentrated).Sum(c => c.Credits), trainingComplete, registration, reasons, requirements);
    }

    /// <summary>
    /// A role's training is due when its period ends (a probation's 180 credits of which 80 practical; a new principal's
    /// 300 of which 90 concentrated) and a mandatory training when it ends: until then in progress, after it met or
    /// missed — and a missed one is a training shortfall (暂缓), listed among the reasons.
    /// </summary>
    private static List<Requirement> Requirements(int cycleStart, int cycleEnd, List<CreditEntry> newTeacher, List<CreditEntry> principal,
        TeacherSituation situation, TrainingOptions rules, List<string> reasons)
    {
        var requirements = new List<Requirement>();
        void Add(string name, bool met, DateOnly? due, string detail)
        {
            var status = met ? RequirementStatus.Met : due is { } d && d < situation.Today ? RequirementStatus.Missed : RequirementStatus.InProgress;
            requirements.Add(new Requirement(name, status, detail));
            if (status == RequirementStatus.Missed)
            {
                reasons.Add($"{name}: {detail}");
            }
        }

        bool Touches(TeacherRole r) => r.StartsOn.Year <= cycleEnd && (r.EndsOn is not { } end || end.Year >= cycleStart);
        foreach (var role in situation.Roles.Where(Touches).OrderBy(r => r.StartsOn))
        {
            if (role.Role == TeacherRoleKind.NewTeacher)
            {
                var (total, practical) = (newTeacher.Sum(c => c.Credits), newTeacher.Where(c => c.Practical).Sum(c => c.Credits));
                Add($"new-teacher training ({role.StartsOn:yyyy-MM-dd}–{role.EndsOn:yyyy-MM-dd})",
                    total >= rules.NewTeacherMinimum && practical >= rules.NewTeacherPracticalMinimum, role.EndsOn,
                    $"{total:0.##} of {rules.NewTeacherMinimum:0.##} credits, {practical:0.##} of {rules.NewTeacherPracticalMinimum:0.##} practical");
            }
            else if (role.Role == TeacherRoleKind.NewPrincipal)
            {
                var (total, concentrated) = (principal.Sum(c => c.Credits), principal.Where(c => c.Concentrated).Sum(c => c.Credits));
                Add($"principal qualification training ({role.StartsOn:yyyy-MM-dd}–{role.EndsOn:yyyy-MM-dd})",
                    total >= rules.PrincipalMinimum && concentrated >= rules.PrincipalConcentratedMinimum, role.EndsOn,
                    $"{total:0.##} of {rules.PrincipalMinimum:0.##} credits, {concentrated:0.##} of {rules.PrincipalConcentratedMinimum:0.##} concentrated");
            }
        }

        foreach (var training in situation.Mandatory.Where(m => m.EndsOn.Year >= cycleStart && m.EndsOn.Year <= cycleEnd).OrderBy(m => m.EndsOn))
        {
            Add($"mandatory training {training.Title} (#{training.TrainingId})", training.Completed, training.EndsOn,
                training.Completed ? "passed" : $"not passed (it ends {training.EndsOn:yyyy-MM-dd})");
        }

        return requirements;
    }

    /// <summary>What a credit brings to the cycle: all of a regular one, the counted share of 任职资格培训, none of 新任教师培训.</summary>
    public static decimal CountedTowardCycle(CreditEntry c, TrainingOptions rules) => c.Kind switch
    {
        CreditKind.Regular => c.Credits,
        CreditKind.PrincipalQualification => c.Credits * rules.PrincipalCountsTowardCycle,
        _ => 0m,
    };

    /// <summary>Whether a new teacher's probation training is complete: the minimum, and the practical part of it.</summary>
    public static bool NewTeacherComplete(CycleCompliance c, TrainingOptions rules) =>
        c.NewTeacherCredits >= rules.NewTeacherMinimum && c.NewTeacherPracticalCredits >= rules.NewTeacherPracticalMinimum;

    /// <summary>Whether a new principal's qualification training is complete: the minimum, and the concentrated part of it.</summary>
    public static bool PrincipalComplete(CycleCompliance c, TrainingOptions rules) =>
        c.PrincipalCredits >= rules.PrincipalMinimum && c.PrincipalConcentratedCredits >= rules.PrincipalConcentratedMinimum;
}
