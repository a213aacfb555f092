using System.Data;
using System.Globalization;
using MiniExcelLibs;

namespace EduDing.Api.Features.Vision;

internal sealed record ImportProblem(int Row, string Column, string Reason);

/// <summary>A parsed sheet: the rows that make valid inputs (with their sheet row), and every problem by row and column.</summary>
internal sealed record ParsedSheet(int TotalRows, IReadOnlyList<(int Row, VisionRecordInput Input, long ClassId)> Rows,
    IReadOnlyList<ImportProblem> Problems);

/// <summary>
/// The xlsx of one school's screening (MiniExcel): the downloadable template's columns, and parsing with a reason for
/// every bad row, by its row number in the sheet (the header is row 1).
/// </summary>
internal static class VisionImport
{
    public static readonly (string Header, string Field)[] Columns =
    [
        ("学号", "studentNumber"), ("学生ID", "studentUserId"), ("姓名", "name"), ("性别", "sex"), ("出生日期", "birthDate"),
        ("检查日期", "screenedOn"), ("戴镜类型", "glasses"),
        ("右眼裸眼视力", "ucvaRight"), ("左眼裸眼视力", "ucvaLeft"), ("右眼走近距离(米)", "walkDistanceRight"),
        ("左眼走近距离(米)", "walkDistanceLeft"), ("右眼戴镜视力", "cvaRight"), ("左眼戴镜视力", "cvaLeft"),
        ("右眼球镜", "sphereRight"), ("右眼柱镜", "cylinderRight"), ("右眼轴位", "axisRight"),
        ("左眼球镜", "sphereLeft"), ("左眼柱镜", "cylinderLeft"), ("左眼轴位", "axisLeft"),
        ("右眼眼轴(mm)", "axialLengthRight"), ("左眼眼轴(mm)", "axialLengthLeft"), ("无法检查原因", "notTestableReason"),
    ];

    private static readonly Dictionary<string, string> HeaderByField = Columns.ToDictionary(c => c.Field, c => c.Header);

    public static string HeaderOf(string field) => HeaderByField.GetValueOrDefault(field, field);

    public static GlassesType? ParseGlasses(string? text) => text?.Trim() switch
    {
        null or "" or "不戴镜" or "无" or "none" => GlassesType.None,
        "框架眼镜" or "框架" or "frame" => GlassesType.Frame,
        "隐形眼镜" or "隐形" or "contact" => GlassesType.Contact,
        "角膜塑形镜" or "OK镜" or "ok镜" or "ok-lens" => GlassesType.OkLens,
        _ => null,
    };

    /// <summary>
    /// A filled-in row of a pupil wearing no glasses with mild myopia in the right eye, as the template's example sheet
    /// shows it (a pupil of the school and a date of the round make it importable as it stands).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ExampleRow = new Dictionary<string, string>
    {
        ["studentNumber"] = "20230101", ["studentUserId"] = "", ["name"] = "张小明", ["sex"] = "男", ["birthDate"] = "2016-03-05",
        ["screenedOn"] = "2026-09-15", ["glasses"] = "不戴镜", ["ucvaRight"] = "4.8", ["ucvaLeft"] = "4.9", ["walkDistanceRight"] = "",
        ["walkDistanceLeft"] = "", ["cvaRight"] = "", ["cvaLeft"] = "", ["sphereRight"] = "-0.75", ["cylinderRight"] = "-0.50",
        ["axisRight"] = "180", ["sphereLeft"] = "-0.25", ["cylinderLeft"] = "0", ["axisLeft"] = "", ["axialLengthRight"] = "23.85",
        ["axialLengthLeft"] = "23.70", ["notTestableReason"] = "",
    };

