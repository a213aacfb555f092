using System.Globalization;
using MiniExcelLibs;

namespace EduDing.Api.Features.Training;

/// <summary>A row of the provincial platform's export, as read: the teacher it names and the credit it records.</summary>
internal sealed record ProvincialRow(int Row, string CorpId, string UserId, string ProjectCode, string Title, string Organiser, DateOnly EndedOn,
    decimal Credits, int Domain, string Level, string TrainingLevel, string Kind);

internal sealed record ProvincialProblem(int Row, string Column, string Reason);

/// <summary>A teacher the import can name: current staff of a school, with their 工号.</summary>
internal sealed record ImportableTeacher(string CorpId, string UserId, string Name, string? JobNumber);

/// <summary>
/// Reads the provincial teacher-training platform's xlsx export (docs/training.md): one row per teacher and project,
/// the columns named by <see cref="TrainingOptions.ProvincialColumns"/> (defaults below). A row names its school by
/// name (a school's own import may leave it empty) and its teacher by 工号, or by name where that is unique in the
/// school. Every problem is listed by sheet row (the header is row 1) and column.
/// </summary>
internal static class ProvincialImport
{
    public static readonly IReadOnlyDictionary<string, string> DefaultColumns = new Dictionary<string, string>
    {
        ["school"] = "学校", ["name"] = "姓名", ["jobNumber"] = "工号", ["projectCode"] = "项目编号", ["title"] = "项目名称",
        ["organiser"] = "培训机构", ["endedOn"] = "结束日期", ["credits"] = "学分", ["domain"] = "类别", ["level"] = "层次",
        ["trainingLevel"] = "培训级别", ["kind"] = "培训类型",
    };

    /// <summary>省 / 市 / 县 / 校: where the training was organised.</summary>
    public static readonly IReadOnlyDictionary<string, string> TrainingLevels = new Dictionary<string, string>
    {
        ["省"] = "province", ["省级"] = "province", ["市"] = "city", ["市级"] = "city", ["县"] = "county", ["县级"] = "county",
        ["县(市、区)级"] = "county", ["校"] = "school", ["校级"] = "school",
    };

    private static readonly IReadOnlyDictionary<string, string> Levels = new Dictionary<string, string>
    {
        ["初"] = "basic", ["初级"] = "basic", ["中"] = "intermediate", ["中级"] = "intermediate", ["高"] = "advanced", ["高级"] = "advanced",
    };

    private static readonly IReadOnlyDictionary<string, string> Kinds = new Dictionary<string, string>
    {
        ["一般"] = CreditKind.Regular, ["专业发展"] = CreditKind.Regular, ["新任教师"] = CreditKind.NewTeacher, ["新任教师培训"] = CreditKind.NewTeacher,
        ["任职资格"] = CreditKind.PrincipalQualification, ["任职资格培训"] = CreditKind.PrincipalQualification,
    };

