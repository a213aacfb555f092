using System.ComponentModel;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Privacy;

/// <summary>One category of children's personal information EduDing holds: how many children, how many rows, and why.</summary>
internal sealed record DataCategoryDto(string Category, string Label, bool Sensitive, string Purpose, long Children, long Rows);

/// <summary>Who read, as the record of processing groups readers.</summary>
internal static class ReaderRole
{
    [Description("教育局工作人员")]
    public const string BureauStaff = Roles.BureauStaff;

    [Description("学校教职工")]
    public const string SchoolStaff = Roles.SchoolStaff;

    [Description("家长")]
    public const string Guardian = Roles.Guardian;

    [Description("已不在通讯录")]
    public const string Former = "former";
}

/// <summary>Reads and decisions on identifiable records in the period, by the actor's role, the action and its outcome.</summary>
internal sealed record AccessByRoleDto([property: CodeValues(typeof(ReaderRole))] string Role, string Action, [property: CodeValues(typeof(Audit.AuditLog))] string Outcome, long Entries,
    long Actors, long Children);

/// <summary>An export of identifiable data, or an audit extract, in the period.</summary>
internal sealed record ExportDto(long AuditId, DateTime At, string ActorCorpId, string ActorUserId, string Action, string SubjectCorpId, string Reason);

/// <summary>An access grant to a school's identifiable records that was in force at some time in the period.</summary>
internal sealed record GrantDto(long Id, string SchoolCorpId, string GranteeCorpId, string GranteeUserId, string Purpose, string GrantedByUserId,
    DateTime GrantedAt, DateTime ExpiresAt, DateTime? RevokedAt, DateTime? ConfirmedAt, DateTime? RefusedAt);

/// <summary>The record of processing for a PIPIA (个人信息保护影响评估): what is held, who read it, what left, who was let in.</summary>
internal sealed record ProcessingRecordsDto(DateOnly From, DateOnly To, DateTime GeneratedAt, IReadOnlyList<DataCategoryDto> Categories,
    IReadOnlyList<AccessByRoleDto> Access, IReadOnlyList<ExportDto> Exports, int ExportsOmitted, IReadOnlyList<GrantDto> Grants);

/// <summary>
/// The bureau's record of processing of children's personal information (PIPL art. 54–56; docs/privacy.md): the
/// categories held and for how many children, the reads of identifiable records in a period by role and action (from
/// the audit log), the exports made, and the access grants in force. Counts only: the report names no child.
/// </summary>
internal sealed class ProcessingRecords(Database db, CorpDirectory corps, TimeProvider time)
{
    /// <summary>The most exports listed one by one; the rest are counted.</summary>
    public const int MaxExports = 1000;

    private static readonly (string Category, string Label, bool Sensitive, string Purpose, string Children, string Rows)[] Categories =
    [
        ("roster", "学生名册（姓名、学号、班级）", false, "家校通讯录同步，用于通知与各项业务",
            "SELECT COUNT(*) FROM students WHERE removed_at IS NULL", "SELECT COUNT(*) FROM class_members WHERE role = 'student'"),
        ("vision-records", "视力筛查记录（视力、屈光、眼轴）", true, "明眸工程：近视筛查、分类与统计",
            "SELECT COUNT(*) FROM (SELECT DISTINCT corp_id, student_user_id FROM vision_records) x", "SELECT COUNT(*) FROM vision_records"),
        ("vision-referrals", "转诊记录（就诊医院、诊断、处方）", true, "筛查异常的转诊与就诊跟踪",
            "SELECT COUNT(*) FROM (SELECT DISTINCT corp_id, student_user_id FROM vision_referrals) x", "SELECT COUNT(*) FROM vision_referrals"),
        ("care-applications", "课后服务报名（接送人姓名、关系、电话，优先与减免类别）", true, "课后服务报名、审核与接送安全",
            "SELECT COUNT(*) FROM (SELECT DISTINCT corp_id, student_user_id FROM care_applications) x", "SELECT COUNT(*) FROM care_applications"),
        ("care-attendance", "课后服务考勤与请假", false, "课后服务点名、请假与缺勤提醒",
            "SELECT COUNT(*) FROM (SELECT DISTINCT a.corp_id, a.student_user_id FROM care_roll r JOIN care_applications a ON a.id = r.application_id) x",
            "SELECT COUNT(*) FROM care_roll"),
        ("care-handovers", "接送交接与代接人（姓名、电话）", true, "放学交接安全",
            "SELECT COUNT(*) FROM (SELECT DISTINCT a.corp_id, a.student_user_id FROM care_handovers h JOIN care_applications a ON a.id = h.application_id) x",
            "SELECT (SELECT COUNT(*) FROM care_handovers) + (SELECT COUNT(*) FROM care_delegates)"),
        ("vision-transfers", "随学籍转入的视力筛查记录", true, "学生转学后，其视力健康档案随学籍转至新学校",
            "SELECT COUNT(*) FROM (SELECT DISTINCT corp_id, student_user_id FROM vision_records_transferred) x", "SELECT COUNT(*) FROM vision_records_transferred"),
        ("consents", "监护人同意记录（用途、版本、时间、作答的监护人）", false, "证明处理儿童个人信息已告知并取得同意（至少保存3年）",
            "SELECT COUNT(*) FROM (SELECT DISTINCT corp_id, student_user_id FROM consent_records) x", "SELECT COUNT(*) FROM consent_records"),
    ];

