using System.ComponentModel;
using System.Data.Common;
using System.Globalization;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Audit;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Privacy;

/// <summary>What a guardian asks of their child's data (PIPL art. 46–47); a copy (art. 45) needs no request.</summary>
internal static class DataRequestKind
{
    [Description("更正")]
    public const string Correction = "correction";
    [Description("删除")]
    public const string Deletion = "deletion";

    public static readonly IReadOnlyList<string> All = [Correction, Deletion];
}

internal static class DataRequestStatus
{
    [Description("学校处理中")]
    public const string Pending = "pending";
    [Description("已完成")]
    public const string Done = "done";
    [Description("未予办理（附理由）")]
    public const string Refused = "refused";
    [Description("已撤回")]
    public const string Withdrawn = "withdrawn";
}

internal sealed record DataRequest(long Id, string CorpId, string StudentUserId, string Kind, string? Purpose, string Detail, string GuardianCorpId,
    string GuardianUserId, string Status, string? Outcome, long? ApprovalId, DateTime CreatedAt, DateTime? DecidedAt);

internal sealed class DataRequestRepository(Database db)
{
    public Database Database => db;

    public async Task<long> CreateAsync(string corpId, string studentUserId, string kind, string? purpose, string detail, (string CorpId, string UserId) guardian,
        string status, string? outcome, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition($"""
            INSERT INTO data_requests (corp_id, student_user_id, kind, purpose, detail, guardian_corp_id, guardian_user_id, status, outcome, created_at, decided_at)
            VALUES (@corpId, @studentUserId, @kind, @purpose, @detail, @guardianCorpId, @guardianUserId, @status, @outcome, @now, @decidedAt);
            {db.Dialect.SelectLastInsertId};
            """, new
        {
            corpId, studentUserId, kind, purpose, detail, guardianCorpId = guardian.CorpId, guardianUserId = guardian.UserId, status, outcome, now,
            decidedAt = status == DataRequestStatus.Pending ? (DateTime?)null : now,
        }, cancellationToken: ct));
    }

    public async Task SetApprovalAsync(long id, long approvalId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("UPDATE data_requests SET approval_id = @approvalId WHERE id = @id",
            new { id, approvalId }, cancellationToken: ct));
    }

    /// <summary>Settles a pending request; false when it was settled already (an outcome applied twice).</summary>
    public async Task<bool> SettleAsync(DbTransaction? tx, long id, string status, string outcome, DateTime at, CancellationToken ct)
    {
        var sql = "UPDATE data_requests SET status = @status, outcome = @outcome, decided_at = @at WHERE id = @id AND status = @pending";
        var args = new { id, status, outcome, at, pending = DataRequestStatus.Pending };
        if (tx is not null)
        {
            return await tx.Connection!.ExecuteAsync(new CommandDefinition(sql, args, tx, cancellationToken: ct)) == 1;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(sql, args, cancellationToken: ct)) == 1;
    }

    public async Task<DataRequest?> FindAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<DataRequest>(new CommandDefinition(
            $"SELECT {Columns} FROM data_requests WHERE id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<DataRequest>> ForChildAsync(string corpId, string studentUserId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<DataRequest>(new CommandDefinition(
            $"SELECT {Columns} FROM data_requests WHERE corp_id = @corpId AND student_user_id = @studentUserId ORDER BY id DESC",
            new { corpId, studentUserId }, cancellationToken: ct))).ToList();
    }

    private const string Columns =
        "id, corp_id, student_user_id, kind, purpose, detail, guardian_corp_id, guardian_user_id, status, outcome, approval_id, created_at, decided_at";
}

