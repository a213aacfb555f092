using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Training;

/// <summary>
/// Zhejiang's teacher training credits (docs/training.md, 浙教师〔2016〕71号): the numbers are the documented defaults,
/// and what the sources leave open (the cycle's years, category minimums and caps) is the bureau's to set.
/// </summary>
internal sealed class TrainingOptions : IValidatedOptions
{
    public static string Section => "Training";

    /// <summary>The first year of the city's current 5-year cycle (Haining's was not found: 2022–2026 by default).</summary>
    public int CycleStartYear { get; set; } = 2022;

    public int CycleYears { get; set; } = 5;

    /// <summary>At least this many credits per cycle (Art. 4).</summary>
    public decimal CycleMinimum { get; set; } = 360m;

    /// <summary>At least this many credits in each year of the cycle (Art. 4).</summary>
    public decimal YearMinimum { get; set; } = 24m;

    /// <summary>新任教师培训 during probation: at least this many, of which practical at least <see cref="NewTeacherPracticalMinimum"/>; none count toward the cycle.</summary>
    public decimal NewTeacherMinimum { get; set; } = 180m;

    public decimal NewTeacherPracticalMinimum { get; set; } = 80m;

    /// <summary>新任校长 任职资格培训: at least this many, of which concentrated at least <see cref="PrincipalConcentratedMinimum"/>.</summary>
    public decimal PrincipalMinimum { get; set; } = 300m;

    public decimal PrincipalConcentratedMinimum { get; set; } = 90m;

    /// <summary>The share of 任职资格培训 credits that counts toward the cycle (Art. 4: 50%).</summary>
    public decimal PrincipalCountsTowardCycle { get; set; } = 0.5m;

    private static readonly IReadOnlyList<string> DefaultDomains = ["师德与法规", "教育理论", "学科知识", "教学技能", "班级管理", "信息技术", "身心健康"];

    /// <summary>
    /// The seven knowledge domains' names (codes 1–7 in the data); empty: the defaults. (Not initialised with them:
    /// configuration binding appends to a list.)
    /// </summary>
    public List<string> Domains { get; set; } = [];

    public IReadOnlyList<string> DomainNames => Domains.Count > 0 ? Domains : DefaultDomains;

    /// <summary>Per-domain maximum credits counted per cycle (domain code → cap); empty: no caps (the 学时-era caps are not verified for 学分制).</summary>
    public Dictionary<string, decimal> DomainCaps { get; set; } = [];

    /// <summary>Per-domain minimum credits per cycle (domain code → minimum); empty: none.</summary>
    public Dictionary<string, decimal> DomainMinimums { get; set; } = [];

    /// <summary>
    /// Per-level minimum credits per cycle (basic, intermediate, advanced → minimum); a higher level's surplus stands in
    /// for a lower level's minimum, not the reverse. Empty: none (the bureau's to set).
    /// </summary>
    public Dictionary<string, decimal> LevelMinimums { get; set; } = [];

    /// <summary>Per-source maximum credits counted per cycle (e.g. "school-based" → 120); empty: none.</summary>
    public Dictionary<string, decimal> SourceCaps { get; set; } = [];

    /// <summary>
    /// The provincial platform export's column headers by field (school, name, jobNumber, projectCode, title, organiser,
    /// endedOn, credits, domain, level, trainingLevel, kind); empty or a field left out: the defaults of docs/training.md.
    /// </summary>
    public Dictionary<string, string> ProvincialColumns { get; set; } = [];

    /// <summary>A provincial record replaces a local credit of the same person and title that ended within this many days of it.</summary>
    public int ReconcileWindowDays { get; set; } = 31;

    /// <summary>The largest evidence file (a certificate's PDF, PNG or JPEG) a teacher may attach to a claim.</summary>
    public int EvidenceMaxBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>Whether a teacher's credit claim goes on to the bureau after the school's admins approve it.</summary>
    public bool BureauConfirmsClaims { get; set; }

