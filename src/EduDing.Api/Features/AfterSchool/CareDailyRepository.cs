using System.Data.Common;
using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>Leave reported for a range of days.</summary>
internal sealed record CareLeave(long Id, long ApplicationId, DateOnly FromDay, DateOnly ToDay, string Reason);

/// <summary>A one-day delegate collector (代接).</summary>
internal sealed record CareDelegate(long ApplicationId, DateOnly Day, string Name, string Relation, string Phone);

internal sealed record RollEntry(long ApplicationId, string Status, bool LateEntry);

internal sealed record Handover(long ApplicationId, string CollectedBy, string Relation, bool Listed, string? Reason, DateTime At);

/// <summary>The daily loop's records: leave, delegates, the roll, handovers, and alerts claimed once.</summary>
internal sealed class CareDailyRepository(Database db)
{
    public async Task<long> AddLeaveAsync(long applicationId, DateOnly from, DateOnly to, string reason, string byCorpId, string byUserId, DateTime now,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition($"""
            INSERT INTO care_leaves (application_id, from_day, to_day, reason, reported_by_corp_id, reported_by_user_id, reported_at)
            VALUES (@applicationId, @from, @to, @reason, @byCorpId, @byUserId, @now);
            {db.Dialect.SelectLastInsertId};
            """, new { applicationId, from, to, reason, byCorpId, byUserId, now }, cancellationToken: ct));
    }

    /// <summary>Of these applications, those with leave covering the day.</summary>
    public async Task<IReadOnlySet<long>> OnLeaveAsync(IReadOnlyCollection<long> applicationIds, DateOnly day, CancellationToken ct)
    {
        if (applicationIds.Count == 0)
        {
            return new HashSet<long>();
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT application_id FROM care_leaves WHERE application_id IN @ids AND from_day <= @day AND to_day >= @day",
            new { ids = applicationIds.ToList(), day }, cancellationToken: ct))).ToHashSet();
    }

    public async Task SetDelegateAsync(CareDelegate delegation, string byUserId, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            db.Dialect.Upsert("care_delegates", ["application_id", "day"], ["name", "relation", "phone", "set_by_user_id", "set_at"]),
            new
            {
                application_id = delegation.ApplicationId, day = delegation.Day, name = delegation.Name, relation = delegation.Relation,
                phone = db.Fields.Protect(delegation.Phone), set_by_user_id = byUserId, set_at = now,
            }, cancellationToken: ct));
    }

    public async Task<IReadOnlyDictionary<long, CareDelegate>> DelegatesAsync(IReadOnlyCollection<long> applicationIds, DateOnly day,
        CancellationToken ct)
    {
        if (applicationIds.Count == 0)
        {
            return new Dictionary<long, CareDelegate>();
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CareDelegate>(new CommandDefinition(
            "SELECT application_id, day, name, relation, phone FROM care_delegates WHERE application_id IN @ids AND day = @day",
            new { ids = applicationIds.ToList(), day }, cancellationToken: ct)))
            .ToDictionary(d => d.ApplicationId, d => d with { Phone = db.Fields.Unprotect(d.Phone) });
    }

    /// <summary>Records the roll of one offering and day, each child once (a later mark replaces an earlier one).</summary>
    public Task SaveRollAsync(long offeringId, DateOnly day, IReadOnlyList<(long ApplicationId, string Status)> entries, bool lateEntry, string byUserId,
        DateTime now, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            foreach (var (applicationId, status) in entries)
            {
                await tx.Connection!.ExecuteAsync(new CommandDefinition(
                    db.Dialect.Upsert("care_roll", ["application_id", "offering_id", "day"], ["status", "late_entry", "marked_by_user_id", "marked_at"]),
                    new
                    {
                        application_id = applicationId, offering_id = offeringId, day, status, late_entry = lateEntry, marked_by_user_id = byUserId,
                        marked_at = now,
                    }, tx, cancellationToken: token));
            }
        }, ct);

    public async Task<IReadOnlyDictionary<long, RollEntry>> RollAsync(long offeringId, DateOnly day, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<RollEntry>(new CommandDefinition(
            "SELECT application_id, status, late_entry FROM care_roll WHERE offering_id = @offeringId AND day = @day",
            new { offeringId, day }, cancellationToken: ct))).ToDictionary(r => r.ApplicationId);
    }

    public async Task SaveHandoverAsync(long applicationId, DateOnly day, string collectedBy, string relation, bool listed, string? reason,
        string byUserId, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            db.Dialect.Upsert("care_handovers", ["application_id", "day"], ["collected_by", "relation", "listed", "reason", "recorded_by_user_id", "at"]),
            new
            {
                application_id = applicationId, day, collected_by = collectedBy, relation, listed, reason, recorded_by_user_id = byUserId, at = now,
            }, cancellationToken: ct));
    }

    public async Task<IReadOnlyDictionary<long, Handover>> HandoversAsync(IReadOnlyCollection<long> applicationIds, DateOnly day, CancellationToken ct)
    {
        if (applicationIds.Count == 0)
        {
            return new Dictionary<long, Handover>();
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<Handover>(new CommandDefinition(
            "SELECT application_id, collected_by, relation, listed, reason, at FROM care_handovers WHERE application_id IN @ids AND day = @day",
            new { ids = applicationIds.ToList(), day }, cancellationToken: ct))).ToDictionary(h => h.ApplicationId);
    }

    /// <summary>The approved applications enrolled in an offering.</summary>
    public async Task<IReadOnlyList<CareApplication>> EnrolledAsync(long offeringId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CareApplication>(new CommandDefinition("""
            SELECT a.id, a.program_id, a.corp_id, a.student_user_id, a.class_id, a.guardian_corp_id, a.guardian_user_id, a.on_behalf_by_user_id,
                   a.weekdays, a.pickup, a.priority, a.exemption, a.terms_version, a.status, a.submitted_at, a.decided_at
            FROM care_places p JOIN care_applications a ON a.id = p.application_id
            WHERE p.offering_id = @offeringId AND p.status = 'enrolled' AND a.status = 'approved'
            ORDER BY a.id
            """, new { offeringId }, cancellationToken: ct))).Select(a => CareRepository.Opened(db, a)).ToList();
    }

    /// <summary>Claims one alert for a child, day and kind; false when it was sent (or is being sent) already.</summary>
    public async Task<bool> TryClaimAlertAsync(long applicationId, DateOnly day, string kind, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO care_alerts (application_id, day, kind, sent_at) VALUES (@applicationId, @day, @kind, @now)",
                new { applicationId, day, kind, now }, cancellationToken: ct));
            return true;
        }
        catch (DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            return false;
        }
    }

    // ---- roll corrections ----

    private const string CorrectionColumns = """
        id, offering_id, application_id, day, from_status, to_status, reason, requested_by_user_id, requested_at, status, decided_at
        """;

    /// <summary>A pending correction of one child's mark on a day; null when one is already pending for it.</summary>
    public Task<long?> AddCorrectionAsync(long offeringId, long applicationId, DateOnly day, string? from, string to, string reason, string byUserId,
        DateTime now, CancellationToken ct) =>
        db.InTransactionAsync<long?>(async (tx, token) =>
        {
            // The day's mark row is taken first, so that two requests for the same mark queue and the second sees the first.
            await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                UPDATE care_roll SET marked_at = marked_at WHERE application_id = @applicationId AND offering_id = @offeringId AND day = @day
                """, new { offeringId, applicationId, day }, tx, cancellationToken: token));
            if (await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition($"""
                    SELECT COUNT(*) FROM care_roll_corrections
                    WHERE offering_id = @offeringId AND application_id = @applicationId AND day = @day AND status = 'pending'{db.Dialect.ForUpdate}
                    """, new { offeringId, applicationId, day }, tx, cancellationToken: token)) > 0)
            {
                return null;
            }

            return await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
                INSERT INTO care_roll_corrections (offering_id, application_id, day, from_status, to_status, reason, requested_by_user_id, requested_at, status)
                VALUES (@offeringId, @applicationId, @day, @from, @to, @reason, @byUserId, @now, 'pending');
                {db.Dialect.SelectLastInsertId};
                """, new { offeringId, applicationId, day, from, to, reason, byUserId, now }, tx, cancellationToken: token));
        }, ct);

    public async Task<RollCorrection?> FindCorrectionAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<RollCorrection>(new CommandDefinition(
            $"SELECT {CorrectionColumns} FROM care_roll_corrections WHERE id = @id", new { id }, cancellationToken: ct));
    }

    /// <summary>Settles a pending correction once: approved, its mark replaces the day's mark as a late entry by the requester.</summary>
    public Task<bool> SettleCorrectionAsync(long id, bool approved, DateTime now, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            if (await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE care_roll_corrections SET status = @status, decided_at = @now WHERE id = @id AND status = 'pending'
                    """, new { id, status = approved ? "approved" : "rejected", now }, tx, cancellationToken: token)) == 0)
            {
                return false;
            }

            if (approved)
            {
                var correction = await connection.QuerySingleAsync<RollCorrection>(new CommandDefinition(
                    $"SELECT {CorrectionColumns} FROM care_roll_corrections WHERE id = @id", new { id }, tx, cancellationToken: token));
                await connection.ExecuteAsync(new CommandDefinition(
                    db.Dialect.Upsert("care_roll", ["application_id", "offering_id", "day"], ["status", "late_entry", "marked_by_user_id", "marked_at"]),
                    new
                    {
                        application_id = correction.ApplicationId, offering_id = correction.OfferingId, day = correction.Day, status = correction.ToStatus,
                        late_entry = true, marked_by_user_id = correction.RequestedByUserId, marked_at = now,
                    }, tx, cancellationToken: token));
            }

            return true;
        }, ct);
}
