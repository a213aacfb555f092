using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Vision;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Privacy;

/// <summary>What one run of the retention job did.</summary>
internal sealed record RetentionRunDto(long Id, DateTime StartedAt, DateTime FinishedAt, int Transfers, int TransferredRecords, int VisionErased,
    int CareErased, int CareHeld);

/// <summary>
/// Retention and 学籍 transfer (docs/privacy.md): a child who left a school and appears in another school of the same
/// unionId space within <see cref="PrivacyOptions.TransferWindow"/> takes their vision history there; a leaver's data is
/// de-identified once <see cref="PrivacyOptions.LeaverRecordsKept"/> has passed (statistics unchanged). One instance
/// runs it at a time (a lease); each transfer is recorded once, so a run cut short is picked up by the next.
/// </summary>
internal sealed class RetentionService(Database db, LeaseRepository leases, ServiceInstance instance, CorpDirectory corps, ChildDataEraser eraser,
    AuditLog audit, IOptions<PrivacyOptions> options, TimeProvider time, ILogger<RetentionService> log)
{
    public const string LeaseName = "privacy-retention";

    private PrivacyOptions Settings => options.Value;

    /// <summary>One run; null when another instance holds the lease.</summary>
    public async Task<RetentionRunDto?> RunAsync(CancellationToken ct)
    {
        if (!await leases.TryAcquireAsync(LeaseName, instance.Id, TimeSpan.FromMinutes(30), ct))
        {
            return null;
        }

        try
        {
            var started = time.UtcNowForDatabase();
            var (transfers, transferred) = await TransferAsync(started, ct);
            var (visionErased, careErased, careHeld) = await EraseLeaversAsync(started, ct);
            var finished = time.UtcNowForDatabase();
            await using var connection = await db.OpenConnectionAsync(ct);
            var id = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"""
                INSERT INTO retention_runs (started_at, finished_at, transfers, transferred_records, vision_erased, care_erased, care_held)
                VALUES (@started, @finished, @transfers, @transferred, @visionErased, @careErased, @careHeld);
                {db.Dialect.SelectLastInsertId};
                """, new { started, finished, transfers, transferred, visionErased, careErased, careHeld }, cancellationToken: ct));
            if (transfers + visionErased + careErased > 0)
            {
                log.LogInformation("Retention run {Id}: {Transfers} transfers ({Records} vision records), {Vision} leavers' vision data and {Care} " +
                                   "leavers' after-school data de-identified, {Held} held", id, transfers, transferred, visionErased, careErased, careHeld);
            }

            return new RetentionRunDto(id, started, finished, transfers, transferred, visionErased, careErased, careHeld);
        }
        finally
        {
            await leases.ReleaseAsync(LeaseName, instance.Id, CancellationToken.None);
        }
    }

    /// <summary>Leavers within the window whose unionId is a current student's of another school in the same space: their vision history moves.</summary>
    private async Task<(int Transfers, int Records)> TransferAsync(DateTime now, CancellationToken ct)
    {
        List<(string FromCorp, string FromStudent, string ToCorp, string ToStudent)> candidates;
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            candidates = (await connection.QueryAsync<(string, string, string, string)>(new CommandDefinition("""
                SELECT l.corp_id, l.user_id, s.corp_id, s.user_id
                FROM students l
                JOIN students s ON s.union_id = l.union_id AND s.corp_id <> l.corp_id AND s.removed_at IS NULL
                WHERE l.removed_at IS NOT NULL AND l.removed_at > @since AND l.union_id IS NOT NULL AND l.union_id <> ''
                  AND NOT EXISTS (SELECT 1 FROM student_transfers t WHERE t.from_corp_id = l.corp_id AND t.from_student_user_id = l.user_id)
                  AND EXISTS (SELECT 1 FROM vision_records r WHERE r.corp_id = l.corp_id AND r.student_user_id = l.user_id)
                """, new { since = now - Settings.TransferWindow }, cancellationToken: ct))).ToList();
        }

        var (transfers, records) = (0, 0);
        // A unionId means the same person only between corps of one unionId space (one developer account).
        foreach (var (fromCorp, fromStudent, toCorp, toStudent) in candidates.Where(c => corps.SameUnionIdSpace(c.FromCorp).Contains(c.ToCorp))
                     .DistinctBy(c => (c.FromCorp, c.FromStudent)))
        {
            var moved = await db.InTransactionAsync(async (tx, token) =>
            {
                var args = new { fromCorp, fromStudent, toCorp, toStudent, now };
                if (await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition("""
                        SELECT COUNT(*) FROM student_transfers WHERE from_corp_id = @fromCorp AND from_student_user_id = @fromStudent
                        """, args, tx, cancellationToken: token)) > 0)
                {
                    return -1;
                }

                var columns = VisionRepository.RecordColumns.Replace("corp_id, student_user_id", "@toCorp, @toStudent", StringComparison.Ordinal);
                var count = await tx.Connection!.ExecuteAsync(new CommandDefinition($"""
                    INSERT INTO vision_records_transferred ({VisionRepository.RecordColumns}, from_corp_id, from_student_user_id, transferred_at)
                    SELECT {columns}, corp_id, student_user_id, @now FROM vision_records WHERE corp_id = @fromCorp AND student_user_id = @fromStudent
                    """, args, tx, cancellationToken: token));
                await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO student_transfers (from_corp_id, from_student_user_id, to_corp_id, to_student_user_id, records, transferred_at)
                    VALUES (@fromCorp, @fromStudent, @toCorp, @toStudent, @count, @now)
                    """, new { fromCorp, fromStudent, toCorp, toStudent, count, now }, tx, cancellationToken: token));
                return count;
            }, ct);
            if (moved < 0)
            {
                continue;
            }

            transfers++;
            records += moved;
            await audit.WriteAsync("system", "retention", "privacy.transfer", toCorp, [toStudent],
                $"vision history of {fromCorp}/{fromStudent} ({moved} records) moved with 学籍", AuditLog.Allowed, ct);
        }

        return (transfers, records);
    }

    /// <summary>Leavers past the retention period: their vision and after-school data de-identified (unless a care hold still applies).</summary>
    private async Task<(int Vision, int Care, int Held)> EraseLeaversAsync(DateTime now, CancellationToken ct)
    {
        List<(string CorpId, string StudentUserId)> leavers;
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            leavers = (await connection.QueryAsync<(string, string)>(new CommandDefinition("""
                SELECT l.corp_id, l.user_id FROM students l
                WHERE l.removed_at IS NOT NULL AND l.removed_at <= @before
                  AND (EXISTS (SELECT 1 FROM vision_records r WHERE r.corp_id = l.corp_id AND r.student_user_id = l.user_id)
                       OR EXISTS (SELECT 1 FROM care_applications a WHERE a.corp_id = l.corp_id AND a.student_user_id = l.user_id))
                """, new { before = now - Settings.LeaverRecordsKept }, cancellationToken: ct))).ToList();
        }

        var (vision, care, held) = (0, 0, 0);
        foreach (var (corpId, studentUserId) in leavers)
        {
            var outcome = await db.InTransactionAsync(async (tx, token) =>
            {
                var erased = (Vision: 0, Care: 0, Held: 0);
                if (await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(
                        "SELECT COUNT(*) FROM vision_records WHERE corp_id = @corpId AND student_user_id = @studentUserId",
                        new { corpId, studentUserId }, tx, cancellationToken: token)) > 0)
                {
                    await eraser.EraseAsync(tx, corpId, studentUserId, ConsentPurpose.VisionScreening, token);
                    erased.Vision = 1;
                }

                if (await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(
                        "SELECT COUNT(*) FROM care_applications WHERE corp_id = @corpId AND student_user_id = @studentUserId",
                        new { corpId, studentUserId }, tx, cancellationToken: token)) > 0)
                {
                    if (await eraser.SafetyHoldAsync(tx, corpId, studentUserId, token) is null)
                    {
                        await eraser.EraseAsync(tx, corpId, studentUserId, ConsentPurpose.AfterSchoolCare, token);
                        erased.Care = 1;
                    }
                    else
                    {
                        erased.Held = 1;
                    }
                }

                return erased;
            }, ct);
            vision += outcome.Vision;
            care += outcome.Care;
            held += outcome.Held;
            if (outcome.Vision + outcome.Care > 0)
            {
                await audit.WriteAsync("system", "retention", "privacy.retention.erase", corpId, [],
                    $"a leaver's data past the retention period de-identified (vision {outcome.Vision}, after-school {outcome.Care})", AuditLog.Allowed, ct);
            }
        }

        return (vision, care, held);
    }

    public async Task<IReadOnlyList<RetentionRunDto>> RunsAsync(int take, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<RetentionRunDto>(new CommandDefinition("""
            SELECT id, started_at, finished_at, transfers, transferred_records, vision_erased, care_erased, care_held
            FROM retention_runs ORDER BY id DESC LIMIT @take
            """, new { take }, cancellationToken: ct))).ToList();
    }
}

/// <summary>The retention job's loop (<see cref="RetentionService.RunAsync"/>).</summary>
internal sealed class RetentionWorker(IServiceScopeFactory scopes, IOptions<PrivacyOptions> options, TimeProvider time, ILogger<RetentionWorker> log)
    : PeriodicWorker(scopes, time, log)
{
    protected override bool Enabled => options.Value.RunRetention;

    protected override TimeSpan Interval => options.Value.RetentionInterval;

    protected override Task RunOnceAsync(IServiceProvider services, CancellationToken ct) =>
        services.GetRequiredService<RetentionService>().RunAsync(ct);
}