    /// <summary>
    /// The template: the empty data sheet (the only one read), a sheet explaining each column, and a sheet with one
    /// example row under the same headers.
    /// </summary>
    public static byte[] Template()
    {
        var sheet = new DataTable("筛查数据");
        var example = new DataTable("示例");
        foreach (var (header, _) in Columns)
        {
            sheet.Columns.Add(header, typeof(string));
            example.Columns.Add(header, typeof(string));
        }

        example.Rows.Add(Columns.Select(c => (object)ExampleRow[c.Field]).ToArray());

        var notes = new[]
        {
            new Dictionary<string, object> { ["列"] = "学号 / 学生ID", ["说明"] = "填写其一：家校通讯录中的学号，或钉钉学生 userid" },
            new Dictionary<string, object> { ["列"] = "性别", ["说明"] = "男 或 女" },
            new Dictionary<string, object> { ["列"] = "出生日期 / 检查日期", ["说明"] = "日期，如 2016-03-05；检查日期须在本轮筛查时间内" },
            new Dictionary<string, object> { ["列"] = "戴镜类型", ["说明"] = "不戴镜、框架眼镜、隐形眼镜、角膜塑形镜" },
            new Dictionary<string, object> { ["列"] = "裸眼视力 / 戴镜视力", ["说明"] = "五分记录 4.0–5.3（0.1 一档）；低于 4.0 用走近法，并填走近距离(米)" },
            new Dictionary<string, object> { ["列"] = "球镜 / 柱镜", ["说明"] = "屈光度 D，0.25 一档，带符号，如 -1.25；无柱镜填 0" },
            new Dictionary<string, object> { ["列"] = "轴位", ["说明"] = "1–180 的整数；柱镜不为 0 时必填" },
            new Dictionary<string, object> { ["列"] = "眼轴", ["说明"] = "选填，毫米" },
            new Dictionary<string, object> { ["列"] = "无法检查原因", ["说明"] = "学生无法配合等，填写后视力和验光可留空" },
            new Dictionary<string, object> { ["列"] = "姓名", ["说明"] = "选填，用于核对：须与学号或学生ID对应学生的姓名一致" },
            new Dictionary<string, object> { ["列"] = "（整个文件）", ["说明"] = "只读取第一张工作表「筛查数据」，第一行为表头；「示例」工作表仅作参考，不会导入" },
        };
        using var stream = new MemoryStream();
        stream.SaveAs(new Dictionary<string, object> { ["筛查数据"] = sheet, ["说明"] = notes, ["示例"] = example });
        return stream.ToArray();
    }

    /// <summary>
    /// Reads the first sheet. A row is good when it names a current student of the school, once, and its values pass
    /// <see cref="VisionRecordInput.Problems"/>; otherwise each of its problems is listed.
    /// </summary>
    public static ParsedSheet Parse(Stream xlsx, VisionRound round, IReadOnlyList<Vision.RosterStudent> roster, DateOnly today)
    {
        var byNumber = roster.Where(s => !string.IsNullOrEmpty(s.StudentNumber)).GroupBy(s => s.StudentNumber!)
            .ToDictionary(g => g.Key, g => g.First());
        var byUserId = roster.ToDictionary(s => s.UserId);
        var rows = new List<(int, VisionRecordInput, long)>();
        var problems = new List<ImportProblem>();
        var seen = new Dictionary<string, int>();
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
                // A damaged or foreign file: nothing of it is imported.
                return new ParsedSheet(rowNumber, [], [new ImportProblem(rowNumber + 1, "file", $"not a readable xlsx sheet: {ex.Message}")]);
            }

            var cells = sheet.Current;
            rowNumber++;
            if (cells.Values.All(v => v is null || (v is string s && string.IsNullOrWhiteSpace(s))))
            {
                continue;
            }

            var rowProblems = new List<ImportProblem>();
            string? Text(string field) => cells.TryGetValue(HeaderOf(field), out var v) && v is not null
                ? Convert.ToString(v, CultureInfo.InvariantCulture)?.Trim() is { Length: > 0 } t ? t : null
                : null;
            decimal? Number(string field)
            {
                if (!cells.TryGetValue(HeaderOf(field), out var v) || v is null || v is string { Length: 0 })
                {
                    return null;
                }

                try
                {
                    return v switch
                    {
                        double d => (decimal)d,
                        decimal m => m,
                        int i => i,
                        long l => l,
                        string s when decimal.TryParse(s.Trim().Replace("D", "", StringComparison.OrdinalIgnoreCase), NumberStyles.Number,
                            CultureInfo.InvariantCulture, out var parsed) => parsed,
                        _ => throw new FormatException(),
                    };
                }
                catch (Exception ex) when (ex is FormatException or OverflowException)
                {
                    rowProblems.Add(new ImportProblem(rowNumber, HeaderOf(field), $"'{v}' is not a number"));
                    return null;
                }
            }

