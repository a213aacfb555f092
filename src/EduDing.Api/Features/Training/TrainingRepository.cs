using System.ComponentModel;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Training;

/// <summary>A credit as stored: claimed (pending review) or recorded, approved, rejected, returned or withdrawn.</summary>
internal sealed record TrainingCredit(long Id, string CorpId, string UserId, [property: CodeValues(typeof(CreditKind))] string Kind, [property: CodeValues(typeof(CreditSource))] string Source, int Domain, [property: CodeValues(typeof(CreditLevel))] string Level, decimal? Credits,
    decimal? Hours, DateOnly EarnedOn, string Title, string Organiser, bool Practical, bool Concentrated, string? EvidenceUrl, [property: CodeValues(typeof(CreditStatus))] string Status,
    DateTime CreatedAt, string CreatedByCorpId, string CreatedByUserId, DateTime? DecidedAt, string? TrainingLevel = null, long? SupersededBy = null)
{
    /// <summary>The split across domains and levels, where the credits were split (null: wholly in <see cref="Domain"/> and <see cref="Level"/>).</summary>
    public IReadOnlyList<CreditPart>? Parts { get; init; }

    /// <summary>As the rules see it: one entry, or one per part of a split.</summary>
    public IEnumerable<CreditEntry> AsEntries() => Parts is { Count: > 0 }
        ? Parts.Select(p => new CreditEntry(EarnedOn, p.Credits, Kind, p.Domain, p.Level, Source, Practical, Concentrated))
        : [new CreditEntry(EarnedOn, Credits ?? 0m, Kind, Domain, Level, Source, Practical, Concentrated)];
}

internal static class CreditStatus
{
    [Description("待审核")]
    public const string Pending = "pending";
    [Description("已认定")]
    public const string Approved = "approved";
    [Description("未认定")]
    public const string Rejected = "rejected";
    [Description("已退回")]
    public const string Returned = "returned";
    [Description("已撤回")]
    public const string Withdrawn = "withdrawn";

    /// <summary>Replaced by the provincial platform's record of the same training (which counts instead).</summary>
    [Description("已由省平台记录取代")]
    public const string Superseded = "superseded";
}

/// <summary>A training the teacher enrolled in, with its result and certificate code.</summary>
internal sealed record ArchivedTraining(long TrainingId, string Title, string OrganiserCorpId, string CorpId, string UserId,
    [property: CodeValues(typeof(Approvals.ApprovalStatus))] string Status, string? Result,
    string? CertificateCode, DateTime EnrolledAt, DateTime? ResultAt);

/// <summary>The teacher's line in a 定期注册 run, as frozen.</summary>
internal sealed record ArchivedRegistration(long RunId, string RunName, DateTime FrozenAt, string CorpId, decimal Total, [property: CodeValues(typeof(RegistrationOutcome))] string Outcome, string Reasons);

/// <summary>Teachers' credits and annual appraisals, by account; a person's accounts are passed in together.</summary>
internal sealed class TrainingRepository(Database db)
{
    private const string Columns = """
        id, corp_id, user_id, kind, source, domain, level, credits, hours, earned_on, title, organiser, practical, concentrated, evidence_url,
        status, created_at, created_by_corp_id, created_by_user_id, decided_at, training_level, superseded_by
        """;

    public bool IsUniqueViolation(System.Data.Common.DbException ex) => db.Dialect.IsUniqueViolation(ex);