    public async Task<ProcessingRecordsDto> ReportAsync(DateOnly from, DateOnly to, CancellationToken ct)
    {
        var (start, end) = ShanghaiTime.DaysUtc(from, to);
        await using var connection = await db.OpenConnectionAsync(ct);

        var categories = new List<DataCategoryDto>();
        foreach (var c in Categories)
        {
            categories.Add(new DataCategoryDto(c.Category, c.Label, c.Sensitive, c.Purpose,
                await connection.ExecuteScalarAsync<long>(new CommandDefinition(c.Children, cancellationToken: ct)),
                await connection.ExecuteScalarAsync<long>(new CommandDefinition(c.Rows, cancellationToken: ct))));
        }

        // Entries that name children: the reads and decisions on identifiable records.
        var entries = (await connection.QueryAsync<(string ActorCorpId, string ActorUserId, string Action, string Outcome, string Students)>(
            new CommandDefinition("""
                SELECT actor_corp_id, actor_user_id, action, outcome, student_user_ids FROM audit_log
                WHERE at >= @start AND at < @end AND student_user_ids <> ''
                """, new { start, end }, cancellationToken: ct))).ToList();
        var roles = await RolesAsync(connection, entries.Select(e => (e.ActorCorpId, e.ActorUserId)).Distinct().ToList(), ct);
        var access = entries.GroupBy(e => (Role: roles[(e.ActorCorpId, e.ActorUserId)], e.Action, e.Outcome))
            .Select(g => new AccessByRoleDto(g.Key.Role, g.Key.Action, g.Key.Outcome, g.Count(),
                g.Select(e => (e.ActorCorpId, e.ActorUserId)).Distinct().Count(),
                g.SelectMany(e => e.Students.Split(',', StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).Count()))
            .OrderBy(a => a.Role, StringComparer.Ordinal).ThenBy(a => a.Action, StringComparer.Ordinal).ThenBy(a => a.Outcome, StringComparer.Ordinal)
            .ToList();

        const string exportFilter = "at >= @start AND at < @end AND (action LIKE '%export%' OR action = 'audit.extract')";
        var exports = (await connection.QueryAsync<ExportDto>(new CommandDefinition($"""
            SELECT id AS audit_id, at, actor_corp_id, actor_user_id, action, subject_corp_id, reason FROM audit_log
            WHERE {exportFilter} ORDER BY id LIMIT @take
            """, new { start, end, take = MaxExports }, cancellationToken: ct))).ToList();
        var exportCount = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT COUNT(*) FROM audit_log WHERE {exportFilter}", new { start, end }, cancellationToken: ct));

        var grants = (await connection.QueryAsync<GrantDto>(new CommandDefinition("""
            SELECT id, school_corp_id, grantee_corp_id, grantee_user_id, purpose, granted_by_user_id, granted_at, expires_at, revoked_at,
                   confirmed_at, refused_at
            FROM access_grants
            WHERE granted_at < @end AND expires_at >= @start AND (revoked_at IS NULL OR revoked_at >= @start)
            ORDER BY id
            """, new { start, end }, cancellationToken: ct))).ToList();

        return new ProcessingRecordsDto(from, to, time.GetUtcNow().UtcDateTime, categories, access, exports, exportCount - exports.Count, grants);
    }

    /// <summary>
    /// Each actor's role where they acted: bureau staff (the bureau's corp), school staff, a guardian, or someone no
    /// longer in the mirror ("former").
    /// </summary>
    private async Task<Dictionary<(string CorpId, string UserId), string>> RolesAsync(System.Data.Common.DbConnection connection,
        IReadOnlyList<(string CorpId, string UserId)> actors, CancellationToken ct)
    {
        var roles = new Dictionary<(string, string), string>();
        foreach (var corp in actors.GroupBy(a => a.CorpId))
        {
            var ids = corp.Select(a => a.UserId).ToList();
            var staff = new HashSet<string>(StringComparer.Ordinal);
            var guardians = new HashSet<string>(StringComparer.Ordinal);
            foreach (var chunk in ids.Chunk(500))
            {
                staff.UnionWith(await connection.QueryAsync<string>(new CommandDefinition(
                    "SELECT user_id FROM staff WHERE corp_id = @corpId AND user_id IN @chunk", new { corpId = corp.Key, chunk }, cancellationToken: ct)));
                guardians.UnionWith(await connection.QueryAsync<string>(new CommandDefinition(
                    "SELECT user_id FROM guardians WHERE corp_id = @corpId AND user_id IN @chunk", new { corpId = corp.Key, chunk }, cancellationToken: ct)));
            }

            var bureau = corps.Find(corp.Key)?.Kind == CorpKind.Bureau;
            foreach (var id in ids)
            {
                roles[(corp.Key, id)] = staff.Contains(id) ? bureau ? ReaderRole.BureauStaff : ReaderRole.SchoolStaff
                    : guardians.Contains(id) ? ReaderRole.Guardian
                    : ReaderRole.Former;
            }
        }

        return roles;
    }
}

internal static class PrivacyEndpoints
{
    public static IServiceCollection AddPrivacy(this IServiceCollection services)
    {
        services.AddSingleton<ProcessingRecords>();
        services.AddValidatedOptions<PrivacyOptions>();
        services.AddSingleton<ConsentRepository>();
        services.AddSingleton<ConsentService>();
        services.AddSingleton<ChildDataExport>();
        services.AddSingleton<DataRequestRepository>();
        services.AddSingleton<ChildDataEraser>();
        services.AddApprovalKind<DataRequestApprovalKind>();
        services.AddSingleton<RetentionService>();
        services.AddHostedService<RetentionWorker>();
        services.AddSingleton<FieldReencryption>();
        services.AddHostedService<ReencryptionWorker>();
        return services;
    }