    public static (int TotalRows, IReadOnlyList<ProvincialRow> Rows, IReadOnlyList<ProvincialProblem> Problems) Parse(Stream xlsx,
        IReadOnlyDictionary<string, string> columns, IReadOnlyList<string> domainNames, string? ownSchoolCorpId,
        IReadOnlyDictionary<string, string> schoolsByName, IReadOnlyList<ImportableTeacher> teachers)
    {
        string Header(string field) => columns.TryGetValue(field, out var h) ? h : DefaultColumns[field];
        var byJobNumber = teachers.Where(t => !string.IsNullOrWhiteSpace(t.JobNumber)).GroupBy(t => (t.CorpId, t.JobNumber!.Trim()))
            .ToDictionary(g => g.Key, g => g.ToList());
        var byName = teachers.GroupBy(t => (t.CorpId, t.Name)).ToDictionary(g => g.Key, g => g.ToList());
        var rows = new List<ProvincialRow>();
        var problems = new List<ProvincialProblem>();
        var seen = new Dictionary<(string, string, string), int>();
        var rowNumber = 1;
        using var sheet = xlsx.Query(useHeaderRow: true).Cast<IDictionary<string, object>>().GetEnumerator();
        while (true)
        {
            try
            {
                if (!sheet.MoveNext())
                {
                    break;
                }
            }
            catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException or FormatException or IOException)
            {
                return (rowNumber, [], [new ProvincialProblem(rowNumber + 1, "file", $"not a readable xlsx sheet: {ex.Message}")]);
            }

            var cells = sheet.Current;
            rowNumber++;
            if (cells.Values.All(v => v is null || (v is string s && string.IsNullOrWhiteSpace(s))))
            {
                continue;
            }

            var row = rowNumber;
            var rowProblems = new List<ProvincialProblem>();
            void Problem(string field, string reason) => rowProblems.Add(new ProvincialProblem(row, Header(field), reason));
            string? Text(string field) => cells.TryGetValue(Header(field), out var v) && v is not null
                ? Convert.ToString(v, CultureInfo.InvariantCulture)?.Trim() is { Length: > 0 } t ? t : null
                : null;
            string Required(string field, int max)
            {
                var text = Text(field);
                if (text is null || text.Length > max)
                {
                    Problem(field, text is null ? "is required" : $"at most {max} characters");
                }

                return text ?? "";
            }

            // The school: named by the row, or the importing school's own file.
            var schoolName = Text("school");
            var corpId = schoolName is not null ? schoolsByName.GetValueOrDefault(schoolName) : ownSchoolCorpId;
            if (corpId is null)
            {
                Problem("school", schoolName is null ? "is required (the school's name)" : $"'{schoolName}' is not a school this deployment serves");
            }
            else if (ownSchoolCorpId is not null && corpId != ownSchoolCorpId)
            {
                Problem("school", $"'{schoolName}' is another school: a school imports its own teachers' records");
                corpId = null;
            }

            // The teacher: by 工号, else by a name unique in the school.
            ImportableTeacher? teacher = null;
            var name = Text("name");
            if (corpId is not null)
            {
                if (Text("jobNumber") is { } jobNumber)
                {
                    teacher = byJobNumber.GetValueOrDefault((corpId, jobNumber)) is [var only] ? only : null;
                    if (teacher is null)
                    {
                        Problem("jobNumber", $"{jobNumber} is not the 工号 of one current teacher of that school");
                    }
                    else if (name is not null && name != teacher.Name)
                    {
                        Problem("name", $"'{name}' is not the name of that teacher ({teacher.Name})");
                        teacher = null;
                    }
                }
                else if (name is not null)
                {
                    var named = byName.GetValueOrDefault((corpId, name)) ?? [];
                    teacher = named.Count == 1 ? named[0] : null;
                    if (teacher is null)
                    {
                        Problem("name", named.Count == 0 ? $"no current teacher '{name}' in that school" : $"{named.Count} teachers are named '{name}': give the 工号");
                    }
                }
                else
                {
                    Problem("jobNumber", "工号 or 姓名 is required");
                }
            }

            var projectCode = Required("projectCode", 64);
            var title = Required("title", 100);
            var organiser = Text("organiser") ?? "浙江省教师培训管理平台";
            if (organiser.Length > 100)
            {
                Problem("organiser", "at most 100 characters");
            }

            DateOnly? endedOn = null;
            switch (cells.TryGetValue(Header("endedOn"), out var date) ? date : null)
            {
                case DateTime dt:
                    endedOn = DateOnly.FromDateTime(dt);
                    break;
                case double serial when serial is > 1 and < 100_000:
                    endedOn = DateOnly.FromDateTime(DateTime.FromOADate(serial));
                    break;
                case string s when DateOnly.TryParse(s.Trim().Replace('/', '-').Replace('.', '-'), CultureInfo.InvariantCulture, DateTimeStyles.None,
                    out var parsed):
                    endedOn = parsed;
                    break;
                case var other:
                    Problem("endedOn", other is null or "" ? "is required (a date such as 2024-06-30)" : $"'{other}' is not a date (e.g. 2024-06-30)");
                    break;
            }

            decimal? credits = cells.TryGetValue(Header("credits"), out var c) ? c switch
            {
                double d => (decimal)d,
                decimal m => m,
                int i => i,
                long l => l,
                string s when decimal.TryParse(s.Trim(), NumberStyles.Number, CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => null,
            } : null;
            if (credits is null or <= 0 or > 1000 || credits != Math.Round(credits.Value, 2))
            {
                Problem("credits", $"'{c}' is not a number of credits (more than 0, at most 1000, two decimals)");
            }

            var domainText = Text("domain");
            var domain = int.TryParse(domainText, out var code) && code is >= 1 and <= 7 ? code
                : domainText is null ? 0 : domainNames.ToList().IndexOf(domainText) + 1;
            if (domain == 0)
            {
                Problem("domain", $"'{domainText}' is not one of the 7 domains (1–7 or {string.Join("、", domainNames)})");
            }

            var level = Text("level") is { } levelText ? Levels.GetValueOrDefault(levelText) ?? (CreditLevel.All.Contains(levelText) ? levelText : null) : "basic";
            if (level is null)
            {
                Problem("level", "must be 初级, 中级 or 高级");
            }

            var trainingLevel = Text("trainingLevel") is { } tl ? TrainingLevels.GetValueOrDefault(tl) : "province";
            if (trainingLevel is null)
            {
                Problem("trainingLevel", "must be 省级, 市级, 县级 or 校级");
            }

            var kind = Text("kind") is { } kindText ? Kinds.GetValueOrDefault(kindText) ?? (CreditKind.All.Contains(kindText) ? kindText : null) : CreditKind.Regular;
            if (kind is null)
            {
                Problem("kind", "must be 专业发展, 新任教师培训 or 任职资格培训");
            }

            if (teacher is not null && projectCode.Length > 0 && seen.TryGetValue((teacher.CorpId, teacher.UserId, projectCode), out var first))
            {
                Problem("projectCode", $"the same teacher and project are already on row {first}");
            }

            if (rowProblems.Count > 0)
            {
                problems.AddRange(rowProblems.DistinctBy(p => (p.Column, p.Reason)));
                continue;
            }

            seen[(teacher!.CorpId, teacher.UserId, projectCode)] = row;
            rows.Add(new ProvincialRow(row, teacher.CorpId, teacher.UserId, projectCode, title, organiser, endedOn!.Value, credits!.Value, domain,
                level!, trainingLevel!, kind!));
        }

        return (rowNumber - 1, rows, problems);
    }
}