    public async Task<long> AddAsync(TrainingCredit c, CancellationToken ct, long? priorApprovalId = null) =>
        await db.InTransactionAsync(async (tx, token) =>
        {
            var id = await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
                INSERT INTO training_credits (corp_id, user_id, kind, source, domain, level, credits, hours, earned_on, title, organiser, practical,
                                              concentrated, evidence_url, status, created_at, created_by_corp_id, created_by_user_id, decided_at,
                                              prior_approval_id)
                VALUES (@CorpId, @UserId, @Kind, @Source, @Domain, @Level, @Credits, @Hours, @EarnedOn, @Title, @Organiser, @Practical,
                        @Concentrated, @EvidenceUrl, @Status, @CreatedAt, @CreatedByCorpId, @CreatedByUserId, @DecidedAt, @priorApprovalId);
                {db.Dialect.SelectLastInsertId};
                """, new
            {
                c.CorpId, c.UserId, c.Kind, c.Source, c.Domain, c.Level, c.Credits, c.Hours, c.EarnedOn, c.Title, c.Organiser, c.Practical, c.Concentrated,
                c.EvidenceUrl, c.Status, c.CreatedAt, c.CreatedByCorpId, c.CreatedByUserId, c.DecidedAt, priorApprovalId,
            }, tx, cancellationToken: token));
            if (c.Parts is { Count: > 0 } parts)
            {
                await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "training_credit_parts", ["domain", "level", "credits"], parts,
                    p => [p.Domain, p.Level, p.Credits], token, shared: [("credit_id", id)]);
            }

            return id;
        }, ct);

    public async Task<TrainingCredit?> FindAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var credit = await connection.QuerySingleOrDefaultAsync<TrainingCredit>(new CommandDefinition(
            $"SELECT {Columns} FROM training_credits WHERE id = @id", new { id }, cancellationToken: ct));
        return credit is null ? null : (await WithPartsAsync(connection, [credit], ct))[0];
    }

    /// <summary>The credits with their parts, where they were split.</summary>
    private static async Task<IReadOnlyList<TrainingCredit>> WithPartsAsync(System.Data.Common.DbConnection connection, IReadOnlyList<TrainingCredit> credits,
        CancellationToken ct)
    {
        var parts = new List<(long CreditId, int Domain, string Level, decimal Credits)>();
        foreach (var chunk in credits.Select(c => c.Id).Chunk(500))
        {
            parts.AddRange(await connection.QueryAsync<(long, int, string, decimal)>(new CommandDefinition(
                "SELECT credit_id, domain, level, credits FROM training_credit_parts WHERE credit_id IN @chunk ORDER BY credit_id, domain, level",
                new { chunk }, cancellationToken: ct)));
        }

        var of = parts.ToLookup(p => p.CreditId, p => new CreditPart(p.Domain, p.Level, p.Credits));
        return credits.Select(c => of.Contains(c.Id) ? c with { Parts = of[c.Id].ToList() } : c).ToList();
    }

    /// <summary>Every credit of a person's accounts, oldest first.</summary>
    public async Task<IReadOnlyList<TrainingCredit>> CreditsAsync(IReadOnlyList<(string CorpId, string UserId)> identities, CancellationToken ct)
    {
        var (mine, args) = IdentityFilter.Of(identities, "corp_id", "user_id");
        await using var connection = await db.OpenConnectionAsync(ct);
        return await WithPartsAsync(connection, (await connection.QueryAsync<TrainingCredit>(new CommandDefinition(
            $"SELECT {Columns} FROM training_credits WHERE {mine} ORDER BY earned_on, id", args, cancellationToken: ct))).ToList(), ct);
    }

    /// <summary>Every training a person's accounts enrolled in, oldest first.</summary>
    public async Task<IReadOnlyList<ArchivedTraining>> TrainingsOfAsync(IReadOnlyList<(string CorpId, string UserId)> identities, CancellationToken ct)
    {
        var (mine, args) = IdentityFilter.Of(identities, "e.corp_id", "e.user_id");
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ArchivedTraining>(new CommandDefinition($"""
            SELECT e.training_id, t.title, t.organiser_corp_id, e.corp_id, e.user_id, e.status, e.result, e.certificate_code, e.enrolled_at, e.result_at
            FROM training_enrolments e JOIN trainings t ON t.id = e.training_id
            WHERE {mine} ORDER BY e.enrolled_at, e.training_id
            """, args, cancellationToken: ct))).ToList();
    }

    /// <summary>A person's lines in every 定期注册 run, oldest first.</summary>
    public async Task<IReadOnlyList<ArchivedRegistration>> RegistrationsOfAsync(IReadOnlyList<(string CorpId, string UserId)> identities, CancellationToken ct)
    {
        var (mine, args) = IdentityFilter.Of(identities, "r.corp_id", "r.user_id");
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ArchivedRegistration>(new CommandDefinition($"""
            SELECT r.run_id, u.name AS run_name, u.created_at AS frozen_at, r.corp_id, r.total, r.outcome, r.reasons
            FROM training_registration_rows r JOIN training_registration_runs u ON u.id = r.run_id
            WHERE {mine} ORDER BY u.created_at, r.run_id
            """, args, cancellationToken: ct))).ToList();
    }

    /// <summary>How many claims each teacher of the school has pending.</summary>
    public async Task<IReadOnlyDictionary<string, int>> PendingClaimsAsync(string corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string UserId, long Claims)>(new CommandDefinition(
                "SELECT user_id, COUNT(*) FROM training_credits WHERE corp_id = @corpId AND status = 'pending' GROUP BY user_id", new { corpId },
                cancellationToken: ct)))
            .ToDictionary(p => p.UserId, p => (int)p.Claims);
    }

    /// <summary>The profiles, class-adviser posts and mandatory trainings of a person's accounts.</summary>
    public async Task<TeacherFacts> FactsAsync(IReadOnlyList<(string CorpId, string UserId)> identities, CancellationToken ct)
    {
        var (mine, args) = IdentityFilter.Of(identities, "corp_id", "user_id");
        await using var connection = await db.OpenConnectionAsync(ct);
        return await TeacherFacts.ReadAsync(connection, $"({mine})", args, ct);
    }

    /// <summary>Moves a credit from one of <paramref name="from"/> to <paramref name="to"/>; false when it was not in one of them.</summary>
    public async Task<bool> SetStatusAsync(long id, IReadOnlyCollection<string> from, string to, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE training_credits SET status = @to, decided_at = @now WHERE id = @id AND status IN @from",
            new { id, from = from.ToList(), to, now }, cancellationToken: ct)) == 1;
    }

    /// <summary>The reviewer sets the credits of a claim still under review (only hours were known).</summary>
    public async Task<bool> SetCreditsAsync(long id, decimal credits, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE training_credits SET credits = @credits WHERE id = @id AND status IN ('pending', 'returned')", new { id, credits },
            cancellationToken: ct)) == 1;
    }

    public async Task SaveAppraisalAsync(string corpId, string userId, int year, bool passed, string byUserId, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            db.Dialect.Upsert("training_appraisals", ["corp_id", "user_id", "year"], ["passed", "recorded_by_user_id", "recorded_at"]),
            new { corp_id = corpId, user_id = userId, year, passed, recorded_by_user_id = byUserId, recorded_at = now }, cancellationToken: ct));
    }

    /// <summary>A person's appraisals by year; where two schools recorded the same year, a failed one stands.</summary>
    public async Task<IReadOnlyList<AppraisalResult>> AppraisalsAsync(IReadOnlyList<(string CorpId, string UserId)> identities, CancellationToken ct)
    {
        var (mine, args) = IdentityFilter.Of(identities, "corp_id", "user_id");
        await using var connection = await db.OpenConnectionAsync(ct);
        var found = await connection.QueryAsync<AppraisalResult>(new CommandDefinition(
            $"SELECT year, passed FROM training_appraisals WHERE {mine}", args, cancellationToken: ct));
        return found.GroupBy(a => a.Year).Select(g => new AppraisalResult(g.Key, g.All(a => a.Passed))).OrderBy(a => a.Year).ToList();
    }

    /// <summary>The teacher's school decided an enrolment still pending.</summary>
    public async Task<bool> DecideEnrolmentAsync(long trainingId, string corpId, string userId, string status, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE training_enrolments SET status = @status
            WHERE training_id = @trainingId AND corp_id = @corpId AND user_id = @userId AND status = 'pending'
            """, new { trainingId, corpId, userId, status }, cancellationToken: ct)) == 1;
    }

    public async Task SaveEvidenceAsync(long creditId, string fileName, string contentType, byte[] content, string sha256, string byUserId, DateTime now,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            db.Dialect.Upsert("training_evidence", ["credit_id"], ["file_name", "content_type", "size", "sha256", "content", "uploaded_at", "uploaded_by_user_id"]),
            new
            {
                credit_id = creditId, file_name = fileName, content_type = contentType, size = content.Length, sha256, content, uploaded_at = now,
                uploaded_by_user_id = byUserId,
            }, cancellationToken: ct));
    }

    public async Task<(string FileName, string ContentType, byte[] Content)?> EvidenceAsync(long creditId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<(string, string, byte[])?>(new CommandDefinition(
            "SELECT file_name, content_type, content FROM training_evidence WHERE credit_id = @creditId", new { creditId }, cancellationToken: ct));
    }
}
