using System.Data.Common;
using System.Globalization;
using System.Text;
using Dapper;
using EduDing.Api.Data;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>An offering's places as the school sees them.</summary>
internal sealed record OfferingPlaces(long OfferingId, int Held, int Enrolled, int Waitlisted, int Applied, int Offered);

/// <summary>A freed place offered to a family, for the message that tells them.</summary>
internal sealed record CareOffer(long ApplicationId, long OfferingId, DateTime ExpiresAt);

/// <summary>The school calendar, programs with their sessions and offerings, applications, and places in offerings.</summary>
internal sealed class CareRepository(Database db, IOptions<AfterSchoolOptions>? options = null)
{
    private readonly TimeSpan _claimWindow = (options?.Value ?? new AfterSchoolOptions()).ClaimWindow;

    public Database Database => db;

    // ---- calendar ----

    public async Task SaveDayAsync(CalendarDay day, string userId, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            db.Dialect.Upsert("school_calendar_days", ["corp_id", "day"], ["kind", "follows_weekday", "ends_at", "note", "updated_at", "updated_by_user_id"]),
            new
            {
                corp_id = day.CorpId, day = day.Day, kind = day.Kind, follows_weekday = day.FollowsWeekday, ends_at = day.EndsAt, note = day.Note,
                updated_at = now, updated_by_user_id = userId,
            }, cancellationToken: ct));
    }

    public async Task<bool> DeleteDayAsync(string corpId, DateOnly day, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM school_calendar_days WHERE corp_id = @corpId AND day = @day", new { corpId, day }, cancellationToken: ct)) == 1;
    }

    public async Task<IReadOnlyList<CalendarDay>> DaysAsync(string corpId, DateOnly from, DateOnly to, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CalendarDay>(new CommandDefinition("""
            SELECT corp_id, day, kind, follows_weekday, ends_at, note FROM school_calendar_days
            WHERE corp_id = @corpId AND day >= @from AND day <= @to ORDER BY day
            """, new { corpId, from, to }, cancellationToken: ct))).ToList();
    }

    // ---- programs ----

    private const string ProgramColumns = """
        id, corp_id, name, kind, starts_on, ends_on, signup_opens_at, signup_closes_at, grade_levels, status, terms, terms_version, fee_unit,
        safety_notes, created_at, created_by_user_id, updated_at
        """;

    private const string OfferingColumns =
        "id, program_id, kind, name, grade_levels, teacher_user_id, content_type, capacity, fee_cents, allocation, version, provider_id, class_ids";

    /// <summary>A draft program with its weekday sessions and offerings, in one transaction.</summary>
    public Task<long> CreateProgramAsync(CareProgram program, IReadOnlyList<CareSession> sessions, IReadOnlyList<CareOffering> offerings,
        CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var id = await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
                INSERT INTO care_programs (corp_id, name, kind, starts_on, ends_on, signup_opens_at, signup_closes_at, grade_levels, status, terms,
                                           terms_version, fee_unit, safety_notes, created_at, created_by_user_id, updated_at)
                VALUES (@CorpId, @Name, @Kind, @StartsOn, @EndsOn, @SignupOpensAt, @SignupClosesAt, @GradeLevels, @Status, @Terms,
                        @TermsVersion, @FeeUnit, @SafetyNotes, @CreatedAt, @CreatedByUserId, @UpdatedAt);
                {db.Dialect.SelectLastInsertId};
                """, new
            {
                program.CorpId, program.Name, program.Kind, program.StartsOn, program.EndsOn, program.SignupOpensAt, program.SignupClosesAt,
                program.GradeLevels, program.Status, program.Terms, program.TermsVersion, program.FeeUnit, program.SafetyNotes, program.CreatedAt,
                program.CreatedByUserId, program.UpdatedAt,
            }, tx, cancellationToken: token));
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "care_program_sessions", ["program_id", "weekday", "starts_at", "ends_at"], sessions,
                s => [id, s.Weekday, s.StartsAt, s.EndsAt], token);
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "care_offerings",
                ["program_id", "kind", "name", "grade_levels", "teacher_user_id", "content_type", "capacity", "fee_cents", "allocation", "version",
                    "provider_id", "class_ids"],
                offerings, o => [id, o.Kind, o.Name, o.GradeLevels, o.TeacherUserId, o.ContentType, o.Capacity, o.FeeCents, o.Allocation, 0, o.ProviderId,
                    o.ClassIds], token);
            return id;
        }, ct);

    public async Task<CareProgram?> FindProgramAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<CareProgram>(new CommandDefinition(
            $"SELECT {ProgramColumns} FROM care_programs WHERE id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<CareProgram>> ProgramsAsync(IReadOnlyCollection<string> corpIds, string? status, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CareProgram>(new CommandDefinition(
            $"SELECT {ProgramColumns} FROM care_programs WHERE corp_id IN @corpIds AND (@status IS NULL OR status = @status) ORDER BY id DESC",
            new { corpIds = corpIds.ToList(), status }, cancellationToken: ct))).ToList();
    }

    /// <summary>A program with its offerings and weekday sessions, in one round trip (what an application is checked against).</summary>
    public async Task<(CareProgram Program, IReadOnlyList<CareOffering> Offerings, IReadOnlyList<CareSession> Sessions)?> ProgramWithDetailsAsync(
        long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition($"""
            SELECT {ProgramColumns} FROM care_programs WHERE id = @id;
            SELECT {OfferingColumns} FROM care_offerings WHERE program_id = @id ORDER BY id;
            SELECT program_id, weekday, starts_at, ends_at FROM care_program_sessions WHERE program_id = @id ORDER BY weekday;
            """, new { id }, cancellationToken: ct));
        var program = await grid.ReadSingleOrDefaultAsync<CareProgram>();
        var offerings = (await grid.ReadAsync<CareOffering>()).ToList();
        var sessions = (await grid.ReadAsync<CareSession>()).ToList();
        return program is null ? null : (program, offerings, sessions);
    }

    public async Task<IReadOnlyList<CareSession>> SessionsAsync(long programId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CareSession>(new CommandDefinition(
            "SELECT program_id, weekday, starts_at, ends_at FROM care_program_sessions WHERE program_id = @programId ORDER BY weekday",
            new { programId }, cancellationToken: ct))).ToList();
    }

    public async Task<IReadOnlyList<CareOffering>> OfferingsAsync(long programId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CareOffering>(new CommandDefinition(
            $"SELECT {OfferingColumns} FROM care_offerings WHERE program_id = @programId ORDER BY id", new { programId }, cancellationToken: ct))).ToList();
    }

    public async Task<CareOffering?> FindOfferingAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<CareOffering>(new CommandDefinition(
            $"SELECT {OfferingColumns} FROM care_offerings WHERE id = @id", new { id }, cancellationToken: ct));
    }

    /// <summary>Open programs running on a day (any school): what the daily alerts look at.</summary>
    public async Task<IReadOnlyList<CareProgram>> RunningOnAsync(DateOnly day, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CareProgram>(new CommandDefinition(
            $"SELECT {ProgramColumns} FROM care_programs WHERE status = 'open' AND starts_on <= @day AND ends_on >= @day ORDER BY id",
            new { day }, cancellationToken: ct))).ToList();
    }

    public async Task<long> AddOfferingAsync(long programId, CareOffering o, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition($"""
            INSERT INTO care_offerings (program_id, kind, name, grade_levels, teacher_user_id, content_type, capacity, fee_cents, allocation, version,
                                        provider_id, class_ids)
            VALUES (@programId, @Kind, @Name, @GradeLevels, @TeacherUserId, @ContentType, @Capacity, @FeeCents, @Allocation, 0, @ProviderId, @ClassIds);
            {db.Dialect.SelectLastInsertId};
            """, new { programId, o.Kind, o.Name, o.GradeLevels, o.TeacherUserId, o.ContentType, o.Capacity, o.FeeCents, o.Allocation, o.ProviderId, o.ClassIds },
            cancellationToken: ct));
    }

    /// <summary>
    /// Basic care groups holding more children than their capacity whose school was not told yet, each claimed here so
    /// that one instance tells it, once per group.
    /// </summary>
    public async Task<IReadOnlyList<(CareOffering Offering, int Taken)>> ClaimOverCapacityAsync(DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var over = (await connection.QueryAsync<(long Id, int Taken, int Capacity)>(new CommandDefinition("""
            SELECT o.id, COUNT(*) AS taken, o.capacity FROM care_offerings o
            JOIN care_programs g ON g.id = o.program_id AND g.status = 'open'
            JOIN care_places p ON p.offering_id = o.id AND p.status IN ('held', 'enrolled')
            WHERE o.kind = 'basic' AND o.capacity_alerted_at IS NULL
            GROUP BY o.id, o.capacity HAVING COUNT(*) > o.capacity
            """, cancellationToken: ct))).ToList();
        var claimed = new List<(CareOffering, int)>();
        foreach (var (id, taken, _) in over)
        {
            if (await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE care_offerings SET capacity_alerted_at = @now WHERE id = @id AND capacity_alerted_at IS NULL
                    """, new { id, now }, cancellationToken: ct)) == 1)
            {
                claimed.Add(((await FindOfferingAsync(id, ct))!, taken));
            }
        }

        return claimed;
    }

    /// <summary>New public terms: the version goes up, and families applying from now on accept the new one.</summary>
    public async Task<bool> ReviseTermsAsync(long id, string terms, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE care_programs SET terms = @terms, terms_version = terms_version + 1, updated_at = @now WHERE id = @id AND status <> 'closed'",
            new { id, terms, now }, cancellationToken: ct)) == 1;
    }

    public async Task<bool> SetProgramStatusAsync(long id, string from, string to, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE care_programs SET status = @to, updated_at = @now WHERE id = @id AND status = @from", new { id, from, to, now },
            cancellationToken: ct)) == 1;
    }

    // ---- applications and places ----

    private const string ApplicationColumns = """
        id, program_id, corp_id, student_user_id, class_id, guardian_corp_id, guardian_user_id, on_behalf_by_user_id, weekdays, pickup, priority,
        exemption, terms_version, status, submitted_at, decided_at
        """;

    /// <summary>
    /// Stores an application and allocates its places, in one transaction: the chosen offerings' rows are taken first
    /// (in id order, so that concurrent applications queue rather than deadlock), so applications are allocated in the
    /// order they commit, which is the order of their ids. Basic care always holds a place; an elective holds one while
    /// its held and enrolled places are under capacity, and waitlists the application otherwise. Null when the student
    /// already has an application for the program. <paramref name="alsoInTransaction"/> writes what must commit with the
    /// application (its review request), given its id.
    /// </summary>
    public async Task<(long Id, IReadOnlyList<CarePlace> Places, IReadOnlyDictionary<long, int> WaitlistPositions)?> SubmitAsync(CareApplication application,
        IReadOnlyList<long> offeringIds, DateTime now,
        CancellationToken ct, Func<DbTransaction, long, CancellationToken, Task>? alsoInTransaction = null)
    {
        try
        {
            // Pickup people's phones are sealed at rest (docs/encryption.md).
            return await SubmitOnceAsync(application with { Pickup = db.Fields.Protect(application.Pickup) }, offeringIds, now, alsoInTransaction, ct);
        }
        catch (DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            // The child already has an application for the program (the unique key decides, without a read first).
            return null;
        }
    }

    private Task<(long Id, IReadOnlyList<CarePlace> Places, IReadOnlyDictionary<long, int> WaitlistPositions)?> SubmitOnceAsync(CareApplication application,
        IReadOnlyList<long> offeringIds, DateTime now, Func<DbTransaction, long, CancellationToken, Task>? alsoInTransaction, CancellationToken ct) =>
        db.InTransactionAsync<(long Id, IReadOnlyList<CarePlace> Places, IReadOnlyDictionary<long, int> WaitlistPositions)?>(async (tx, token) =>
        {
            // Two round trips (a signup opening is the city's busiest minute, docs/after-school.md "Signup at scale"):
            // the electives' rows are taken (as TakeOfferingsAsync, but not a basic care group's: it holds every child, so
            // applications to it need not queue behind each other) and read with their counts; the application and its
            // places written, and the counts moved.
            var connection = tx.Connection!;
            var ids = offeringIds.Distinct().Order().ToList();
            IReadOnlyList<CareOffering> chosen;
            Dictionary<long, long> taken;
            await using (var grid = await connection.QueryMultipleAsync(new CommandDefinition($"""
                UPDATE care_offerings SET version = version + 1 WHERE id IN @ids AND kind <> 'basic';
                SELECT {OfferingColumns} FROM care_offerings WHERE id IN @ids ORDER BY id;
                SELECT id, places_taken FROM care_offerings WHERE id IN @ids;
                """, new { ids }, tx, cancellationToken: token)))
            {
                chosen = (await grid.ReadAsync<CareOffering>()).ToList();
                taken = (await grid.ReadAsync<(long Id, long Taken)>()).ToDictionary(o => o.Id, o => o.Taken);
            }

            // Once a lottery or the ranked batch is drawn, a later application (a mid-term join) queues after the drawn order.
            var waiting = new HashSet<long>();
            foreach (var offering in chosen.Where(o => o.Kind != OfferingKind.Basic && AllocationMode.AfterWindow(o.Allocation)))
            {
                if (!await DrawnAsync(tx, offering, token))
                {
                    waiting.Add(offering.Id);
                }
            }

            // A ranked-choice elective keeps the family's rank for it: its place among the ranked ones they listed.
            var ranks = offeringIds.Distinct().Where(o => chosen.Any(c => c.Id == o && c.Allocation == AllocationMode.Ranked))
                .Select((o, i) => (o, i + 1)).ToDictionary(x => x.o, x => x.Item2);
            var statuses = chosen.Select(offering => (offering.Id, Status: offering.Kind == OfferingKind.Basic ? PlaceStatus.Held
                : waiting.Contains(offering.Id) ? PlaceStatus.Applied
                : taken.GetValueOrDefault(offering.Id) < offering.Capacity ? PlaceStatus.Held
                : PlaceStatus.Waitlisted, Rank: ranks.TryGetValue(offering.Id, out var r) ? r : (int?)null)).ToList();

            // The places name the application by its unique key (program, student): its id is not known until it is written.
            var args = new DynamicParameters(application);
            args.Add("now", now);
            var places = new StringBuilder();
            for (var i = 0; i < statuses.Count; i++)
            {
                args.Add($"offering{i}", statuses[i].Id);
                args.Add($"status{i}", statuses[i].Status);
                args.Add($"rank{i}", statuses[i].Rank);
                places.Append(i == 0 ? "" : " UNION ALL ").Append(CultureInfo.InvariantCulture,
                    $"SELECT a.id, @offering{i}, @status{i}, a.id, @rank{i}, @now FROM care_applications a WHERE a.program_id = @ProgramId AND a.student_user_id = @StudentUserId");
            }

            // An elective's place is added to its offering's counts, and a waitlisted one reads its position, here, with the
            // offering's row still ours (rather than after the commit).
            var counts = new StringBuilder();
            for (var i = 0; i < statuses.Count; i++)
            {
                if (statuses[i].Status == PlaceStatus.Waitlisted)
                {
                    counts.Append(CultureInfo.InvariantCulture, $"UPDATE care_offerings SET waitlisted = waitlisted + 1 WHERE id = @offering{i};\n").Append(
                        WaitlistPositionSql("(SELECT id FROM care_applications WHERE program_id = @ProgramId AND student_user_id = @StudentUserId)",
                            $"@offering{i}")).Append(";\n");
                }
                else if (statuses[i].Status == PlaceStatus.Held && chosen.Any(o => o.Id == statuses[i].Id && o.Kind != OfferingKind.Basic))
                {
                    counts.Append(CultureInfo.InvariantCulture, $"UPDATE care_offerings SET places_taken = places_taken + 1 WHERE id = @offering{i};\n");
                }
            }

            var waitlisted = statuses.Where(p => p.Status == PlaceStatus.Waitlisted).Select(p => p.Id).ToList();
            long id;
            var positions = new Dictionary<long, int>();
            await using (var grid = await connection.QueryMultipleAsync(new CommandDefinition($"""
                INSERT INTO care_applications (program_id, corp_id, student_user_id, class_id, guardian_corp_id, guardian_user_id, on_behalf_by_user_id,
                                               weekdays, pickup, priority, exemption, terms_version, status, submitted_at)
                VALUES (@ProgramId, @CorpId, @StudentUserId, @ClassId, @GuardianCorpId, @GuardianUserId, @OnBehalfByUserId,
                        @Weekdays, @Pickup, @Priority, @Exemption, @TermsVersion, @Status, @SubmittedAt);
                {(statuses.Count == 0 ? "" : $"INSERT INTO care_places (application_id, offering_id, status, queue_position, choice_rank, updated_at) {places};")}
                SELECT id FROM care_applications WHERE program_id = @ProgramId AND student_user_id = @StudentUserId;
                {counts}
                """, args, tx, cancellationToken: token)))
            {
                id = await grid.ReadSingleAsync<long>();
                foreach (var offeringId in waitlisted)
                {
                    positions[offeringId] = (int)await grid.ReadSingleAsync<long>();
                }
            }

            if (alsoInTransaction is not null)
            {
                await alsoInTransaction(tx, id, token);
            }

            return (id, statuses.Select(p => new CarePlace(id, p.Id, p.Status, id, null, now, p.Rank, null)).ToList(), positions);
        }, ct);

    /// <summary>
    /// Settles an application: approved turns its held places into enrolments (waitlisted ones stay in line and are
    /// enrolled when promoted); rejected or withdrawn releases every place, and each freed place goes to the next
    /// waitlisted application of that offering, exactly once (the offering's row is taken first). False when the
    /// application was not in <paramref name="from"/>.
    /// </summary>
    public Task<bool> SettleAsync(long applicationId, IReadOnlyCollection<string> from, string to, DateTime now, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            // A locking read, so that no snapshot is taken before the offerings' rows are ours (see TakenAsync).
            var offerings = (await connection.QueryAsync<long>(new CommandDefinition(
                $"SELECT offering_id FROM care_places WHERE application_id = @applicationId ORDER BY offering_id{db.Dialect.ForUpdate}",
                new { applicationId }, tx, cancellationToken: token))).ToList();
            await TakeOfferingsAsync(tx, offerings, token);
            if (await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE care_applications SET status = @to, decided_at = @now WHERE id = @applicationId AND status IN @from
                    """, new { applicationId, to, now, from = from.ToList() }, tx, cancellationToken: token)) == 0)
            {
                return false;
            }

            if (to == CareApplicationStatus.Approved)
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE care_places SET status = 'enrolled', enrolled_at = @now, updated_at = @now WHERE application_id = @applicationId AND status = 'held'
                    """, new { applicationId, now }, tx, cancellationToken: token));
                return true;
            }

            if (to is CareApplicationStatus.Rejected or CareApplicationStatus.Withdrawn)
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE care_places SET status = 'released', updated_at = @now WHERE application_id = @applicationId AND status <> 'released'
                    """, new { applicationId, now }, tx, cancellationToken: token));
                foreach (var offering in await OfferingsAsync(tx, offerings, token))
                {
                    await PromoteAsync(tx, offering, now, token);
                }

                await RecountAsync(tx, offerings, token);
            }

            return true;
        }, ct);

    /// <summary>
    /// Fills an elective's free places from its waitlist, first in line first: each is offered to the family until the
    /// claim window ends (AfterSchool:ClaimWindow), or given at once when the window is zero.
    /// </summary>
    private async Task PromoteAsync(DbTransaction tx, CareOffering offering, DateTime now, CancellationToken ct)
    {
        if (offering.Kind == OfferingKind.Basic)
        {
            return;
        }

        var free = offering.Capacity - await TakenAsync(tx, offering.Id, ct);
        if (free <= 0)
        {
            return;
        }

        var next = (await tx.Connection!.QueryAsync<(long ApplicationId, string Status)>(new CommandDefinition($"""
            SELECT p.application_id, a.status FROM care_places p JOIN care_applications a ON a.id = p.application_id
            WHERE p.offering_id = @offeringId AND p.status = 'waitlisted'
            ORDER BY p.queue_position LIMIT @free{db.Dialect.ForUpdate}
            """, new { offeringId = offering.Id, free }, tx, cancellationToken: ct))).ToList();
        foreach (var (applicationId, status) in next)
        {
            var placed = _claimWindow > TimeSpan.Zero ? PlaceStatus.Offered
                : status == CareApplicationStatus.Approved ? PlaceStatus.Enrolled : PlaceStatus.Held;
            await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                UPDATE care_places SET status = @placed, updated_at = @now, offer_notified_at = NULL,
                                       offer_expires_at = CASE WHEN @placed = 'offered' THEN @expires ELSE NULL END,
                                       enrolled_at = CASE WHEN @placed = 'enrolled' THEN @now ELSE enrolled_at END
                WHERE application_id = @applicationId AND offering_id = @offeringId
                """, new { applicationId, offeringId = offering.Id, now, placed, expires = now + _claimWindow }, tx, cancellationToken: ct));
        }
    }

    /// <summary>
    /// The family claims a place offered to them: held while the application is reviewed, enrolled when it is approved.
    /// For a ranked-choice elective the family's other ranked places are given up (one course per family), and any of
    /// them offered passes to the next in line. False when no live offer is there (claimed, declined, or lapsed).
    /// </summary>
    public Task<bool> ClaimOfferAsync(long applicationId, long offeringId, DateTime now, CancellationToken ct) =>
        ResolveOfferAsync(applicationId, offeringId, claim: true, now, ct);

    /// <summary>The family declines a place offered to them: it goes to the next in line.</summary>
    public Task<bool> DeclineOfferAsync(long applicationId, long offeringId, DateTime now, CancellationToken ct) =>
        ResolveOfferAsync(applicationId, offeringId, claim: false, now, ct);

    private Task<bool> ResolveOfferAsync(long applicationId, long offeringId, bool claim, DateTime now, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            var offering = await FindOfferingAsync(offeringId, token);
            // The other ranked places this application gives up when it claims a ranked place.
            var others = claim && offering?.Allocation == AllocationMode.Ranked
                ? (await connection.QueryAsync<long>(new CommandDefinition("""
                    SELECT p.offering_id FROM care_places p JOIN care_offerings o ON o.id = p.offering_id
                    WHERE p.application_id = @applicationId AND p.offering_id <> @offeringId AND o.allocation = 'ranked' AND p.status <> 'released'
                    """, new { applicationId, offeringId }, tx, cancellationToken: token))).ToList()
                : [];
            await TakeOfferingsAsync(tx, others.Append(offeringId).Order().ToList(), token);
            var status = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                $"SELECT status FROM care_applications WHERE id = @applicationId{db.Dialect.ForUpdate}", new { applicationId }, tx,
                cancellationToken: token));
            var placed = !claim ? PlaceStatus.Released : status == CareApplicationStatus.Approved ? PlaceStatus.Enrolled : PlaceStatus.Held;
            if (await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE care_places SET status = @placed, updated_at = @now, offer_expires_at = NULL,
                                           enrolled_at = CASE WHEN @placed = 'enrolled' THEN @now ELSE enrolled_at END
                    WHERE application_id = @applicationId AND offering_id = @offeringId AND status = 'offered' AND offer_expires_at > @now
                    """, new { applicationId, offeringId, placed, now }, tx, cancellationToken: token)) == 0)
            {
                return false;
            }

            if (others.Count > 0)
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE care_places SET status = 'released', offer_expires_at = NULL, updated_at = @now
                    WHERE application_id = @applicationId AND offering_id IN @others AND status <> 'released'
                    """, new { applicationId, others, now }, tx, cancellationToken: token));
            }

            foreach (var freed in await OfferingsAsync(tx, claim ? others : [offeringId], token))
            {
                await PromoteAsync(tx, freed, now, token);
            }

            await RecountAsync(tx, others.Append(offeringId), token);
            return true;
        }, ct);

    /// <summary>
    /// Offers whose claim window has ended move on: each lapsed place is released and offered to the next in line, once
    /// per offering under its row lock, so that several instances lapse each offer exactly once. Returns the places lapsed.
    /// </summary>
    public async Task<int> LapseOffersAsync(DateTime now, CancellationToken ct)
    {
        List<long> offerings;
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            offerings = (await connection.QueryAsync<long>(new CommandDefinition(
                "SELECT DISTINCT offering_id FROM care_places WHERE status = 'offered' AND offer_expires_at <= @now ORDER BY offering_id",
                new { now }, cancellationToken: ct))).ToList();
        }

        var lapsed = 0;
        foreach (var offeringId in offerings)
        {
            lapsed += await db.InTransactionAsync(async (tx, token) =>
            {
                await TakeOfferingsAsync(tx, [offeringId], token);
                var count = await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                    UPDATE care_places SET status = 'released', offer_expires_at = NULL, updated_at = @now
                    WHERE offering_id = @offeringId AND status = 'offered' AND offer_expires_at <= @now
                    """, new { offeringId, now }, tx, cancellationToken: token));
                if (count > 0)
                {
                    await PromoteAsync(tx, (await OfferingsAsync(tx, [offeringId], token))[0], now, token);
                    await RecountAsync(tx, [offeringId], token);
                }

                return count;
            }, ct);
        }

        return lapsed;
    }

    /// <summary>Offers nobody has told the family about yet, each claimed here so that one instance sends each message.</summary>
    public async Task<IReadOnlyList<CareOffer>> ClaimUnannouncedOffersAsync(DateTime now, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var offers = (await connection.QueryAsync<CareOffer>(new CommandDefinition("""
            SELECT application_id, offering_id, offer_expires_at AS expires_at FROM care_places
            WHERE status = 'offered' AND offer_notified_at IS NULL AND offer_expires_at > @now
            ORDER BY offer_expires_at LIMIT @limit
            """, new { now, limit }, cancellationToken: ct))).ToList();
        var claimed = new List<CareOffer>();
        foreach (var offer in offers)
        {
            if (await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE care_places SET offer_notified_at = @now
                    WHERE application_id = @ApplicationId AND offering_id = @OfferingId AND status = 'offered' AND offer_notified_at IS NULL
                    """, new { now, offer.ApplicationId, offer.OfferingId }, cancellationToken: ct)) == 1)
            {
                claimed.Add(offer);
            }
        }

        return claimed;
    }

    /// <summary>Whether the offering's lottery, or its program's ranked batch, was drawn.</summary>
    private static async Task<bool> DrawnAsync(DbTransaction tx, CareOffering offering, CancellationToken ct) =>
        await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(
            offering.Allocation == AllocationMode.Ranked
                ? "SELECT COUNT(*) FROM care_batches WHERE program_id = @ProgramId"
                : "SELECT COUNT(*) FROM care_lotteries WHERE offering_id = @Id", new { offering.ProgramId, offering.Id }, tx, cancellationToken: ct)) > 0;

    /// <summary>
    /// Moves an application from one offering to another: the old place is released and its offering's next family
    /// promoted; the new place is held (enrolled for an approved application) while under capacity, else waitlisted.
    /// False when the old place is no longer live.
    /// </summary>
    public Task<bool> SwitchAsync(long applicationId, long fromOfferingId, long toOfferingId, DateTime now, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            await TakeOfferingsAsync(tx, [Math.Min(fromOfferingId, toOfferingId), Math.Max(fromOfferingId, toOfferingId)], token);
            var status = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                $"SELECT status FROM care_applications WHERE id = @applicationId{db.Dialect.ForUpdate}", new { applicationId }, tx,
                cancellationToken: token));
            if (await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE care_places SET status = 'released', updated_at = @now
                    WHERE application_id = @applicationId AND offering_id = @fromOfferingId AND status <> 'released'
                    """, new { applicationId, fromOfferingId, now }, tx, cancellationToken: token)) == 0)
            {
                return false;
            }

            var offerings = await OfferingsAsync(tx, [fromOfferingId, toOfferingId], token);
            var target = offerings.Single(o => o.Id == toOfferingId);
            var free = target.Kind == OfferingKind.Basic || await TakenAsync(tx, toOfferingId, token) < target.Capacity;
            var placed = !free ? PlaceStatus.Waitlisted : status == CareApplicationStatus.Approved ? PlaceStatus.Enrolled : PlaceStatus.Held;
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM care_places WHERE application_id = @applicationId AND offering_id = @toOfferingId", new { applicationId, toOfferingId }, tx,
                cancellationToken: token));
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO care_places (application_id, offering_id, status, queue_position, enrolled_at, updated_at)
                VALUES (@applicationId, @toOfferingId, @placed, @position, @enrolledAt, @now)
                """, new
            {
                applicationId, toOfferingId, placed, now, enrolledAt = placed == PlaceStatus.Enrolled ? now : (DateTime?)null,
                // Behind everyone already in line, whether the line was drawn or is in submission order.
                position = long.MaxValue / 2 + now.Ticks / TimeSpan.TicksPerMillisecond,
            }, tx, cancellationToken: token));
            await PromoteAsync(tx, offerings.Single(o => o.Id == fromOfferingId), now, token);
            await RecountAsync(tx, [fromOfferingId, toOfferingId], token);
            return true;
        }, ct);

    /// <summary>Takes the offerings' rows for the rest of the transaction (in id order).</summary>
    private static Task TakeOfferingsAsync(DbTransaction tx, IReadOnlyList<long> ids, CancellationToken ct) =>
        ids.Count == 0
            ? Task.CompletedTask
            : tx.Connection!.ExecuteAsync(new CommandDefinition(
                "UPDATE care_offerings SET version = version + 1 WHERE id IN @ids", new { ids }, tx, cancellationToken: ct));

    private static async Task<IReadOnlyList<CareOffering>> OfferingsAsync(DbTransaction tx, IReadOnlyList<long> ids, CancellationToken ct) =>
        ids.Count == 0
            ? []
            : (await tx.Connection!.QueryAsync<CareOffering>(new CommandDefinition(
                $"SELECT {OfferingColumns} FROM care_offerings WHERE id IN @ids ORDER BY id", new { ids }, tx, cancellationToken: ct))).ToList();

    /// <summary>
    /// Places held, enrolled or offered, read as they are now (a locking read on MySQL: a plain read inside the transaction would
    /// see the snapshot taken before this transaction queued for the offering, and two instances would promote the same
    /// family).
    /// </summary>
    private async Task<int> TakenAsync(DbTransaction tx, long offeringId, CancellationToken ct) =>
        await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition($"""
            SELECT COUNT(*) FROM care_places WHERE offering_id = @offeringId AND status IN ('held', 'enrolled', 'offered'){db.Dialect.ForUpdate}
            """, new { offeringId }, tx, cancellationToken: ct));

    /// <summary>An application as read, with its pickup people unsealed.</summary>
    internal static CareApplication Opened(Database db, CareApplication application) =>
        application with { Pickup = db.Fields.Unprotect(application.Pickup) };

    public async Task<CareApplication?> FindApplicationAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var application = await connection.QuerySingleOrDefaultAsync<CareApplication>(new CommandDefinition(
            $"SELECT {ApplicationColumns} FROM care_applications WHERE id = @id", new { id }, cancellationToken: ct));
        return application is null ? null : Opened(db, application);
    }

    public async Task<IReadOnlyList<CareApplication>> ApplicationsOfGuardianAsync(IReadOnlyList<(string CorpId, string UserId)> identities,
        CancellationToken ct)
    {
        var (mine, args) = IdentityFilter.Of(identities, "guardian_corp_id", "guardian_user_id");
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CareApplication>(new CommandDefinition(
            $"SELECT {ApplicationColumns} FROM care_applications WHERE {mine} ORDER BY id DESC", args, cancellationToken: ct)))
            .Select(a => Opened(db, a)).ToList();
    }

    public async Task<IReadOnlyList<CarePlace>> PlacesAsync(IReadOnlyCollection<long> applicationIds, CancellationToken ct)
    {
        if (applicationIds.Count == 0)
        {
            return [];
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<CarePlace>(new CommandDefinition(
            """
            SELECT application_id, offering_id, status, queue_position, enrolled_at, updated_at, choice_rank, offer_expires_at FROM care_places
            WHERE application_id IN @ids ORDER BY application_id, offering_id
            """,
            new { ids = applicationIds.ToList() }, cancellationToken: ct))).ToList();
    }

    /// <summary>Per offering of a program: places held, enrolled, waitlisted, applied (waiting for a draw) and offered.</summary>
    public async Task<IReadOnlyList<OfferingPlaces>> PlaceCountsAsync(long programId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<OfferingPlaces>(new CommandDefinition("""
            SELECT o.id AS offering_id,
                   COALESCE(SUM(CASE WHEN p.status = 'held' THEN 1 ELSE 0 END), 0) AS held,
                   COALESCE(SUM(CASE WHEN p.status = 'enrolled' THEN 1 ELSE 0 END), 0) AS enrolled,
                   COALESCE(SUM(CASE WHEN p.status = 'waitlisted' THEN 1 ELSE 0 END), 0) AS waitlisted,
                   COALESCE(SUM(CASE WHEN p.status = 'applied' THEN 1 ELSE 0 END), 0) AS applied,
                   COALESCE(SUM(CASE WHEN p.status = 'offered' THEN 1 ELSE 0 END), 0) AS offered
            FROM care_offerings o LEFT JOIN care_places p ON p.offering_id = o.id
            WHERE o.program_id = @programId
            GROUP BY o.id ORDER BY o.id
            """, new { programId }, cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// Draws an elective's lottery once: the applications still in the running (not rejected or withdrawn) are ordered
    /// by <see cref="CareLottery"/>; the first hold the free places (enrolled at once when already approved), the rest
    /// wait in the drawn order. The seed and the order are recorded; drawing again returns the recorded draw.
    /// </summary>
    public Task<(string Seed, IReadOnlyList<long> Drawn)> DrawAsync(CareOffering offering, string seed, string byUserId, DateTime now,
        CancellationToken ct) =>
        db.InTransactionAsync<(string, IReadOnlyList<long>)>(async (tx, token) =>
        {
            var connection = tx.Connection!;
            await TakeOfferingsAsync(tx, [offering.Id], token);
            if (await connection.QueryFirstOrDefaultAsync<(string Seed, string Drawn)?>(new CommandDefinition(
                    "SELECT seed, drawn FROM care_lotteries WHERE offering_id = @id", new { id = offering.Id }, tx, cancellationToken: token)) is { } done)
            {
                return (done.Seed, done.Drawn.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList());
            }

            var entries = (await connection.QueryAsync<(long ApplicationId, string? Priority, string Status)>(new CommandDefinition($"""
                SELECT p.application_id, a.priority, a.status FROM care_places p JOIN care_applications a ON a.id = p.application_id
                WHERE p.offering_id = @id AND p.status = 'applied'{db.Dialect.ForUpdate}
                """, new { id = offering.Id }, tx, cancellationToken: token))).ToList();
            var drawn = CareLottery.Draw(entries.Select(e => new LotteryEntry(e.ApplicationId, e.Priority is not null)), seed);
            var approved = entries.Where(e => e.Status == CareApplicationStatus.Approved).Select(e => e.ApplicationId).ToHashSet();
            var free = offering.Capacity - await TakenAsync(tx, offering.Id, token);
            for (var rank = 0; rank < drawn.Count; rank++)
            {
                var status = rank < free ? approved.Contains(drawn[rank]) ? PlaceStatus.Enrolled : PlaceStatus.Held : PlaceStatus.Waitlisted;
                await PlaceInDrawAsync(tx, drawn[rank], offering.Id, status, rank + 1, now, token);
            }

            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO care_lotteries (offering_id, seed, drawn, run_at, run_by_user_id) VALUES (@id, @seed, @drawn, @now, @byUserId)
                """, new { id = offering.Id, seed, drawn = string.Join(',', drawn), now, byUserId }, tx, cancellationToken: token));
            await RecountAsync(tx, [offering.Id], token);
            return (seed, drawn);
        }, ct);

    /// <summary>
    /// Allocates a program's ranked-choice (志愿) electives in one batch, once: the applications still in the running
    /// are put in the order of a <see cref="CareLottery"/> draw (priority categories first); each in turn gets its
    /// best-ranked choice that still has a place (enrolled at once when already approved) and gives up its other ranked
    /// choices; a family that got none waits on each of its choices in the drawn order. The seed and the order are
    /// recorded; running again returns the recorded batch.
    /// </summary>
    public Task<(string Seed, IReadOnlyList<long> Drawn)> AllocateRankedAsync(long programId, string seed, string byUserId, DateTime now,
        CancellationToken ct) =>
        db.InTransactionAsync<(string, IReadOnlyList<long>)>(async (tx, token) =>
        {
            var connection = tx.Connection!;
            var ranked = (await connection.QueryAsync<CareOffering>(new CommandDefinition(
                $"SELECT {OfferingColumns} FROM care_offerings WHERE program_id = @programId AND allocation = 'ranked' ORDER BY id",
                new { programId }, tx, cancellationToken: token))).ToList();
            await TakeOfferingsAsync(tx, ranked.Select(o => o.Id).ToList(), token);
            // A locking read: the offerings were read before their rows were ours, and a plain read would see that snapshot.
            if (await connection.QueryFirstOrDefaultAsync<(string Seed, string Drawn)?>(new CommandDefinition(
                    $"SELECT seed, drawn FROM care_batches WHERE program_id = @programId{db.Dialect.ForUpdate}", new { programId }, tx,
                    cancellationToken: token)) is { } done)
            {
                return (done.Seed, done.Drawn.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList());
            }

            if (ranked.Count == 0)
            {
                return (seed, (IReadOnlyList<long>)[]);
            }

            var choices = (await connection.QueryAsync<(long ApplicationId, long OfferingId, int? Rank, string? Priority, string Status)>(
                new CommandDefinition($"""
                    SELECT p.application_id, p.offering_id, p.choice_rank, a.priority, a.status
                    FROM care_places p JOIN care_applications a ON a.id = p.application_id
                    WHERE p.offering_id IN @ids AND p.status = 'applied'
                    ORDER BY p.application_id, p.choice_rank{db.Dialect.ForUpdate}
                    """, new { ids = ranked.Select(o => o.Id).ToList() }, tx, cancellationToken: token))).ToLookup(c => c.ApplicationId);
            var drawn = CareLottery.Draw(choices.Select(c => new LotteryEntry(c.Key, c.First().Priority is not null)), seed);
            var free = new Dictionary<long, int>();
            foreach (var offering in ranked)
            {
                free[offering.Id] = offering.Capacity - await TakenAsync(tx, offering.Id, token);
            }

            for (var position = 0; position < drawn.Count; position++)
            {
                var mine = choices[drawn[position]].OrderBy(c => c.Rank ?? int.MaxValue).ToList();
                var got = mine.FirstOrDefault(c => free[c.OfferingId] > 0);
                foreach (var choice in mine)
                {
                    var status = got == default ? PlaceStatus.Waitlisted
                        : choice.OfferingId != got.OfferingId ? PlaceStatus.Released
                        : choice.Status == CareApplicationStatus.Approved ? PlaceStatus.Enrolled
                        : PlaceStatus.Held;
                    await PlaceInDrawAsync(tx, choice.ApplicationId, choice.OfferingId, status, position + 1, now, token);
                }

                if (got != default)
                {
                    free[got.OfferingId]--;
                }
            }

            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO care_batches (program_id, seed, drawn, run_at, run_by_user_id) VALUES (@programId, @seed, @drawn, @now, @byUserId)
                """, new { programId, seed, drawn = string.Join(',', drawn), now, byUserId }, tx, cancellationToken: token));
            await RecountAsync(tx, ranked.Select(o => o.Id), token);
            return (seed, drawn);
        }, ct);

    /// <summary>A place as a draw or the ranked batch decided it: its status, and its position in the drawn order.</summary>
    private static Task PlaceInDrawAsync(DbTransaction tx, long applicationId, long offeringId, string status, int position, DateTime now,
        CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition("""
            UPDATE care_places SET status = @status, queue_position = @position, updated_at = @now,
                                   enrolled_at = CASE WHEN @status = 'enrolled' THEN @now ELSE enrolled_at END
            WHERE application_id = @applicationId AND offering_id = @offeringId
            """, new { status, position, now, applicationId, offeringId }, tx, cancellationToken: ct));

    /// <summary>An offering's waitlist in order: the application ids.</summary>
    public async Task<IReadOnlyList<long>> WaitlistAsync(long offeringId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT application_id FROM care_places WHERE offering_id = @offeringId AND status = 'waitlisted' ORDER BY queue_position",
            new { offeringId }, cancellationToken: ct))).ToList();
    }

    /// <summary>The application's place in an offering's waitlist (1 = next), or null when it is not waiting there.</summary>
    public async Task<int?> WaitlistPositionAsync(long applicationId, long offeringId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<int?>(new CommandDefinition(WaitlistPositionSql("@applicationId", "@offeringId"),
            new { applicationId, offeringId }, cancellationToken: ct));
    }

    /// <summary>
    /// An application's place in an offering's waitlist (1 = next): no row when it is not waiting there. The line's length
    /// less those behind it, which for a place just added is none (or the few switched in behind everyone): counting
    /// those ahead would read the whole line.
    /// </summary>
    private static string WaitlistPositionSql(string applicationId, string offeringId) => $"""
        SELECT o.waitlisted - (SELECT COUNT(*) FROM care_places w
                               WHERE w.offering_id = p.offering_id AND w.status = 'waitlisted' AND w.queue_position > p.queue_position) AS waitlist_position
        FROM care_places p JOIN care_offerings o ON o.id = p.offering_id
        WHERE p.application_id = {applicationId} AND p.offering_id = {offeringId} AND p.status = 'waitlisted'
        """;

    /// <summary>
    /// Sets the electives' counts (live places, waitlist length) from their places, at the end of a transaction that took
    /// their rows and moved places other than by a submission (which counts its own places as it writes them).
    /// </summary>
    private static async Task RecountAsync(DbTransaction tx, IEnumerable<long> offeringIds, CancellationToken ct)
    {
        var ids = offeringIds.Distinct().ToList();
        if (ids.Count > 0)
        {
            // On MySQL the counts in an UPDATE are locking reads: they see the places as they are, not the transaction's snapshot.
            await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                UPDATE care_offerings
                SET places_taken = (SELECT COUNT(*) FROM care_places p WHERE p.offering_id = care_offerings.id AND p.status IN ('held', 'enrolled', 'offered')),
                    waitlisted = (SELECT COUNT(*) FROM care_places p WHERE p.offering_id = care_offerings.id AND p.status = 'waitlisted')
                WHERE id IN @ids AND kind <> 'basic'
                """, new { ids }, tx, cancellationToken: ct));
        }
    }
}