    /// <summary>Days of the year ("MM-dd", Beijing) on which teachers behind schedule are reminded; empty: 06-01 and 11-01.</summary>
    public List<string> ReminderDays { get; set; } = [];

    public IReadOnlyList<string> ReminderDaysOrDefault => ReminderDays.Count > 0 ? ReminderDays : ["06-01", "11-01"];

    /// <summary>The next 定期注册 deadline; teachers who would not pass are reminded the listed days before it. Null: none.</summary>
    public DateOnly? RegistrationDeadline { get; set; }

    /// <summary>Days before <see cref="RegistrationDeadline"/> on which reminders go out; empty: 30 and 7.</summary>
    public List<int> RegistrationRemindDaysBefore { get; set; } = [];

    public IReadOnlyList<int> RegistrationRemindDaysBeforeOrDefault => RegistrationRemindDaysBefore.Count > 0 ? RegistrationRemindDaysBefore : [30, 7];

    /// <summary>Reminders go out from this Beijing time of day on (not at night).</summary>
    public TimeOnly RemindFrom { get; set; } = new(9, 0);

    /// <summary>How often the reminder worker looks whether a reminder is due; false <see cref="RunWorker"/> turns it off.</summary>
    public TimeSpan ReminderInterval { get; set; } = TimeSpan.FromMinutes(30);

    public bool RunWorker { get; set; } = true;

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        foreach (var day in ReminderDays.Where(d => !DateOnly.TryParseExact($"2024-{d}", "yyyy-MM-dd", out _)))
        {
            yield return ($"{nameof(ReminderDays)}:{day}", "must be a day of the year as MM-dd, e.g. 06-01");
        }

        if (RegistrationRemindDaysBefore.Any(d => d is < 0 or > 366))
        {
            yield return (nameof(RegistrationRemindDaysBefore), "days before the deadline, 0 to 366");
        }

        if (ReminderInterval < TimeSpan.FromMinutes(1))
        {
            yield return (nameof(ReminderInterval), "must be at least a minute");
        }

        if (CycleStartYear is < 2016 or > 2100)
        {
            yield return (nameof(CycleStartYear), "must be a year from 2016 (the credit system's start)");
        }

        if (CycleYears is < 1 or > 10)
        {
            yield return (nameof(CycleYears), "must be 1 to 10");
        }

        if (CycleMinimum < 0 || YearMinimum < 0 || NewTeacherMinimum < 0 || PrincipalMinimum < 0)
        {
            yield return (nameof(CycleMinimum), "minimums must not be negative");
        }

        if (PrincipalCountsTowardCycle is < 0 or > 1)
        {
            yield return (nameof(PrincipalCountsTowardCycle), "must be a share from 0 to 1");
        }

        if (DomainNames.Count != 7)
        {
            yield return (nameof(Domains), "must name the 7 knowledge domains");
        }

        foreach (var level in LevelMinimums.Keys.Where(k => !CreditLevel.All.Contains(k)))
        {
            yield return ($"{nameof(LevelMinimums)}:{level}", $"levels are {string.Join(", ", CreditLevel.All)}");
        }

        foreach (var field in ProvincialColumns.Keys.Where(k => !ProvincialImport.DefaultColumns.ContainsKey(k)))
        {
            yield return ($"{nameof(ProvincialColumns)}:{field}", $"is not a column of the import ({string.Join(", ", ProvincialImport.DefaultColumns.Keys)})");
        }

        if (EvidenceMaxBytes is < 1024 or > 30 * 1024 * 1024)
        {
            yield return (nameof(EvidenceMaxBytes), "must be 1 KiB to 30 MiB");
        }

        if (ReconcileWindowDays is < 0 or > 366)
        {
            yield return (nameof(ReconcileWindowDays), "must be 0 to 366 days");
        }

        foreach (var key in DomainCaps.Keys.Concat(DomainMinimums.Keys).Where(k => !int.TryParse(k, out var d) || d is < 1 or > 7))
        {
            yield return ($"{nameof(DomainCaps)}:{key}", "domain codes are 1 to 7");
        }
    }
}
