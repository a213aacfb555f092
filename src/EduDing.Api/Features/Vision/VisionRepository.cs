using System.Data.Common;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Org;

namespace EduDing.Api.Features.Vision;

internal sealed record RosterStudent(string UserId, string Name, string? StudentNumber, long ClassId);

internal sealed record ClassProgressRow(string CorpId, long ClassId, string ClassName, int? GradeLevel, int Enrolled, int Screened);

/// <summary>A record to store, already classified, with the class the student was in when screened.</summary>
internal sealed record ClassifiedInput(VisionRecordInput Input, long ClassId, StudentClassification Result);

internal sealed record SaveOutcome(int Created, int Updated, int Unchanged)
{
    /// <summary>The students whose stored record this save corrected (not sent to clients: the counts say enough).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> Corrected { get; init; } = [];
}

/// <summary>Rounds, records (with their history and statistics cells), referrals and classrooms.</summary>
internal sealed class VisionRepository(Database db)
{
    private const string RoundColumns = "id, kind, school_year, name, corp_id, opens_on, closes_on, rescreen_of, created_by_corp_id, created_by_user_id, created_at";

    internal const string RecordColumns = """
        round_id, corp_id, student_user_id, class_id, sex, birth_date, screened_on, age_years, glasses, ucva_r, ucva_l, walk_distance_r,
        walk_distance_l, cva_r, cva_l, sphere_r, cylinder_r, axis_r, sphere_l, cylinder_l, axis_l, axial_length_r, axial_length_l,
        not_testable_reason, se_r, se_l, poor_vision, myopic, myopia_grade, valid, follow_up, below_age_norm, needs_referral, rule_set,
        input_hash, version, source, entered_by_corp_id, entered_by_user_id, entered_at, eyes_sealed
        """;

    /// <summary>The columns a new record's row binds per row (the rest are shared by the statement or stay NULL).</summary>
    private static readonly string[] InsertedRecordColumns =
    [
        "student_user_id", "class_id", "sex", "birth_date", "screened_on", "age_years", "glasses", "poor_vision", "myopic", "myopia_grade", "valid",
        "follow_up", "below_age_norm", "needs_referral", "rule_set", "input_hash", "version", "eyes_sealed",
    ];

    private const string ReferralColumns = """
        id, round_id, corp_id, student_user_id, class_id, reason, status, created_at, acknowledged_at, acknowledged_by_user_id, visit_date,
        hospital, diagnosis, prescription, reported_at, last_reminded_at
        """;

    // ---- rounds ----

