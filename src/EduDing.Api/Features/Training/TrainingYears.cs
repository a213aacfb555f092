using System.Globalization;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Training;

/// <summary>A school's year: confirmed by the school, locked by the bureau (reopened for a correction).</summary>
internal sealed record TrainingYear(string CorpId, int Year, DateTime? ConfirmedAt, string? ConfirmedByUserId, DateTime? LockedAt, string? LockedByUserId,
    DateTime? ReopenedAt);

internal sealed record LockResult(int Year, int SchoolsLocked, IReadOnlyList<string> NotConfirmed);

[RequestSchema("reason")]
internal sealed record ReopenRequest(string? Reason);

/// <summary>
/// Annual closing (docs/training.md): each school confirms its teachers' year, then the bureau locks the year for every
/// school; a locked year's credits and appraisals no longer change (409), until a correction request of the school,
/// approved by the bureau's admins (approval kind <c>training-year-reopen</c>), reopens it for that school. Audited.
/// </summary>
internal sealed class TrainingYears(Database db, CorpDirectory corps, AccessPolicy access, ApprovalService approvals, AuditLog audit, TimeProvider time)
{
    private const string Columns = "corp_id, year, confirmed_at, confirmed_by_user_id, locked_at, locked_by_user_id, reopened_at";

    public async Task<IReadOnlyList<TrainingYear>> OfSchoolAsync(Caller caller, string corpId, CancellationToken ct)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            access.RequireSchoolAdmin(caller, corpId, "the school closes its teachers' years");
        }

        access.School(corpId);
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<TrainingYear>(new CommandDefinition(
            $"SELECT {Columns} FROM training_years WHERE corp_id = @corpId ORDER BY year", new { corpId }, cancellationToken: ct))).ToList();
    }

    public async Task<TrainingYear> ConfirmAsync(Caller caller, string corpId, int year, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school confirms its teachers' year");
        RequireYear(year);
        await RequireOpenAsync(corpId, year, ct);
        var now = time.UtcNowForDatabase();
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                db.Dialect.Upsert("training_years", ["corp_id", "year"], ["confirmed_at", "confirmed_by_user_id"]),
                new { corp_id = corpId, year, confirmed_at = now, confirmed_by_user_id = caller.UserIdIn(corpId) }, cancellationToken: ct));
        }

        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.year.confirm", corpId, [], $"year {year}", AuditLog.Allowed, ct);
        return (await FindAsync(corpId, year, ct))!;
    }

    /// <summary>The bureau locks the year for every school it serves; the schools that had not confirmed it are listed.</summary>
    public async Task<LockResult> LockAsync(Caller caller, int year, CancellationToken ct)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            throw new ForbiddenException("Missing scope: admin of the bureau (the bureau locks a year).");
        }

        RequireYear(year);
        var schools = corps.All.Where(c => c.Kind == CorpKind.School).Select(c => c.CorpId).ToList();
        var now = time.UtcNowForDatabase();
        var notConfirmed = new List<string>();
        await db.InTransactionAsync(async (tx, token) =>
        {
            var confirmed = (await tx.Connection!.QueryAsync<string>(new CommandDefinition(
                "SELECT corp_id FROM training_years WHERE year = @year AND confirmed_at IS NOT NULL", new { year }, tx, cancellationToken: token))).ToHashSet();
            notConfirmed.Clear();
            notConfirmed.AddRange(schools.Where(s => !confirmed.Contains(s)));
            foreach (var corpId in schools)
            {
                await tx.Connection!.ExecuteAsync(new CommandDefinition(
                    db.Dialect.Upsert("training_years", ["corp_id", "year"], ["locked_at", "locked_by_user_id", "reopened_at"]),
                    new { corp_id = corpId, year, locked_at = now, locked_by_user_id = caller.Account.UserId, reopened_at = (DateTime?)null }, tx,
                    cancellationToken: token));
            }
        }, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.year.lock", caller.Account.CorpId, [],
            $"year {year} locked for {schools.Count} schools; not confirmed: {string.Join(", ", notConfirmed)}", AuditLog.Allowed, ct);
        return new LockResult(year, schools.Count, notConfirmed);
    }

    /// <summary>The school asks the bureau to reopen a locked year for a correction; decided through the approvals platform.</summary>
    public async Task<ApprovalRequest> RequestReopenAsync(Caller caller, string corpId, int year, string? reason, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school asks to reopen its year");
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > 500)
        {
            throw new RequestValidationException("reason", "is required (what must be corrected), at most 500 characters");
        }

        var closing = await FindAsync(corpId, year, ct);
        if (closing?.LockedAt is not { } lockedAt)
        {
            throw new ConflictException($"Year {year} is not locked for this school.", $"本校 {year} 年度尚未锁定。", reason: "year_not_locked");
        }

        var request = await approvals.SubmitAsync(new ApprovalSubmission(TrainingYearReopenKind.Name, corpId,
                TrainingYearReopenKind.SubjectOf(corpId, year, lockedAt), $"{year} 年度培训学分更正", reason.Trim()),
            (corpId, caller.UserIdIn(corpId)), ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.year.reopen-request", corpId, [],
            $"year {year}: {reason.Trim()}", AuditLog.Allowed, ct);
        return request;
    }

    /// <summary>409 when the year of <paramref name="earnedOn"/> is locked for the school.</summary>
    public Task RequireOpenAsync(string corpId, DateOnly earnedOn, CancellationToken ct) => RequireOpenAsync(corpId, earnedOn.Year, ct);

    public async Task RequireOpenAsync(string corpId, int year, CancellationToken ct)
    {
        if (await FindAsync(corpId, year, ct) is { LockedAt: not null })
        {
            throw new ConflictException($"Year {year} is closed for this school: ask the bureau to reopen it for a correction.", $"本校 {year} 年度已关账，如需更正请向教育局申请重新开放。", reason: "year_closed");
        }
    }

    /// <summary>The (school, year) pairs locked now.</summary>
    public async Task<IReadOnlySet<(string CorpId, int Year)>> LockedAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string, int)>(new CommandDefinition(
            "SELECT corp_id, year FROM training_years WHERE locked_at IS NOT NULL", cancellationToken: ct))).ToHashSet();
    }

    public async Task<TrainingYear?> FindAsync(string corpId, int year, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<TrainingYear>(new CommandDefinition(
            $"SELECT {Columns} FROM training_years WHERE corp_id = @corpId AND year = @year", new { corpId, year }, cancellationToken: ct));
    }

    private static void RequireYear(int year)
    {
        if (year is < 2016 or > 2100)
        {
            throw new RequestValidationException("year", "must be a year from 2016 (the credit system's start)");
        }
    }
}

