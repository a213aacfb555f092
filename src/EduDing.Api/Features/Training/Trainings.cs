using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Training;

internal sealed record TrainingEvent(long Id, string OrganiserCorpId, string Scope, string Title, int Domain, [property: CodeValues(typeof(CreditLevel))] string Level, decimal Credits,
    int Capacity, DateTime CreatedAt, string CreatedByUserId, string? MandatoryFor = null);

/// <summary>Who a mandatory training is for, within its scope (the city's schools, or the organising school).</summary>
internal static class MandatoryGroup
{
    public const string AllTeachers = "all";
    public const string NewTeachers = "new-teachers";
    public const string ClassAdvisers = "class-advisers";

    public static readonly IReadOnlyList<string> All = [AllTeachers, NewTeachers, ClassAdvisers];
}

internal sealed record TrainingSession(long Id, long TrainingId, DateTime StartsAt, DateTime EndsAt, string Place, string SignInCode);

internal sealed record TrainingEnrolment(long TrainingId, string CorpId, string UserId, [property: CodeValues(typeof(ApprovalStatus))] string Status, string? Result, long? CreditId,
    string? CertificateCode, DateTime EnrolledAt, DateTime? ResultAt);

[RequestSchema("startsAt", "endsAt", "place")]
internal sealed record SessionRequest(DateTime? StartsAt, DateTime? EndsAt, string? Place);

[RequestSchema("corpId", "title", "credits", "capacity", "sessions")]
internal sealed record TrainingRequest(string? CorpId, string? Title, int? Domain, [property: CodeValues(typeof(CreditLevel))] string? Level, decimal? Credits, int? Capacity,
    IReadOnlyList<SessionRequest?>? Sessions, IReadOnlyDictionary<string, int>? Quotas = null, string? MandatoryFor = null,
    IReadOnlyList<CreditPartRequest?>? Parts = null);

internal sealed record TraineeResult(string? CorpId, string? UserId, string? Result);

[RequestSchema("results")]
internal sealed record ResultsRequest(IReadOnlyList<TraineeResult?>? Results);

/// <summary>What anyone holding a certificate's code can check.</summary>
internal sealed record CertificateDto(string Code, string TeacherName, string Title, string Organiser, string Result, decimal Credits, DateOnly IssuedOn);

/// <summary>A trainee's result: 合格 (pass) and 优秀 (excellent) give the training's credits, 不合格 (fail) none.</summary>
internal static class TraineeOutcome
{
    public static readonly IReadOnlyList<string> All = ["pass", "excellent", "fail"];
}