    /// <summary>Creates a round over the given schools with each class's enrolment at this moment (coverage), as the directory gives them.</summary>
    public Task<long> CreateRoundAsync(string kind, int schoolYear, string name, string? corpId, DateOnly opensOn, DateOnly closesOn,
        long? rescreenOf, string createdByCorpId, string createdByUserId, IReadOnlyList<string> schoolCorpIds,
        IReadOnlyList<(string CorpId, SchoolClass Class)> classes, DateTime now, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var id = await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
                INSERT INTO vision_rounds (kind, school_year, name, corp_id, opens_on, closes_on, rescreen_of, created_by_corp_id,
                                           created_by_user_id, created_at)
                VALUES (@kind, @schoolYear, @name, @corpId, @opensOn, @closesOn, @rescreenOf, @createdByCorpId, @createdByUserId, @now);
                {db.Dialect.SelectLastInsertId};
                """, new { kind, schoolYear, name, corpId, opensOn, closesOn, rescreenOf, createdByCorpId, createdByUserId, now }, tx,
                cancellationToken: token));
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "vision_round_classes",
                ["round_id", "corp_id", "class_id", "class_name", "grade_level", "period_id", "period_name", "enrolled"], classes,
                c => [id, c.CorpId, c.Class.ClassId, c.Class.Name, c.Class.GradeLevel, c.Class.PeriodId, c.Class.PeriodName, c.Class.Students],
                token);
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "vision_round_schools", ["round_id", "corp_id"], schoolCorpIds, c => [id, c], token);
            return id;
        }, ct);

    public async Task<VisionRound?> FindRoundAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<VisionRound>(new CommandDefinition(
            $"SELECT {RoundColumns} FROM vision_rounds WHERE id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<bool> RoundCoversAsync(long roundId, string corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT COUNT(*) FROM vision_round_schools WHERE round_id = @roundId AND corp_id = @corpId", new { roundId, corpId },
            cancellationToken: ct)) > 0;
    }

    /// <summary>Rounds that cover any of <paramref name="corpIds"/> (null: all), newest first.</summary>
    public async Task<IReadOnlyList<VisionRound>> ListRoundsAsync(IReadOnlyCollection<string>? corpIds, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var filter = corpIds is null ? "" : "WHERE id IN (SELECT round_id FROM vision_round_schools WHERE corp_id IN @corpIds)";
        return (await connection.QueryAsync<VisionRound>(new CommandDefinition(
            $"SELECT {RoundColumns} FROM vision_rounds {filter} ORDER BY opens_on DESC, id DESC", new { corpIds = corpIds?.ToList() ?? [] },
            cancellationToken: ct))).ToList();
    }

    /// <summary>The same kind of round one school year earlier (the year-on-year comparison).</summary>
    public async Task<VisionRound?> SameRoundAYearEarlierAsync(VisionRound round, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QueryFirstOrDefaultAsync<VisionRound>(new CommandDefinition($"""
            SELECT {RoundColumns} FROM vision_rounds
            WHERE kind = @Kind AND school_year = @previous AND ((corp_id IS NULL AND @CorpId IS NULL) OR corp_id = @CorpId)
            ORDER BY id DESC LIMIT 1
            """, new { round.Kind, previous = round.SchoolYear - 1, round.CorpId }, cancellationToken: ct));
    }

    /// <summary>The latest city-wide rounds of the four 两假双测 kinds, newest first (the trend).</summary>
    public async Task<IReadOnlyList<VisionRound>> RecentCityRoundsAsync(int count, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<VisionRound>(new CommandDefinition($"""
            SELECT {RoundColumns} FROM vision_rounds
            WHERE corp_id IS NULL AND kind IN ('winter-leave', 'winter-return', 'summer-leave', 'summer-return')
            ORDER BY opens_on DESC, id DESC LIMIT @count
            """, new { count }, cancellationToken: ct))).ToList();
    }

    public async Task<IReadOnlyList<ClassProgressRow>> ProgressAsync(long roundId, string? corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ClassProgressRow>(new CommandDefinition("""
            SELECT c.corp_id, c.class_id, c.class_name, c.grade_level, c.enrolled,
                   (SELECT COUNT(*) FROM vision_records r WHERE r.round_id = c.round_id AND r.corp_id = c.corp_id AND r.class_id = c.class_id) AS screened
            FROM vision_round_classes c
            WHERE c.round_id = @roundId AND (@corpId IS NULL OR c.corp_id = @corpId)
            ORDER BY c.corp_id, c.grade_level, c.class_id
            """, new { roundId, corpId }, cancellationToken: ct))).ToList();
    }

    public async Task<DateTime?> PublishedAtAsync(long roundId, string corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<DateTime?>(new CommandDefinition(
            "SELECT published_at FROM vision_round_schools WHERE round_id = @roundId AND corp_id = @corpId AND published_at IS NOT NULL",
            new { roundId, corpId },
            cancellationToken: ct));
    }

    public async Task<bool> PublishAsync(long roundId, string corpId, string userId, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE vision_round_schools SET published_at = @now, published_by_user_id = @userId
            WHERE round_id = @roundId AND corp_id = @corpId AND published_at IS NULL
            """, new { roundId, corpId, userId, now }, cancellationToken: ct)) == 1;
    }

    // ---- records ----

    /// <summary>
    /// Stores classified records in one transaction: a new student is inserted; a changed one moves its current row
    /// to history and gets version + 1; an identical one (same input hash) is left alone. Then the statistics cells of
    /// every touched class are rebuilt and referrals opened (or cancelled when a correction removes the reason).
    /// </summary>
    public Task<SaveOutcome> SaveRecordsAsync(long roundId, string corpId, IReadOnlyList<ClassifiedInput> rows, string source,
        string enteredByCorpId, string enteredByUserId, DateTime now, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var connection = tx.Connection!;
            // Writers of one school's round take turns (its row in vision_round_schools first): the school's summed cells
            // are rebuilt from all of its class cells, which a concurrent writer of another class would change underneath.
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE vision_round_schools SET corp_id = corp_id WHERE round_id = @roundId AND corp_id = @corpId",
                new { roundId, corpId }, tx, cancellationToken: token));
            // A file of the school is most of its round: one range read of the key is cheaper than asking for its students
            // by name, a thousand at a time. A few records (a teacher's entry) are asked for by name.
            var students = rows.Select(r => r.Input.StudentUserId).Distinct().ToList();
            var (byName, args) = students.Count <= 100
                ? ("AND student_user_id IN @students", (object)new { roundId, corpId, students })
                : ("", new { roundId, corpId });
            var current = new Dictionary<string, (string Hash, int Version, long ClassId)>(StringComparer.Ordinal);
            foreach (var (student, hash, version, classId) in await connection.QueryAsync<(string, string, int, long)>(new CommandDefinition(
                         $"SELECT student_user_id, input_hash, version, class_id FROM vision_records WHERE round_id = @roundId AND corp_id = @corpId {byName}",
                         args, tx, cancellationToken: token)))
            {
                current[student] = (hash, version, classId);
            }

            var inserts = new List<(ClassifiedInput Row, int Version, string Hash)>();
            var changed = new List<string>();
            var unchanged = 0;
            var touchedClasses = new HashSet<long>();
            foreach (var row in rows.DistinctBy(r => r.Input.StudentUserId))
            {
                // Keyed: a plain hash of a few measured values is as good as the values to anyone who can guess them.
                var hash = db.Fields.KeyedHash(row.Input.Hash());
                if (current.TryGetValue(row.Input.StudentUserId, out var existing))
                {
                    if (existing.Hash == hash && existing.ClassId == row.ClassId)
                    {
                        unchanged++;
                        continue;
                    }

                    changed.Add(row.Input.StudentUserId);
                    touchedClasses.Add(existing.ClassId);
                    inserts.Add((row, existing.Version + 1, hash));
                }
                else
                {
                    inserts.Add((row, 1, hash));
                }

                touchedClasses.Add(row.ClassId);
            }

            foreach (var chunk in changed.Chunk(1000))
            {
                await connection.ExecuteAsync(new CommandDefinition($"""
                    INSERT INTO vision_record_history ({RecordColumns}, superseded_at)
                    SELECT {RecordColumns}, @now FROM vision_records
                    WHERE round_id = @roundId AND corp_id = @corpId AND student_user_id IN @chunk
                    """, new { roundId, corpId, chunk, now }, tx, cancellationToken: token));
                await connection.ExecuteAsync(new CommandDefinition(
                    "DELETE FROM vision_records WHERE round_id = @roundId AND corp_id = @corpId AND student_user_id IN @chunk",
                    new { roundId, corpId, chunk }, tx, cancellationToken: token));
            }

            // In key order: appended to the clustered index rather than split into it.
            inserts.Sort((a, b) => string.CompareOrdinal(a.Row.Input.StudentUserId, b.Row.Input.StudentUserId));

            // The legacy per-eye columns are left NULL (the values live only in eyes_sealed, docs/encryption.md), and what every
            // row shares is bound once per statement: 18 parameters a row instead of 41.
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "vision_records", InsertedRecordColumns, inserts, i =>
            {
                var (input, result) = (i.Row.Input, i.Row.Result);
                var eyes = new EyeValues(input.UcvaRight, input.UcvaLeft, input.WalkDistanceRight, input.WalkDistanceLeft, input.CvaRight,
                    input.CvaLeft, input.SphereRight, input.CylinderRight, input.AxisRight, input.SphereLeft, input.CylinderLeft, input.AxisLeft,
                    input.AxialLengthRight, input.AxialLengthLeft, input.NotTestableReason, result.Right.SphericalEquivalent,
                    result.Left.SphericalEquivalent);
                return
                [
                    input.StudentUserId, i.Row.ClassId, input.Sex, input.BirthDate, input.ScreenedOn, input.AgeYears, GlassesCode(input.Glasses),
                    Code(result.PoorVision), result.Myopic, Code(result.MyopiaGrade), result.Valid, result.FollowUp, result.BelowAgeNorm,
                    result.NeedsReferral, result.RuleSet, i.Hash, i.Version, db.Fields.Protect(eyes.ToJson()),
                ];
            }, token, shared:
            [
                ("round_id", roundId), ("corp_id", corpId), ("source", source), ("entered_by_corp_id", enteredByCorpId),
                ("entered_by_user_id", enteredByUserId), ("entered_at", now),
            ]);

            await RebuildCellsAsync(tx, roundId, corpId, touchedClasses.ToList(), token);
            await SyncReferralsAsync(tx, roundId, corpId,
                inserts.Select(i => (i.Row.Input.StudentUserId, i.Row.ClassId, i.Row.Result.ReferralReason)).ToList(), now, token);
            return new SaveOutcome(inserts.Count - changed.Count, changed.Count, unchanged) { Corrected = changed };
        }, ct);

    /// <summary>
    /// Rebuilds the cells of <paramref name="classIds"/>, each carrying what the round recorded of its class (whether it
    /// is one of the round's classes, its grade and 学段) so that statistics read the cells alone, then the school's cells
    /// summed over its classes.
    /// </summary>
    private static async Task RebuildCellsAsync(DbTransaction tx, long roundId, string corpId, IReadOnlyList<long> classIds, CancellationToken ct)
    {
        foreach (var chunk in classIds.Chunk(500))
        {
            var args = new { roundId, corpId, chunk };
            await tx.Connection!.ExecuteAsync(new CommandDefinition(
                "DELETE FROM vision_stat_cells WHERE round_id = @roundId AND corp_id = @corpId AND class_id IN @chunk", args, tx,
                cancellationToken: ct));
            // Myopia counts are among valid records only, so the numerator is always part of the denominator.
            await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                INSERT INTO vision_stat_cells (round_id, corp_id, class_id, sex, age_years, in_round, grade_level, period_name, screened, valid,
                                               myopic, myopia_low, myopia_moderate, myopia_high, ok_lens, poor_known, poor_vision, poor_mild,
                                               poor_moderate, poor_severe)
                SELECT r.round_id, r.corp_id, r.class_id, r.sex, r.age_years,
                       MAX(CASE WHEN c.class_id IS NULL THEN 0 ELSE 1 END), MAX(c.grade_level), MAX(c.period_name), COUNT(*),
                       SUM(CASE WHEN r.valid THEN 1 ELSE 0 END),
                       SUM(CASE WHEN r.valid AND r.myopic THEN 1 ELSE 0 END),
                       SUM(CASE WHEN r.valid AND r.myopia_grade = 'low' THEN 1 ELSE 0 END),
                       SUM(CASE WHEN r.valid AND r.myopia_grade = 'moderate' THEN 1 ELSE 0 END),
                       SUM(CASE WHEN r.valid AND r.myopia_grade = 'high' THEN 1 ELSE 0 END),
                       SUM(CASE WHEN r.valid AND r.glasses = 'ok-lens' THEN 1 ELSE 0 END),
                       SUM(CASE WHEN r.poor_vision IS NOT NULL THEN 1 ELSE 0 END),
                       SUM(CASE WHEN r.poor_vision IN ('mild', 'moderate', 'severe') THEN 1 ELSE 0 END),
                       SUM(CASE WHEN r.poor_vision = 'mild' THEN 1 ELSE 0 END),
                       SUM(CASE WHEN r.poor_vision = 'moderate' THEN 1 ELSE 0 END),
                       SUM(CASE WHEN r.poor_vision = 'severe' THEN 1 ELSE 0 END)
                FROM vision_records r
                LEFT JOIN vision_round_classes c ON c.round_id = r.round_id AND c.corp_id = r.corp_id AND c.class_id = r.class_id
                WHERE r.round_id = @roundId AND r.corp_id = @corpId AND r.class_id IN @chunk
                GROUP BY r.round_id, r.corp_id, r.class_id, r.sex, r.age_years
                """, args, tx, cancellationToken: ct));
        }

        var school = new { roundId, corpId };
        await tx.Connection!.ExecuteAsync(new CommandDefinition(
            "DELETE FROM vision_stat_school_cells WHERE round_id = @roundId AND corp_id = @corpId", school, tx, cancellationToken: ct));
        await tx.Connection!.ExecuteAsync(new CommandDefinition("""
            INSERT INTO vision_stat_school_cells (round_id, corp_id, in_round, grade_level, period_name, sex, age_years, screened, valid, myopic,
                                                 myopia_low, myopia_moderate, myopia_high, ok_lens, poor_known, poor_vision, poor_mild,
                                                 poor_moderate, poor_severe)
            SELECT round_id, corp_id, in_round, COALESCE(grade_level, 0), COALESCE(period_name, ''), sex, age_years, SUM(screened), SUM(valid),
                   SUM(myopic), SUM(myopia_low), SUM(myopia_moderate), SUM(myopia_high), SUM(ok_lens), SUM(poor_known), SUM(poor_vision),
                   SUM(poor_mild), SUM(poor_moderate), SUM(poor_severe)
            FROM vision_stat_cells
            WHERE round_id = @roundId AND corp_id = @corpId
            GROUP BY round_id, corp_id, in_round, COALESCE(grade_level, 0), COALESCE(period_name, ''), sex, age_years
            """, school, tx, cancellationToken: ct));
    }

    /// <summary>
    /// A referral for every stored record that needs one, for the reason the classifier gave (a correction moves the
    /// reason with it); an open one is cancelled when a correction removes the need, and reopened when it returns.
    /// </summary>
    private async Task SyncReferralsAsync(DbTransaction tx, long roundId, string corpId,
        IReadOnlyList<(string StudentUserId, long ClassId, string? Reason)> students, DateTime now, CancellationToken ct)
    {
        foreach (var chunk in students.Where(s => s.Reason is null).Select(s => s.StudentUserId).Chunk(1000))
        {
            await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                UPDATE vision_referrals SET status = 'cancelled', cancelled_at = @now
                WHERE round_id = @roundId AND corp_id = @corpId AND student_user_id IN @chunk AND status = 'open'
                """, new { roundId, corpId, chunk, now }, tx, cancellationToken: ct));
        }

        // New ones inserted, existing ones (of a corrected record) take the new reason, reopened if a correction had cancelled them.
        var dialect = db.Dialect;
        await MultiRowInsert.ExecuteAsync(tx, dialect, "vision_referrals", ["student_user_id", "class_id", "reason"],
            students.Where(s => s.Reason is not null).ToList(), s => [s.StudentUserId, s.ClassId, s.Reason], ct,
            tail: dialect.OnConflictAssign(["round_id", "corp_id", "student_user_id"],
                $"status = CASE WHEN status = 'cancelled' THEN 'open' ELSE status END, cancelled_at = NULL, reason = {dialect.Incoming("reason")}"),
            shared: [("round_id", roundId), ("corp_id", corpId), ("status", "open"), ("created_at", now)]);
    }

    public async Task<IReadOnlyList<VisionRecord>> ClassRecordsAsync(long roundId, string corpId, long classId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<VisionRecord>(new CommandDefinition(
            $"SELECT {RecordColumns} FROM vision_records WHERE round_id = @roundId AND corp_id = @corpId AND class_id = @classId ORDER BY student_user_id",
            new { roundId, corpId, classId }, cancellationToken: ct))).Select(Opened).ToList();
    }

    public async Task<VisionRecord?> FindRecordAsync(long roundId, string corpId, string studentUserId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var record = await connection.QuerySingleOrDefaultAsync<VisionRecord>(new CommandDefinition(
            $"SELECT {RecordColumns} FROM vision_records WHERE round_id = @roundId AND corp_id = @corpId AND student_user_id = @studentUserId",
            new { roundId, corpId, studentUserId }, cancellationToken: ct));
        return record is null ? null : Opened(record);
    }

    public async Task<IReadOnlyList<VisionRecord>> HistoryAsync(long roundId, string corpId, string studentUserId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<VisionRecord>(new CommandDefinition($"""
            SELECT {RecordColumns} FROM vision_record_history
            WHERE round_id = @roundId AND corp_id = @corpId AND student_user_id = @studentUserId ORDER BY version
            """, new { roundId, corpId, studentUserId }, cancellationToken: ct))).Select(Opened).ToList();
    }

    /// <summary>The child's current records across rounds (only published ones when <paramref name="publishedOnly"/>), oldest first.</summary>
    public async Task<IReadOnlyList<(VisionRound Round, VisionRecord Record)>> StudentRecordsAsync(string corpId, string studentUserId,
        bool publishedOnly, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var published = publishedOnly
            ? "AND EXISTS (SELECT 1 FROM vision_round_schools s WHERE s.round_id = r.round_id AND s.corp_id = r.corp_id AND s.published_at IS NOT NULL)"
            : "";
        // With the history that came with the child from an earlier school (docs/privacy.md "Transfer").
        var records = (await connection.QueryAsync<VisionRecord>(new CommandDefinition($"""
            SELECT {RecordColumns} FROM vision_records r WHERE r.corp_id = @corpId AND r.student_user_id = @studentUserId {published}
            UNION ALL
            SELECT {RecordColumns} FROM vision_records_transferred WHERE corp_id = @corpId AND student_user_id = @studentUserId
            """, new { corpId, studentUserId }, cancellationToken: ct))).Select(Opened).ToList();
        var result = new List<(VisionRound, VisionRecord)>();
        foreach (var record in records)
        {
            result.Add(((await connection.QuerySingleAsync<VisionRound>(new CommandDefinition(
                $"SELECT {RoundColumns} FROM vision_rounds WHERE id = @RoundId", record, cancellationToken: ct))), record));
        }

        return result.OrderBy(r => r.Item2.ScreenedOn).ThenBy(r => r.Item1.Id).ToList();
    }

    // ---- referrals ----

    /// <summary>A school's referrals (cancelled ones aside); with <paramref name="publishedOnly"/> only those of rounds published to its parents.</summary>
    public async Task<IReadOnlyList<VisionReferral>> ReferralsAsync(string corpId, long? classId, long? roundId, string? status, CancellationToken ct,
        bool publishedOnly = false)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<VisionReferral>(new CommandDefinition($"""
            SELECT {ReferralColumns} FROM vision_referrals
            WHERE corp_id = @corpId AND (@classId IS NULL OR class_id = @classId) AND (@roundId IS NULL OR round_id = @roundId)
              AND (@status IS NULL OR status = @status) AND status <> 'cancelled'
              AND (@publishedOnly = 0 OR EXISTS (SELECT 1 FROM vision_round_schools s
                                                 WHERE s.round_id = vision_referrals.round_id AND s.corp_id = vision_referrals.corp_id
                                                   AND s.published_at IS NOT NULL))
            ORDER BY class_id, student_user_id, round_id
            """, new { corpId, classId, roundId, status, publishedOnly = publishedOnly ? 1 : 0 }, cancellationToken: ct))).Select(Opened).ToList();
    }

    public async Task<IReadOnlyList<VisionReferral>> ReferralsOfStudentAsync(string corpId, string studentUserId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<VisionReferral>(new CommandDefinition($"""
            SELECT {ReferralColumns} FROM vision_referrals
            WHERE corp_id = @corpId AND student_user_id = @studentUserId AND status <> 'cancelled' ORDER BY round_id
            """, new { corpId, studentUserId }, cancellationToken: ct))).Select(Opened).ToList();
    }

    public async Task<VisionReferral?> FindReferralAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var referral = await connection.QuerySingleOrDefaultAsync<VisionReferral>(new CommandDefinition(
            $"SELECT {ReferralColumns} FROM vision_referrals WHERE id = @id", new { id }, cancellationToken: ct));
        return referral is null ? null : Opened(referral);
    }

    public async Task<bool> AcknowledgeReferralAsync(long id, string guardianUserId, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE vision_referrals SET status = 'acknowledged', acknowledged_at = @now, acknowledged_by_user_id = @guardianUserId
            WHERE id = @id AND status = 'open'
            """, new { id, guardianUserId, now }, cancellationToken: ct)) == 1;
    }

    public async Task<bool> ReportVisitAsync(long id, string guardianUserId, DateOnly visitDate, string hospital, string diagnosis,
        string? prescription, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE vision_referrals
            SET status = 'visited', visit_date = @visitDate, hospital = @hospital, diagnosis = @diagnosis, prescription = @prescription,
                reported_at = @now, acknowledged_at = COALESCE(acknowledged_at, @now),
                acknowledged_by_user_id = COALESCE(acknowledged_by_user_id, @guardianUserId)
            WHERE id = @id AND status IN ('open', 'acknowledged')
            """, new
        {
            id, guardianUserId, visitDate, hospital = db.Fields.Protect(hospital), diagnosis = db.Fields.Protect(diagnosis),
            prescription = db.Fields.Protect(prescription), now,
        }, cancellationToken: ct)) == 1;
    }

    /// <summary>
    /// Takes the referrals not yet reminded since <paramref name="dayStart"/> and stamps them, one row at a time in one
    /// transaction, so that of two concurrent reminders each referral goes to exactly one; returns the ids taken.
    /// </summary>
    public Task<HashSet<long>> ClaimReminderAsync(IReadOnlyList<long> ids, DateTime now, DateTime dayStart, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            var claimed = new HashSet<long>();
            foreach (var id in ids)
            {
                if (await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                        UPDATE vision_referrals SET last_reminded_at = @now
                        WHERE id = @id AND (last_reminded_at IS NULL OR last_reminded_at < @dayStart)
                        """, new { id, now, dayStart }, tx, cancellationToken: token)) == 1)
                {
                    claimed.Add(id);
                }
            }

            return claimed;
        }, ct);

    // ---- people to notify ----

    public async Task<IReadOnlyList<string>> ScreenedStudentsAsync(long roundId, string corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT student_user_id FROM vision_records WHERE round_id = @roundId AND corp_id = @corpId", new { roundId, corpId },
            cancellationToken: ct))).ToList();
    }

    /// <summary>Referrals per class (cancelled ones aside): made, acknowledged, visited.</summary>
    public async Task<IReadOnlyList<(string CorpId, long ClassId, string ClassName, long Referred, long Acknowledged, long Visited)>>
        ReferralCompletionAsync(long? roundId, string? corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string, long, string, long, long, long)>(new CommandDefinition("""
            SELECT f.corp_id, f.class_id, COALESCE(MAX(c.class_name), ''), COUNT(*),
                   SUM(CASE WHEN f.status IN ('acknowledged', 'visited') THEN 1 ELSE 0 END), SUM(CASE WHEN f.status = 'visited' THEN 1 ELSE 0 END)
            FROM vision_referrals f
            LEFT JOIN vision_round_classes c ON c.round_id = f.round_id AND c.corp_id = f.corp_id AND c.class_id = f.class_id
            WHERE f.status <> 'cancelled' AND (@roundId IS NULL OR f.round_id = @roundId) AND (@corpId IS NULL OR f.corp_id = @corpId)
            GROUP BY f.corp_id, f.class_id
            """, new { roundId, corpId }, cancellationToken: ct))).ToList();
    }

    // ---- imports ----

    public async Task<long> RecordImportAsync(long roundId, string corpId, string sha256, string fileName, string mode, int totalRows,
        int badRows, SaveOutcome outcome, string errors, string userId, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition($"""
            INSERT INTO vision_imports (round_id, corp_id, file_sha256, file_name, mode, total_rows, bad_rows, created, updated, unchanged,
                                        errors, imported_by_user_id, imported_at)
            VALUES (@roundId, @corpId, @sha256, @fileName, @mode, @totalRows, @badRows, @Created, @Updated, @Unchanged, @errors, @userId, @now);
            {db.Dialect.SelectLastInsertId};
            """, new
        {
            roundId, corpId, sha256, fileName, mode, totalRows, badRows, outcome.Created, outcome.Updated, outcome.Unchanged, errors, userId, now,
        }, cancellationToken: ct));
    }

    // ---- classrooms ----

    public async Task SaveClassroomAsync(VisionClassroom classroom, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            db.Dialect.Upsert("vision_classrooms", ["corp_id", "classroom_id"],
                ["name", "lighting_renovated_on", "desks", "adjustable_desks", "updated_at", "updated_by_user_id"]),
            new
            {
                corp_id = classroom.CorpId, classroom_id = classroom.ClassroomId, name = classroom.Name,
                lighting_renovated_on = classroom.LightingRenovatedOn, desks = classroom.Desks, adjustable_desks = classroom.AdjustableDesks,
                updated_at = classroom.UpdatedAt, updated_by_user_id = classroom.UpdatedByUserId,
            }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<VisionClassroom>> ClassroomsAsync(string? corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<VisionClassroom>(new CommandDefinition("""
            SELECT corp_id, classroom_id, name, lighting_renovated_on, desks, adjustable_desks, updated_at, updated_by_user_id
            FROM vision_classrooms WHERE (@corpId IS NULL OR corp_id = @corpId) ORDER BY corp_id, classroom_id
            """, new { corpId }, cancellationToken: ct))).ToList();
    }

    // ---- sealed fields (docs/encryption.md) ----

    /// <summary>A record with its per-eye values read out of eyes_sealed (a row from before encryption has them in its own columns).</summary>
    private VisionRecord Opened(VisionRecord record) => record.EyesSealed is null
        ? record
        : EyeValues.FromJson(db.Fields.Unprotect(record.EyesSealed)).ApplyTo(record);

    private VisionReferral Opened(VisionReferral referral) => referral with
    {
        Hospital = db.Fields.Unprotect(referral.Hospital), Diagnosis = db.Fields.Unprotect(referral.Diagnosis),
        Prescription = db.Fields.Unprotect(referral.Prescription),
    };

    internal static string GlassesCode(GlassesType glasses) => glasses switch
    {
        GlassesType.None => "none",
        GlassesType.Frame => "frame",
        GlassesType.Contact => "contact",
        _ => "ok-lens",
    };

    internal static string? Code<T>(T? value) where T : struct, Enum => value?.ToString().ToLowerInvariant();
}
