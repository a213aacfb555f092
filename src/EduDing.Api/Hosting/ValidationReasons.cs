using System.Text.RegularExpressions;

namespace EduDing.Api.Hosting;

/// <summary>
/// A 400's per-field reasons in Chinese for the mini-app (docs/errors.md): the features write each reason in English where
/// they check the field; the recurring shapes of those sentences ("is required", "must be one of …", "at most N
/// characters", a count or range, a date) are said here in Chinese with their values, and any other reason gets the
/// general "此项填写有误". The English stays in <c>errorsEn</c>.
/// </summary>
internal static partial class ValidationReasons
{
    public const string General = "此项填写有误";

    /// <summary>Reasons said word for word, each with what kind of wrong it is (null: left to the shapes below).</summary>
    private static readonly Dictionary<string, (string Chinese, string? Slug)> Exact = new(StringComparer.Ordinal)
    {
        ["is required"] = ("必填", "required"),
        ["must be an array"] = ("须为数组", "wrong_type"),
        ["must be an object"] = ("须为对象", "wrong_type"),
        ["must be a number"] = ("须为数字", "wrong_type"),
        ["must be a whole number"] = ("须为整数", "wrong_type"),
        ["must be true or false"] = ("须为 true 或 false", "wrong_type"),
        ["must be a string"] = ("须为文本", "wrong_type"),
        ["must be a date, e.g. 2026-09-01"] = ("须为日期，例如 2026-09-01", "not_a_date"),
        ["must be a date and time, e.g. 2026-09-01T08:30:00+08:00"] = ("须为日期时间，例如 2026-09-01T08:30:00+08:00", "not_a_date"),
        ["must be a date yyyy-MM-dd"] = ("须为日期（yyyy-MM-dd）", "not_a_date"),
        ["must not be after to"] = ("开始日期不能晚于结束日期", "out_of_range"),
        ["must not be in the future"] = ("不能晚于今天", "out_of_range"),
        ["must be today or later"] = ("不能早于今天", "out_of_range"),
        ["must be json or xlsx"] = ("须为 json 或 xlsx", null),
        ["is not a corp this deployment serves"] = ("不是本系统服务的单位", null),
        ["must be another corp this deployment serves"] = ("须为本系统服务的另一单位", null),
        ["must be your own school"] = ("须为本人所在学校", null),
        ["is answered twice"] = ("重复作答", null),
        ["is not covered by the notice in force"] = ("现行处理规则未涵盖此用途", null),
        ["is not bureau staff in the synced organization"] = ("不是教育局的工作人员", null),
        ["must be the bureau's corp id (grants are for named bureau staff)"] = ("须为教育局的单位（授权只给教育局的具体人员）", null),
        ["must be the 18-character unified social credit code (统一社会信用代码)"] = ("须为18位统一社会信用代码", null),
        ["a file is required (multipart/form-data, field 'file')"] = ("请上传文件（multipart/form-data，字段 file）", "required"),
        ["Expected an ISO 8601 date and time, e.g. 2026-09-01T08:30:00+08:00."] = ("须为日期时间，例如 2026-09-01T08:30:00+08:00", "not_a_date"),
        ["is the year the school year starts, e.g. 2026 for 2026–2027"] = ("须为学年的起始年份，例如 2026 表示 2026–2027 学年", null),
        ["must be a current teacher of the school"] = ("须为本校在职教师", null),
        ["a contact name (≤ 50) and phone number are required"] = ("须填写联系人姓名（不超过 50 字）和电话", null),
        ["must be basic (基础托管) or elective (拓展课程)"] = ("须为 basic（基础托管）或 elective（拓展课程）", null),
        ["is required and not in the future"] = ("必填，且不能晚于今天", "required"),
        ["is required, 0 to the number of desks"] = ("必填，0 至课桌数", null),
        ["must be a mobile number"] = ("须为手机号码", "not_a_phone"),
        ["must be male or female (男/女)"] = ("须为男或女", "not_one_of"),
        ["goes only with an uncorrected acuity below 4.0"] = ("仅在裸眼视力低于 4.0 时填写", "not_expected"),
        ["a walking-closer distance goes only with values below 4.0"] = ("走近距离仅在视力低于 4.0 时填写", "not_expected"),
        ["values below 4.0 come from walking closer (走近法): give the distance in metres (0.5 to 4.5)"] = ("低于 4.0 的视力须用走近法测得：请填写走近距离（0.5 至 4.5 米）", "walking_closer_missing"),
        ["sphere and cylinder go together (write 0 for no cylinder)"] = ("球镜与柱镜须同时填写（无柱镜填 0）", "incomplete"),
        ["is required with a non-zero cylinder"] = ("柱镜不为 0 时必填", "required"),
        ["must be 15 to 35 mm"] = ("须在 15 至 35 毫米之间", "out_of_range"),
        ["must be pending, parked, unhandled or processed"] = ("须为 pending、parked、unhandled 或 processed", null),
        ["must be term or a month yyyy-MM"] = ("须为 term 或月份（yyyy-MM）", null),
    };