/// <summary>A school's request to reopen a locked year: the bureau's admins decide; approved, the year is open for the school again.</summary>
internal sealed class TrainingYearReopenKind(Database db, AuditLog audit, TimeProvider time) : IApprovalKind
{
    public const string Name = "training-year-reopen";

    public string Kind => Name;

    public string DisplayName => "培训学分年度更正";

    public ApprovalChain DefaultChain { get; } = new([new ApprovalStep(ApproverSource.BureauAdmins, StepMode.Any)]);

    /// <summary>One request per school, year and lock (a year locked again may be reopened again).</summary>
    public static string SubjectOf(string corpId, int year, DateTime lockedAt) =>
        string.Create(CultureInfo.InvariantCulture, $"{corpId}/{year}/{lockedAt.Ticks}");

    public async Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct)
    {
        if (request.Status != ApprovalStatus.Approved)
        {
            return;
        }

        var parts = request.SubjectId.Split('/');
        var (corpId, year, lockedAt) = (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), new DateTime(long.Parse(parts[2], CultureInfo.InvariantCulture)));
        await using var connection = await db.OpenConnectionAsync(ct);
        // Only the lock the request was about: a later lock stays.
        if (await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE training_years SET locked_at = NULL, reopened_at = @now
                WHERE corp_id = @corpId AND year = @year AND locked_at = @lockedAt
                """, new { corpId, year, lockedAt, now = time.UtcNowForDatabase() }, cancellationToken: ct)) == 1)
        {
            await audit.WriteAsync(decision?.ActorCorpId ?? corpId, decision?.ActorUserId ?? "system", "training.year.reopen", corpId, [],
                $"year {year} reopened (request {request.Id})", AuditLog.Allowed, ct);
        }
    }
}
