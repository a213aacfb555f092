using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Vision;

namespace EduDing.Api.Features.Privacy;

/// <summary>Everything EduDing holds about one child, by section (a table's rows), for the guardian's copy (PIPL art. 45).</summary>
internal sealed record ChildDataDto(string CorpId, string StudentUserId, DateTime GeneratedAt,
    IReadOnlyDictionary<string, IReadOnlyList<IReadOnlyDictionary<string, object?>>> Sections);

/// <summary>
/// Reads every row that is about one child (docs/privacy.md "Guardians' requests"): the child's own rows by
/// (corp, student), and the after-school rows hanging off the child's applications. Nothing keyed to another child is
/// read: rows that list several children (a lottery's draw, the audit log) are not part of a child's copy.
/// </summary>
internal sealed class ChildDataExport(Database db, TimeProvider time)
{
    private const string Applications = "SELECT id FROM care_applications WHERE corp_id = @corpId AND student_user_id = @studentUserId";

    /// <summary>Section name (the table, as the sheet of the xlsx copy) and the query of its rows for one child.</summary>
    internal static readonly (string Section, string Sql)[] Sections =
    [
        ("students", "SELECT * FROM students WHERE corp_id = @corpId AND user_id = @studentUserId"),
        ("class_members", "SELECT * FROM class_members WHERE corp_id = @corpId AND user_id = @studentUserId AND role = 'student'"),
        ("guardian_students", "SELECT * FROM guardian_students WHERE corp_id = @corpId AND student_user_id = @studentUserId"),
        ("vision_records", "SELECT * FROM vision_records WHERE corp_id = @corpId AND student_user_id = @studentUserId"),
        ("vision_record_history", "SELECT * FROM vision_record_history WHERE corp_id = @corpId AND student_user_id = @studentUserId"),
        ("vision_records_transferred", "SELECT * FROM vision_records_transferred WHERE corp_id = @corpId AND student_user_id = @studentUserId"),
        ("vision_referrals", "SELECT * FROM vision_referrals WHERE corp_id = @corpId AND student_user_id = @studentUserId"),
        ("care_applications", "SELECT * FROM care_applications WHERE corp_id = @corpId AND student_user_id = @studentUserId"),
        ("care_places", $"SELECT * FROM care_places WHERE application_id IN ({Applications})"),
        ("care_leaves", $"SELECT * FROM care_leaves WHERE application_id IN ({Applications})"),
        ("care_delegates", $"SELECT * FROM care_delegates WHERE application_id IN ({Applications})"),
        ("care_roll", $"SELECT * FROM care_roll WHERE application_id IN ({Applications})"),
        ("care_roll_corrections", $"SELECT * FROM care_roll_corrections WHERE application_id IN ({Applications})"),
        ("care_handovers", $"SELECT * FROM care_handovers WHERE application_id IN ({Applications})"),
        ("care_alerts", $"SELECT * FROM care_alerts WHERE application_id IN ({Applications})"),
        ("care_payments", $"SELECT * FROM care_payments WHERE application_id IN ({Applications})"),
        ("care_survey", $"SELECT * FROM care_survey WHERE application_id IN ({Applications})"),
        ("consent_records", "SELECT * FROM consent_records WHERE corp_id = @corpId AND student_user_id = @studentUserId ORDER BY id"),
    ];

    public async Task<ChildDataDto> ReadAsync(string corpId, string studentUserId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var sections = new Dictionary<string, IReadOnlyList<IReadOnlyDictionary<string, object?>>>(StringComparer.Ordinal);
        foreach (var (section, sql) in Sections)
        {
            var rows = await connection.QueryAsync(new CommandDefinition(sql, new { corpId, studentUserId }, cancellationToken: ct));
            sections[section] = rows.Cast<IDictionary<string, object?>>().Select(Opened).ToList();
        }

        return new ChildDataDto(corpId, studentUserId, time.GetUtcNow().UtcDateTime, sections);
    }

    /// <summary>A row as the guardian reads it: sealed values decrypted, a vision record's sealed eyes back in their columns (docs/encryption.md).</summary>
    private IReadOnlyDictionary<string, object?> Opened(IDictionary<string, object?> row)
    {
        var opened = row.ToDictionary(c => c.Key, c => c.Value is DBNull ? null : c.Value is string s ? db.Fields.Unprotect(s) : c.Value,
            StringComparer.Ordinal);
        if (opened.Remove("eyes_sealed", out var eyes) && eyes is string json)
        {
            foreach (var (column, value) in EyeValues.FromJson(json).Columns())
            {
                opened[column] = value;
            }
        }

        return opened;
    }

    /// <summary>The same copy as workbook sheets: one per section, with a row saying so where a section is empty.</summary>
    public static Dictionary<string, object> Sheets(ChildDataDto data) =>
        data.Sections.ToDictionary(s => s.Key, s => (object)(s.Value.Count == 0
            ? new List<Dictionary<string, object?>> { new() { ["（无）"] = "EduDing 未保存此类信息" } }
            : s.Value.Select(r => r.ToDictionary(c => c.Key, c => c.Value is DateTime d ? d.ToString("O") : c.Value)).ToList()));
}