            DateOnly? Date(string field)
            {
                if (!cells.TryGetValue(HeaderOf(field), out var v) || v is null || v is string { Length: 0 })
                {
                    rowProblems.Add(new ImportProblem(rowNumber, HeaderOf(field), "is required (a date such as 2016-03-05)"));
                    return null;
                }

                if (v is DateTime dt)
                {
                    return DateOnly.FromDateTime(dt);
                }

                if (v is double serial && serial is > 1 and < 100_000)
                {
                    return DateOnly.FromDateTime(DateTime.FromOADate(serial));
                }

                if (DateOnly.TryParse(Convert.ToString(v, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
                {
                    return d;
                }

                rowProblems.Add(new ImportProblem(rowNumber, HeaderOf(field), $"'{v}' is not a date (e.g. 2016-03-05)"));
                return null;
            }

            RosterStudent? student = null;
            if (Text("studentUserId") is { } userId)
            {
                student = byUserId.GetValueOrDefault(userId);
                if (student is null)
                {
                    rowProblems.Add(new ImportProblem(rowNumber, HeaderOf("studentUserId"), $"{userId} is not a current student of this school"));
                }
            }
            else if (Text("studentNumber") is { } number)
            {
                student = byNumber.GetValueOrDefault(number);
                if (student is null)
                {
                    rowProblems.Add(new ImportProblem(rowNumber, HeaderOf("studentNumber"), $"{number} is not the number of a current student of this school"));
                }
            }
            else
            {
                rowProblems.Add(new ImportProblem(rowNumber, HeaderOf("studentNumber"), "学号 or 学生ID is required"));
            }

            if (student is not null && Text("name") is { } name && name != student.Name)
            {
                rowProblems.Add(new ImportProblem(rowNumber, HeaderOf("name"), $"'{name}' is not the name of that student ({student.Name})"));
            }

            if (student is not null && seen.TryGetValue(student.UserId, out var firstRow))
            {
                rowProblems.Add(new ImportProblem(rowNumber, HeaderOf("studentNumber"), $"the same student is already on row {firstRow}"));
            }

            var sex = Text("sex") switch
            {
                "男" or "male" => "male",
                "女" or "female" => "female",
                var other => other,
            };
            var glasses = ParseGlasses(Text("glasses"));
            if (glasses is null)
            {
                rowProblems.Add(new ImportProblem(rowNumber, HeaderOf("glasses"), "must be 不戴镜, 框架眼镜, 隐形眼镜 or 角膜塑形镜"));
            }

            var birth = Date("birthDate");
            var screened = Date("screenedOn");
            int? Axis(string field) => Number(field) is { } a ? (a == Math.Floor(a) ? (int)a : -1) : null;
            var input = new VisionRecordInput(student?.UserId ?? "", sex ?? "", birth ?? default, screened ?? default, glasses ?? GlassesType.None,
                Number("ucvaRight"), Number("ucvaLeft"), Number("walkDistanceRight"), Number("walkDistanceLeft"), Number("cvaRight"),
                Number("cvaLeft"), Number("sphereRight"), Number("cylinderRight"), Axis("axisRight"), Number("sphereLeft"),
                Number("cylinderLeft"), Axis("axisLeft"), Number("axialLengthRight"), Number("axialLengthLeft"), Text("notTestableReason"));
            if (birth is not null && screened is not null)
            {
                rowProblems.AddRange(input.Problems(round, today).Select(p => new ImportProblem(rowNumber, HeaderOf(p.Field), p.Reason)));
            }

            if (rowProblems.Count > 0)
            {
                problems.AddRange(rowProblems.DistinctBy(p => (p.Column, p.Reason)));
                continue;
            }

            seen[student!.UserId] = rowNumber;
            rows.Add((rowNumber, input, student.ClassId));
        }

        return new ParsedSheet(rowNumber - 1, rows, problems);
    }
}