/// <summary>
/// Erasing a child's data of one purpose (docs/privacy.md "Deletion"): what identifies the child is removed, and what
/// the de-identified statistics are built from stays, under a random stand-in for the child, so that every figure,
/// rebuilt or not, is what it was. Consent records are kept: they prove the processing was lawful (at least 3 years).
/// </summary>
internal sealed class ChildDataEraser(IOptions<PrivacyOptions> options, ConsentService consents, TimeProvider time)
{
    /// <summary>Why the purpose's data must be kept for now, in Chinese for the guardian; null when it may be erased.</summary>
    public async Task<string?> HoldAsync(DbTransaction tx, string corpId, string studentUserId, string purpose, CancellationToken ct)
    {
        if (consents.BasisOf(purpose) == LegalBasis.StatutoryDuty)
        {
            return "该用途依法定职责处理（Privacy:LegalBasis），在校期间相关记录须随学籍保存，暂不能删除。";
        }

        return purpose == ConsentPurpose.AfterSchoolCare ? await SafetyHoldAsync(tx, corpId, studentUserId, ct) : null;
    }

    /// <summary>
    /// Why the child's after-school records must still be kept: attendance, handovers and delegates are safety records,
    /// kept while the program runs and <see cref="PrivacyOptions.CareRecordsKeptAfterProgram"/> after it. Null when not.
    /// </summary>
    public async Task<string?> SafetyHoldAsync(DbTransaction tx, string corpId, string studentUserId, CancellationToken ct)
    {
        var lastEnd = await tx.Connection!.QuerySingleOrDefaultAsync<DateOnly?>(new CommandDefinition("""
            SELECT MAX(p.ends_on) FROM care_applications a JOIN care_programs p ON p.id = a.program_id
            WHERE a.corp_id = @corpId AND a.student_user_id = @studentUserId
            """, new { corpId, studentUserId }, tx, cancellationToken: ct));
        var keptUntil = lastEnd?.AddDays((int)options.Value.CareRecordsKeptAfterProgram.TotalDays);
        return keptUntil is { } until && ShanghaiTime.Today(time) <= until
            ? string.Create(CultureInfo.InvariantCulture,
                $"课后服务的考勤、接送交接等安全记录须保存至项目结束后 {options.Value.CareRecordsKeptAfterProgram.TotalDays:0} 天（{until:yyyy-MM-dd}），届时可再申请删除。")
            : null;
    }

    /// <summary>Erases the child's data of the purpose inside <paramref name="tx"/>; what was done, for the outcome.</summary>
    public async Task<string> EraseAsync(DbTransaction tx, string corpId, string studentUserId, string purpose, CancellationToken ct)
    {
        var standIn = $"erased:{Guid.NewGuid():N}";
        var args = new { corpId, studentUserId, standIn };
        var connection = tx.Connection!;
        Task<int> Run(string sql) => connection.ExecuteAsync(new CommandDefinition(sql, args, tx, cancellationToken: ct));
        if (purpose == ConsentPurpose.VisionScreening)
        {
            var history = await Run("DELETE FROM vision_record_history WHERE corp_id = @corpId AND student_user_id = @studentUserId")
                          + await Run("DELETE FROM vision_records_transferred WHERE corp_id = @corpId AND student_user_id = @studentUserId");
            // The class, sex, age and the classification stay (the statistics' cells are rebuilt from them); every
            // measured value, the birth date and who entered it go.
            var records = await Run("""
                UPDATE vision_records SET student_user_id = @standIn, birth_date = screened_on, ucva_r = NULL, ucva_l = NULL, walk_distance_r = NULL,
                    walk_distance_l = NULL, cva_r = NULL, cva_l = NULL, sphere_r = NULL, cylinder_r = NULL, axis_r = NULL, sphere_l = NULL,
                    cylinder_l = NULL, axis_l = NULL, axial_length_r = NULL, axial_length_l = NULL, not_testable_reason = NULL, se_r = NULL,
                    se_l = NULL, eyes_sealed = NULL, input_hash = 'erased', entered_by_user_id = 'erased'
                WHERE corp_id = @corpId AND student_user_id = @studentUserId
                """);
            var referrals = await Run("""
                UPDATE vision_referrals SET student_user_id = @standIn, acknowledged_by_user_id = NULL, visit_date = NULL, hospital = NULL,
                    diagnosis = NULL, prescription = NULL
                WHERE corp_id = @corpId AND student_user_id = @studentUserId
                """);
            return $"视力筛查：{records} 条记录、{referrals} 条转诊已去标识化（统计保持不变），{history} 条历史版本及转入记录已删除。";
        }

        const string ofChild = "SELECT id FROM care_applications WHERE corp_id = @corpId AND student_user_id = @studentUserId";
        var delegates = await Run($"DELETE FROM care_delegates WHERE application_id IN ({ofChild})");
        await Run($"UPDATE care_handovers SET collected_by = '', relation = '', reason = NULL WHERE application_id IN ({ofChild})");
        await Run($"UPDATE care_leaves SET reason = '' WHERE application_id IN ({ofChild})");
        var applications = await Run("""
            UPDATE care_applications SET student_user_id = @standIn, guardian_user_id = @standIn, on_behalf_by_user_id = NULL, pickup = '[]'
            WHERE corp_id = @corpId AND student_user_id = @studentUserId
            """);
        return $"课后服务：{applications} 份报名已去标识化（接送人、请假原因、交接人已删除，统计保持不变），{delegates} 条代接记录已删除。";
    }
}