    private static readonly (Regex Pattern, string Slug, Func<Match, string> Chinese)[] Shapes =
    [
        (NotJson(), "not_json", _ => "请求内容不是有效的 JSON"),
        (OffGrid(), "off_grid", m => $"{m.Groups["v"].Value} 不在五分记录表的 0.1 刻度上"),
        (AboveChart(), "above_chart", m => $"{m.Groups["v"].Value} 超出视力表上限 5.3"),
        (WalkingCloser(), "walking_closer_mismatch", m => $"走近 {m.Groups["d"].Value} 米时 4.0 行对应 {m.Groups["e"].Value}，不是 {m.Groups["v"].Value}"),
        (RoundWindow(), "outside_round", m => $"须在本轮筛查时间 {m.Groups["from"].Value} 至 {m.Groups["to"].Value} 内，且不晚于今天"),
        (AgeOnScreening(), "age_out_of_range", m => $"按筛查日期计算年龄为 {m.Groups["age"].Value} 岁，应在 3 至 20 岁之间"),
        (DioptreMultiple(), "off_step", m => $"须为 0.25 D 的倍数，在 {m.Groups["min"].Value} 至 {m.Groups["max"].Value} 之间"),
        (RequiredOneOf(), "not_one_of", m => $"必填，须为以下之一：{m.Groups["values"].Value}"),
        (RequiredRange(), "out_of_range", m => $"必填，须在 {m.Groups["from"].Value} 至 {m.Groups["to"].Value} 之间"),
        (SeveralRequired(), "required", _ => "有必填项未填写或不符合要求"),
        (FutureWithin(), "out_of_range", m => $"须为将来的时间，且不超过 {m.Groups["days"].Value} 天后"),
        (YearFrom(), "out_of_range", m => $"须为 {m.Groups["year"].Value} 年及以后的年份"),
        (TimeOfDay(), "not_a_time", _ => "须为时间（HH:mm）"),
        (SchoolServed(), "unknown_school", _ => "须为本系统服务的学校"),
        (ListOf(), "not_one_of", m => $"须列出以下各项（不重复）：{m.Groups["values"].Value}"),
        (RequiredAtMost(), "required_or_too_long", m => $"必填，最多 {m.Groups["n"].Value} 个字"),
        (RequiredWhy(), "required", _ => "必填"),
        (OneOfOr(), "not_one_of", m => $"须为以下之一：{m.Groups["some"].Value}, {m.Groups["last"].Value}"),
        (AtMost(), "too_long", m => $"最多 {m.Groups["n"].Value} 个字"),
        (OneOf(), "not_one_of", m => $"须为以下之一：{m.Groups["values"].Value}"),
        (WhenSetOneOf(), "not_one_of", m => $"如填写，须为以下之一：{m.Groups["values"].Value}"),
        (CountRange(), "count_out_of_range", m => $"须为 {m.Groups["from"].Value} 至 {m.Groups["to"].Value} 项"),
        (Range(), "out_of_range", m => $"须在 {m.Groups["from"].Value} 至 {m.Groups["to"].Value} 之间"),
        (MoreThanZero(), "out_of_range", m => $"须大于 0 且不超过 {m.Groups["max"].Value}"),
        (OnOrAfter(), "out_of_range", m => m.Groups["span"].Value == "a year" ? "不能早于开始日期，且跨度不超过一年" : "不能早于开始日期，且跨度不超过两年"),
        (GradeLevels(), "out_of_range", _ => "年级须为 1 至 12"),
    ];

    /// <summary>The reason in Chinese: its shape's sentence with the values, or the general one.</summary>
    public static string ToChinese(string english)
    {
        if (Exact.TryGetValue(english, out var exact))
        {
            return exact.Chinese;
        }

        foreach (var (pattern, _, chinese) in Shapes)
        {
            if (pattern.Match(english) is { Success: true } match)
            {
                return chinese(match);
            }
        }

        return General;
    }