    public static IEndpointRouteBuilder MapPrivacy(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/privacy/processing-records", ProcessingRecordsAsync).RequireAudience(Audience.Bureau).WithTags("Privacy")
            .WithName("Privacy_ProcessingRecords");
        app.MapConsentEndpoints();
        app.MapDataRequestEndpoints();
        app.MapGet("/api/privacy/retention-runs", RetentionRunsAsync).RequireAudience(Audience.Bureau).WithTags("Privacy")
            .WithName("Privacy_RetentionRuns");
        app.MapGet("/api/privacy/encryption", EncryptionAsync).RequireAudience(Audience.Bureau).WithTags("Privacy")
            .WithName("Privacy_Encryption");
        return app;
    }

    /// <summary>
    /// Encryption at rest (docs/encryption.md): the active key id, how many values of each sealed column are under it,
    /// under an older key or still in the clear, and the re-encryption's passes. Bureau admins. Never a value.
    /// </summary>
    private static async Task<Ok<EncryptionStatusDto>> EncryptionAsync(Caller caller, FieldReencryption reencryption, CancellationToken ct)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            throw new ForbiddenException("Missing scope: admin of the bureau.");
        }

        return TypedResults.Ok(await reencryption.StatusAsync(ct));
    }

    /// <summary>What the retention job did, its latest 100 runs first (bureau admins).</summary>
    private static async Task<Ok<IReadOnlyList<RetentionRunDto>>> RetentionRunsAsync(Caller caller, RetentionService retention, CancellationToken ct)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            throw new ForbiddenException("Missing scope: admin of the bureau.");
        }

        return TypedResults.Ok(await retention.RunsAsync(100, ct));
    }

    /// <summary>
    /// The record of processing for a PIPIA: the children's data held by category, the reads of identifiable records on
    /// Beijing days <c>from</c> to <c>to</c> (the last 30 days by default) by role and action, the exports made and the
    /// access grants in force. Bureau admins; the report is itself audited.
    /// </summary>
    private static async Task<Ok<ProcessingRecordsDto>> ProcessingRecordsAsync(DateOnly? from, DateOnly? to, Caller caller,
        ProcessingRecords records, Audit.AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            throw new ForbiddenException("Missing scope: admin of the bureau.");
        }

        var (first, last) = DayRange.Of(from, to, 30, time);
        var report = await records.ReportAsync(first, last, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "privacy.processing-records", caller.Account.CorpId, [],
            $"processing records {first:yyyy-MM-dd}..{last:yyyy-MM-dd}", Audit.AuditLog.Allowed, ct);
        return TypedResults.Ok(report);
    }
}