/// <summary>
/// The city's and schools' own trainings (docs/training.md; provincial projects are imported, never catalogued here):
/// the bureau's admins organise city trainings, a school's admins its 校本研修; a teacher enrols and their school decides
/// (someone covers their classes) through the approvals platform; trainees sign in at each session with the code shown
/// on the spot, within the session's window; the organiser records results in bulk, which give or take back the credits
/// and issue a certificate whose code anyone can verify.
/// </summary>
internal sealed class Trainings(Database db, TrainingRepository credits, OrgDirectory directory, AccessPolicy access, ApprovalService approvals,
    TrainingYears years, AuditLog audit, TimeProvider time)
{
    /// <summary>Sign-in opens this long before a session starts and closes when it ends.</summary>
    public static readonly TimeSpan SignInOpensBefore = TimeSpan.FromMinutes(30);

    private const string EnrolmentColumns = "training_id, corp_id, user_id, status, result, credit_id, certificate_code, enrolled_at, result_at";

    public async Task<TrainingEvent> CreateAsync(Caller caller, TrainingRequest request, CancellationToken ct)
    {
        RequireAdmin(caller);
        var corpId = request.CorpId ?? "";
        var city = AccessPolicy.IsBureauAdmin(caller) && caller.Has(Roles.BureauAdmin, corpId);
        if (!city)
        {
            access.RequireSchoolAdmin(caller, corpId, "the bureau organises city trainings, a school its 校本研修");
        }

        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Title) || request.Title.Length > 100)
        {
            errors["title"] = ["is required, at most 100 characters"];
        }

        // A training's credits may be split across domains and levels; its own domain and level are then its largest part's.
        var parts = CreditParts.Validate(request.Parts, request.Credits, errors);
        var (domain, level) = parts is null ? (request.Domain, request.Level) : (parts.MaxBy(p => p.Credits)!.Domain, parts.MaxBy(p => p.Credits)!.Level);
        if (request.Parts is not { Count: > 0 } && request.Domain is not (>= 1 and <= 7))
        {
            errors["domain"] = ["must be a knowledge domain 1 to 7, or the credits split in parts"];
        }

        if (request.Parts is not { Count: > 0 } && (request.Level is null || !CreditLevel.All.Contains(request.Level)))
        {
            errors["level"] = [$"must be one of {string.Join(", ", CreditLevel.All)}, or the credits split in parts"];
        }

        if (request.Credits is not (> 0 and <= 200))
        {
            errors["credits"] = ["must be more than 0 and at most 200 (given for 合格 and 优秀)"];
        }

        if (request.Capacity is not (>= 1 and <= 5000))
        {
            errors["capacity"] = ["must be 1 to 5,000"];
        }

        // A city training may share its places out among schools (per-school quotas); a school's own has no quotas.
        var quotas = request.Quotas ?? new Dictionary<string, int>();
        if (quotas.Count > 0 && (!city || quotas.Any(q => !access.IsSchool(q.Key) || q.Value < 1) || quotas.Values.Sum() > (request.Capacity ?? 0)))
        {
            errors["quotas"] = ["a city training's places per school: schools this deployment serves, at least 1 each, together at most the capacity"];
        }

        if (request.MandatoryFor is { } group && !MandatoryGroup.All.Contains(group))
        {
            errors["mandatoryFor"] = [$"when set, one of {string.Join(", ", MandatoryGroup.All)} (全体教师, 新任教师, 班主任)"];
        }

        var sessions = request.Sessions ?? [];
        if (sessions.Count is 0 or > 50)
        {
            errors["sessions"] = ["must list 1 to 50 sessions"];
        }

        for (var i = 0; i < Math.Min(sessions.Count, 50); i++)
        {
            if (sessions[i] is not { StartsAt: { } s, EndsAt: { } e } || e <= s || e - s > TimeSpan.FromHours(12) ||
                string.IsNullOrWhiteSpace(sessions[i]!.Place) || sessions[i]!.Place!.Length > 100)
            {
                errors[$"sessions[{i}]"] = ["startsAt, endsAt (after it, within 12 hours) and a place (≤ 100) are required"];
            }
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var now = time.UtcNowForDatabase();
        var id = await db.InTransactionAsync(async (tx, token) =>
        {
            var id = await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
                INSERT INTO trainings (organiser_corp_id, scope, title, domain, level, credits, capacity, created_at, created_by_user_id, mandatory_for)
                VALUES (@corpId, @scope, @title, @domain, @level, @credits, @capacity, @now, @by, @mandatoryFor);
                {db.Dialect.SelectLastInsertId};
                """, new
            {
                corpId, scope = city ? "city" : "school", title = request.Title!.Trim(), domain, level,
                credits = request.Credits, capacity = request.Capacity, now, by = caller.UserIdIn(corpId), mandatoryFor = request.MandatoryFor,
            }, tx, cancellationToken: token));
            if (parts is not null)
            {
                await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "training_parts", ["domain", "level", "credits"], parts, p => [p.Domain, p.Level, p.Credits],
                    token, shared: [("training_id", id)]);
            }

            foreach (var (school, places) in quotas)
            {
                await tx.Connection!.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO training_quotas (training_id, corp_id, places) VALUES (@id, @school, @places)", new { id, school, places }, tx,
                    cancellationToken: token));
            }

            foreach (var session in sessions)
            {
                await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO training_sessions (training_id, starts_at, ends_at, place, sign_in_code) VALUES (@id, @starts, @ends, @place, @code)
                    """, new
                {
                    id, starts = session!.StartsAt!.Value.ToUniversalTime(), ends = session.EndsAt!.Value.ToUniversalTime(), place = session.Place!.Trim(),
                    code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
                }, tx, cancellationToken: token));
            }

            return id;
        }, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.create", corpId, [], $"training {id}: {request.Title}",
            AuditLog.Allowed, ct);
        return (await FindAsync(id, ct))!;
    }

    public async Task<TrainingEvent?> FindAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<TrainingEvent>(new CommandDefinition("""
            SELECT id, organiser_corp_id, scope, title, domain, level, credits, capacity, created_at, created_by_user_id, mandatory_for
            FROM trainings WHERE id = @id
            """, new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<TrainingSession>> SessionsAsync(long trainingId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<TrainingSession>(new CommandDefinition(
            "SELECT id, training_id, starts_at, ends_at, place, sign_in_code FROM training_sessions WHERE training_id = @trainingId ORDER BY starts_at",
            new { trainingId }, cancellationToken: ct))).ToList();
    }

    /// <summary>The training's credits split across domains and levels (empty: wholly in its own).</summary>
    public async Task<IReadOnlyList<CreditPart>> PartsAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(int Domain, string Level, decimal Credits)>(new CommandDefinition(
                "SELECT domain, level, credits FROM training_parts WHERE training_id = @id ORDER BY domain, level", new { id }, cancellationToken: ct)))
            .Select(p => new CreditPart(p.Domain, p.Level, p.Credits)).ToList();
    }

    /// <summary>The training's places per school (empty: no quotas, first come across the city).</summary>
    public async Task<IReadOnlyDictionary<string, int>> QuotasAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await QuotasAsync(connection, null, id, ct);
    }

    private static async Task<IReadOnlyDictionary<string, int>> QuotasAsync(DbConnection connection, DbTransaction? tx, long id, CancellationToken ct) =>
        (await connection.QueryAsync<(string CorpId, int Places)>(new CommandDefinition(
            "SELECT corp_id, places FROM training_quotas WHERE training_id = @id", new { id }, tx, cancellationToken: ct)))
        .ToDictionary(q => q.CorpId, q => q.Places);

    /// <summary>The training with its sessions; their sign-in codes only for the organiser's admins.</summary>
    public async Task<(TrainingEvent Training, IReadOnlyList<TrainingSession> Sessions)> ViewAsync(Caller caller, long id, CancellationToken ct)
    {
        var training = await VisibleAsync(caller, id, ct);
        var sessions = await SessionsAsync(id, ct);
        return (training, IsOrganiser(caller, training) ? sessions : sessions.Select(s => s with { SignInCode = "" }).ToList());
    }

    /// <summary>A teacher enrols through their school, which decides (kind training-enrolment).</summary>
    public async Task<(TrainingEnrolment Enrolment, long ApprovalRequestId)> EnrolAsync(Caller caller, long id, string? corpId, CancellationToken ct)
    {
        var training = await VisibleAsync(caller, id, ct);
        if (string.IsNullOrWhiteSpace(corpId) || !caller.Has(Roles.SchoolStaff, corpId))
        {
            throw new RequestValidationException("corpId", "must be the school the caller teaches at (it decides the enrolment)");
        }

        var userId = caller.UserIdIn(corpId);
        var now = time.UtcNowForDatabase();
        var added = await db.InTransactionAsync(async (tx, token) =>
        {
            // The training's row first, so that concurrent enrolments count the places one after another.
            await tx.Connection!.ExecuteAsync(new CommandDefinition("UPDATE trainings SET capacity = capacity WHERE id = @id", new { id }, tx,
                cancellationToken: token));
            var taken = await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(
                $"SELECT COUNT(*) FROM training_enrolments WHERE training_id = @id AND status IN ('pending', 'approved'){db.Dialect.ForUpdate}",
                new { id }, tx, cancellationToken: token));
            if (taken >= training.Capacity)
            {
                throw new ConflictException($"Training {id} is full ({training.Capacity} places).", $"该培训名额已满（共 {training.Capacity} 人）。", reason: "training_full");
            }

            // With quotas, a school's teachers take only its own places.
            var quotas = await QuotasAsync(tx.Connection!, tx, id, token);
            if (quotas.Count > 0)
            {
                var ours = await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(
                    "SELECT COUNT(*) FROM training_enrolments WHERE training_id = @id AND corp_id = @corpId AND status IN ('pending', 'approved')",
                    new { id, corpId }, tx, cancellationToken: token));
                if (!quotas.TryGetValue(corpId, out var places) || ours >= places)
                {
                    throw new ConflictException(places == 0
                        ? $"Training {id} has no places for this school."
                        : $"This school's {places} places in training {id} are taken.",
                        places == 0 ? "该培训没有分配给本校的名额。" : $"本校在该培训的 {places} 个名额已报满。", reason: "school_places_taken");
                }
            }

            try
            {
                await tx.Connection!.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO training_enrolments (training_id, corp_id, user_id, status, enrolled_at) VALUES (@id, @corpId, @userId, 'pending', @now)
                    """, new { id, corpId, userId, now }, tx, cancellationToken: token));
            }
            catch (DbException ex) when (db.Dialect.IsUniqueViolation(ex))
            {
                return false;
            }

            return true;
        }, ct);
        if (!added)
        {
            throw new ConflictException($"You are already enrolled in training {id}.", "您已报名该培训。", reason: "already_enrolled");
        }

        var request = await approvals.SubmitAsync(new ApprovalSubmission(TrainingEnrolmentKind.Name, corpId,
            TrainingEnrolmentKind.SubjectOf(id, corpId, userId), $"{caller.Account.Name}：{training.Title}", "参训需安排代课"), (corpId, userId), ct);
        return ((await EnrolmentAsync(id, corpId, userId, ct))!, request.Id);
    }

    /// <summary>A trainee signs in at a session with the code shown there, within the session's window (from 30 minutes before to its end).</summary>
    public async Task<DateTime> SignInAsync(Caller caller, long id, long sessionId, string? code, CancellationToken ct)
    {
        var training = await VisibleAsync(caller, id, ct);
        var session = (await SessionsAsync(id, ct)).FirstOrDefault(s => s.Id == sessionId)
                      ?? throw new NotFoundException($"No session {sessionId} of training {id}.");
        var enrolment = await MineAsync(caller, training.Id, ct);
        if (enrolment is not { Status: "approved" })
        {
            throw new ForbiddenException("Only trainees whose enrolment their school approved sign in.", "只有学校已批准报名的学员可以签到。");
        }

        if (string.IsNullOrEmpty(code) || !CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.ASCII.GetBytes(code), System.Text.Encoding.ASCII.GetBytes(session.SignInCode)))
        {
            throw new RequestValidationException("code", "is not this session's sign-in code (scan the code shown at the session)");
        }

        var now = time.UtcNowForDatabase();
        if (now < session.StartsAt - SignInOpensBefore || now > session.EndsAt)
        {
            throw new RuleViolationException(
                $"Sign-in for this session is open from {ShanghaiTime.FromUtc(session.StartsAt - SignInOpensBefore):yyyy-MM-dd HH:mm} to {ShanghaiTime.FromUtc(session.EndsAt):HH:mm} (Beijing time).",
                $"签到时间为 {ShanghaiTime.FromUtc(session.StartsAt - SignInOpensBefore):M月d日 HH:mm} 至 {ShanghaiTime.FromUtc(session.EndsAt):HH:mm}。", reason: "sign_in_window");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO training_sign_ins (session_id, corp_id, user_id, signed_at) VALUES (@sessionId, @CorpId, @UserId, @now)",
                new { sessionId, enrolment.CorpId, enrolment.UserId, now }, cancellationToken: ct));
        }
        catch (DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            // Signed in already: the first sign-in stands.
        }

        return await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition(
            "SELECT signed_at FROM training_sign_ins WHERE session_id = @sessionId AND corp_id = @CorpId AND user_id = @UserId",
            new { sessionId, enrolment.CorpId, enrolment.UserId }, cancellationToken: ct));
    }

    /// <summary>
    /// The organiser records results in bulk: 合格 and 优秀 give the training's credits (an approved credit, with a
    /// certificate code), 不合格 takes them back. Only approved trainees.
    /// </summary>
    public async Task<IReadOnlyList<TrainingEnrolment>> ResultsAsync(Caller caller, long id, IReadOnlyList<TraineeResult?> results, CancellationToken ct)
    {
        RequireAdmin(caller);
        var training = await FindAsync(id, ct) ?? throw new NotFoundException($"No training {id}.");
        if (!IsOrganiser(caller, training))
        {
            throw new ForbiddenException("Missing scope: an admin of the training's organiser.");
        }

        var errors = new Dictionary<string, string[]>();
        var enrolments = (await EnrolmentsAsync(id, ct)).ToDictionary(e => (e.CorpId, e.UserId));
        if (results.Count is 0 or > 2000)
        {
            errors["results"] = ["must list 1 to 2,000 trainees"];
        }

        for (var i = 0; i < Math.Min(results.Count, 2000); i++)
        {
            var r = results[i];
            if (r is null || !enrolments.TryGetValue((r.CorpId ?? "", r.UserId ?? ""), out var e) || e.Status != "approved")
            {
                errors[$"results[{i}]"] = ["is not an approved trainee of this training"];
            }
            else if (r.Result is null || !TraineeOutcome.All.Contains(r.Result))
            {
                errors[$"results[{i}].result"] = [$"must be one of {string.Join(", ", TraineeOutcome.All)} (合格, 优秀, 不合格)"];
            }
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var now = time.UtcNowForDatabase();
        var sessions = await SessionsAsync(id, ct);
        var earnedOn = ShanghaiTime.DayOf(sessions.Max(s => s.EndsAt));
        var organiser = await OrganiserNameAsync(training, ct);
        // Results give or take back credits of the training's year: not in a school whose year is locked.
        foreach (var corpId in results.Select(r => r!.CorpId!).Distinct())
        {
            await years.RequireOpenAsync(corpId, earnedOn, ct);
        }

        var split = await PartsAsync(id, ct) is { Count: > 0 } trainingParts ? trainingParts : null;
        await using var connection = await db.OpenConnectionAsync(ct);
        foreach (var r in results)
        {
            var enrolment = enrolments[(r!.CorpId!, r.UserId!)];
            var creditId = enrolment.CreditId;
            if (r.Result != "fail" && creditId is null)
            {
                creditId = await credits.AddAsync(new TrainingCredit(0, enrolment.CorpId, enrolment.UserId, CreditKind.Regular,
                    training.Scope == "city" ? "city" : "school-based", training.Domain, training.Level, training.Credits, null, earnedOn, training.Title,
                    organiser, false, false, null, CreditStatus.Approved, now, caller.Account.CorpId, caller.Account.UserId, now) { Parts = split }, ct);
            }
            else if (r.Result != "fail" && creditId is { } existing)
            {
                await credits.SetStatusAsync(existing, [CreditStatus.Withdrawn], CreditStatus.Approved, now, ct);
            }
            else if (r.Result == "fail" && creditId is { } given)
            {
                await credits.SetStatusAsync(given, [CreditStatus.Approved], CreditStatus.Withdrawn, now, ct);
            }

            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE training_enrolments SET result = @Result, credit_id = @creditId, result_at = @now,
                       certificate_code = CASE WHEN @Result = 'fail' THEN certificate_code ELSE COALESCE(certificate_code, @code) END
                WHERE training_id = @id AND corp_id = @CorpId AND user_id = @UserId
                """, new { r.Result, creditId, now, code = NewCertificateCode(), id, r.CorpId, r.UserId }, cancellationToken: ct));
        }

        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.results", training.OrganiserCorpId, [],
            $"training {id}: {results.Count} results", AuditLog.Allowed, ct);
        return await EnrolmentsAsync(id, ct);
    }

    /// <summary>Anyone may check a certificate by its code; a code never issued, or of a result now 不合格, is not found.</summary>
    public async Task<CertificateDto> VerifyAsync(string code, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var enrolment = code.Length is < 8 or > 32 ? null : await connection.QuerySingleOrDefaultAsync<TrainingEnrolment>(new CommandDefinition(
            $"SELECT {EnrolmentColumns} FROM training_enrolments WHERE certificate_code = @code AND result IN ('pass', 'excellent')",
            new { code }, cancellationToken: ct));
        if (enrolment is null || await FindAsync(enrolment.TrainingId, ct) is not { } training)
        {
            throw new NotFoundException("No certificate has this code.");
        }

        var teacher = await directory.FindAccountAsync(enrolment.CorpId, enrolment.UserId, ct);
        return new CertificateDto(code, teacher?.Name ?? enrolment.UserId, training.Title, await OrganiserNameAsync(training, ct), enrolment.Result!,
            training.Credits, ShanghaiTime.DayOf(enrolment.ResultAt!.Value));
    }

    public async Task<IReadOnlyList<TrainingEnrolment>> EnrolmentsAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<TrainingEnrolment>(new CommandDefinition(
            $"SELECT {EnrolmentColumns} FROM training_enrolments WHERE training_id = @id ORDER BY corp_id, user_id", new { id }, cancellationToken: ct))).ToList();
    }

    public async Task<TrainingEnrolment?> EnrolmentAsync(long id, string corpId, string userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<TrainingEnrolment>(new CommandDefinition(
            $"SELECT {EnrolmentColumns} FROM training_enrolments WHERE training_id = @id AND corp_id = @corpId AND user_id = @userId",
            new { id, corpId, userId }, cancellationToken: ct));
    }

    private async Task<TrainingEnrolment?> MineAsync(Caller caller, long id, CancellationToken ct)
    {
        var (mine, args) = IdentityFilter.Of(caller.Identities, "corp_id", "user_id", new DynamicParameters(new { id }));
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QueryFirstOrDefaultAsync<TrainingEnrolment>(new CommandDefinition(
            $"SELECT {EnrolmentColumns} FROM training_enrolments WHERE training_id = @id AND ({mine}) ORDER BY corp_id, user_id", args,
            cancellationToken: ct));
    }

    private static void RequireAdmin(Caller caller)
    {
        if (!caller.HasAnywhere(Roles.SchoolAdmin) && !caller.HasAnywhere(Roles.BureauAdmin))
        {
            throw new ForbiddenException("Missing scope: an admin of a school or of the bureau (trainings are organised by them).");
        }
    }

    /// <summary>
    /// City trainings are for every teacher; a school's 校本研修 for its own staff (404 for other staff); anyone not on a
    /// staff at all is refused first.
    /// </summary>
    private async Task<TrainingEvent> VisibleAsync(Caller caller, long id, CancellationToken ct) =>
        !caller.HasAnywhere(Roles.SchoolStaff) && !caller.HasAnywhere(Roles.BureauStaff)
            ? throw new ForbiddenException("Missing scope: a teacher (staff of a school or of the bureau).")
            : await FindAsync(id, ct) is { } t && (t.Scope == "city" || caller.Has(Roles.SchoolStaff, t.OrganiserCorpId) || IsOrganiser(caller, t))
            ? t
            : throw new NotFoundException($"No training {id}.");

    private static bool IsOrganiser(Caller caller, TrainingEvent t) =>
        caller.Has(t.Scope == "city" ? Roles.BureauAdmin : Roles.SchoolAdmin, t.OrganiserCorpId);

    private async Task<string> OrganiserNameAsync(TrainingEvent t, CancellationToken ct) =>
        (await directory.CorpNamesAsync(ct)).GetValueOrDefault(t.OrganiserCorpId) ?? t.OrganiserCorpId;

    private static string NewCertificateCode() => Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
}

/// <summary>A teacher's enrolment in a training, decided by their school's admins (someone covers their classes).</summary>
internal sealed class TrainingEnrolmentKind(TrainingRepository repo) : IApprovalKind
{
    public const string Name = "training-enrolment";

    public string Kind => Name;

    public string DisplayName => "参训报名";

    public ApprovalChain DefaultChain { get; } = new([new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any)]);

    public static string SubjectOf(long trainingId, string corpId, string userId) =>
        string.Create(CultureInfo.InvariantCulture, $"{trainingId}:{corpId}:{userId}");

    public async Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct)
    {
        var parts = request.SubjectId.Split(':');
        var status = request.Status switch
        {
            ApprovalStatus.Approved => "approved",
            ApprovalStatus.Rejected => "rejected",
            ApprovalStatus.Withdrawn => "withdrawn",
            _ => null,
        };
        if (status is not null)
        {
            await repo.DecideEnrolmentAsync(long.Parse(parts[0], CultureInfo.InvariantCulture), parts[1],
                parts[2], status, ct);
        }
    }
}