    /// <summary>
    /// What kind of wrong the reason says, for the end of a 400's code (<c>vision.invalid.records.ucva_right.off_grid</c>):
    /// <c>required</c>, <c>wrong_type</c>, <c>too_long</c>, <c>not_one_of</c>, <c>out_of_range</c>, <c>off_grid</c>, …; null when
    /// the reason has no recognised shape (the code then ends with the field).
    /// </summary>
    public static string? SlugOf(string english) =>
        (Exact.TryGetValue(english, out var exact) ? exact.Slug : null) ?? Shapes.FirstOrDefault(s => s.Pattern.IsMatch(english)).Slug;

    [GeneratedRegex(@"^is required.*, at most (?<n>[\d,]+) characters$")]
    private static partial Regex RequiredAtMost();

    [GeneratedRegex(@"^is required(?: \(.*\)|: .*)?$")]
    private static partial Regex RequiredWhy();

    [GeneratedRegex(@"^at most (?<n>[\d,]+) characters$")]
    private static partial Regex AtMost();

    [GeneratedRegex(@"^must be one of (?<values>[\w\-:./]+(?:, [\w\-:./]+)*)(?: .*)?$")]
    private static partial Regex OneOf();

    [GeneratedRegex(@"^when set, one of (?<values>[\w\-:./]+(?:, [\w\-:./]+)*)(?: .*)?$")]
    private static partial Regex WhenSetOneOf();

    [GeneratedRegex(@"^must (?:list|hold|name|have|mark|choose) (?<from>\d[\d,]*) to (?<to>\d[\d,]*)\b")]
    private static partial Regex CountRange();

    [GeneratedRegex(@"^must be (?<from>\d[\d,]*) to (?<to>\d[\d,]*)\b")]
    private static partial Regex Range();

    [GeneratedRegex(@"^must be more than 0 and at most (?<max>\d[\d,.]*)")]
    private static partial Regex MoreThanZero();

    [GeneratedRegex(@"^must be on or after \w+, within (?<span>a year|two years)$")]
    private static partial Regex OnOrAfter();

    [GeneratedRegex(@"^(must list )?grade levels( are)? 1 to 12$")]
    private static partial Regex GradeLevels();

    [GeneratedRegex(@"JSON|end of data|invalid start of a value|is invalid after|Expected depth")]
    private static partial Regex NotJson();

    [GeneratedRegex(@"^is required, one of (?<values>[\w\-:./]+(?:, [\w\-:./]+)*)")]
    private static partial Regex RequiredOneOf();

    [GeneratedRegex(@"^is required, (?<from>\d[\d,]*) to (?<to>\d[\d,]*)$")]
    private static partial Regex RequiredRange();

    [GeneratedRegex(@"^[\w]+(?:, \w+)*(?:,? and \w+) are required")]
    private static partial Regex SeveralRequired();

    [GeneratedRegex(@"^must be in the future and at most (?<days>\d+) days away")]
    private static partial Regex FutureWithin();

    [GeneratedRegex(@"^(?:must be )?a year from (?<year>\d{4})")]
    private static partial Regex YearFrom();

    [GeneratedRegex(@"^must be HH:mm")]
    private static partial Regex TimeOfDay();

    [GeneratedRegex(@"^must be a school this deployment serves")]
    private static partial Regex SchoolServed();

    [GeneratedRegex(@"^must list .*, of (?<values>[\w\-:./]+(?:, [\w\-:./]+)*)$")]
    private static partial Regex ListOf();

    [GeneratedRegex(@"^(?<v>[\d.]+) is not on the 0.1 grid of the 5-point chart$")]
    private static partial Regex OffGrid();

    [GeneratedRegex(@"^(?<v>[\d.]+) is above the chart maximum 5.3$")]
    private static partial Regex AboveChart();

    [GeneratedRegex(@"^at (?<d>[\d.]+) m the 4.0 line reads (?<e>[\d.]+), not (?<v>[\d.]+)$")]
    private static partial Regex WalkingCloser();

    [GeneratedRegex(@"^must be within the round's window (?<from>[\d-]+) to (?<to>[\d-]+), and not in the future$")]
    private static partial Regex RoundWindow();

    [GeneratedRegex(@"^gives age (?<age>-?\d+) on the screening date; expected 3 to 20$")]
    private static partial Regex AgeOnScreening();

    [GeneratedRegex(@"^must be a multiple of 0.25 D between (?<min>[-+]?\d+) and (?<max>[-+]?\d+)$")]
    private static partial Regex DioptreMultiple();

    [GeneratedRegex(@"^must be (?<some>[\w\-]+(?:, [\w\-]+)*) or (?<last>[\w\-]+)$")]
    private static partial Regex OneOfOr();
}