/// <summary>
/// A guardian's correction or deletion request, decided by the school's admins (docs/privacy.md). Approved: a
/// correction is done by the school (the approval records it), a deletion is carried out here unless a retention duty
/// arose meanwhile; rejected: refused with the admin's reason. The subject id is the request's id.
/// </summary>
internal sealed class DataRequestApprovalKind(DataRequestRepository requests, ChildDataEraser eraser, AuditLog audit, TimeProvider time) : IApprovalKind
{
    public const string Name = "data-request";

    public string Kind => Name;

    public string DisplayName => "个人信息更正/删除申请";

    public ApprovalChain DefaultChain { get; } = new([new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any)]);

    public async Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct)
    {
        if (!ApprovalStatus.IsFinal(request.Status) || await requests.FindAsync(long.Parse(request.SubjectId, CultureInfo.InvariantCulture), ct)
                is not { Status: DataRequestStatus.Pending } subject)
        {
            return;
        }

        var at = request.DecidedAt ?? time.UtcNowForDatabase();
        var (status, outcome) = await requests.Database.InTransactionAsync<(string? Status, string? Outcome)>(async (tx, token) =>
        {
            (string Status, string Outcome) settled = request.Status switch
            {
                ApprovalStatus.Withdrawn => (DataRequestStatus.Withdrawn, "监护人已撤回申请。"),
                ApprovalStatus.Rejected => (DataRequestStatus.Refused, $"学校未予办理：{decision?.Comment ?? "（未说明理由）"}"),
                _ when subject.Kind == DataRequestKind.Correction => (DataRequestStatus.Done, $"学校已更正。{decision?.Comment}".Trim()),
                _ when await eraser.HoldAsync(tx, subject.CorpId, subject.StudentUserId, subject.Purpose!, token) is { } hold =>
                    (DataRequestStatus.Refused, hold),
                _ => (DataRequestStatus.Done, await eraser.EraseAsync(tx, subject.CorpId, subject.StudentUserId, subject.Purpose!, token)),
            };
            return await requests.SettleAsync(tx, subject.Id, settled.Status, settled.Outcome, at, token) ? settled : (null, null);
        }, ct);
        if (status is not null)
        {
            await audit.WriteAsync(decision?.ActorCorpId ?? subject.CorpId, decision?.ActorUserId ?? "system", DataRequestEndpoints.OutcomeAction,
                subject.CorpId, status == DataRequestStatus.Done && subject.Kind == DataRequestKind.Deletion ? [] : [subject.StudentUserId],
                $"data request #{subject.Id} ({subject.Kind} {subject.Purpose}): {status}: {outcome}", AuditLog.Allowed, ct);
        }
    }
}
