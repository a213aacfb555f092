using System.Text.Json;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Training;

internal sealed record RegistrationRun(long Id, string Name, int CycleStartYear, int Teachers, int Passed, int Deferred, int Failed, DateTime CreatedAt,
    string CreatedByCorpId, string CreatedByUserId);

internal sealed record RegistrationRow(string CorpId, string UserId, string Name, decimal Total, string Outcome, IReadOnlyList<string> Reasons);

internal sealed record RegistrationRunView(RegistrationRun Run, IReadOnlyList<RegistrationRow> Rows);

[RequestSchema("name")]
internal sealed record RegistrationRunRequest(string? Name);

/// <summary>
/// 定期注册 runs (docs/training.md): the bureau freezes every current teacher's standing — total, outcome and reasons,
/// over all the person's accounts — as a snapshot that later corrections do not alter. Computed set-based: the
/// schools' staff, credits, appraisals and person links read once, people joined by links and by unionid within a
/// unionId space, then <see cref="CreditCompliance"/> per person.
/// </summary>
internal sealed class RegistrationRuns(Database db, CorpDirectory corps, AuditLog audit, IOptions<TrainingOptions> options, TimeProvider time)
{
    public async Task<RegistrationRunView> CreateAsync(Caller caller, RegistrationRunRequest request, CancellationToken ct)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            throw new ForbiddenException("Missing scope: admin of the bureau (the bureau runs 定期注册).");
        }

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            throw new RequestValidationException("name", "is required (e.g. 2026年定期注册), at most 100 characters");
        }

        var rules = options.Value;
        var rows = await StandingsAsync(corps.All.Where(c => c.Kind == CorpKind.School).Select(c => c.CorpId).ToList(), rules, ct);
        var now = time.UtcNowForDatabase();
        var runId = await db.InTransactionAsync(async (tx, token) =>
        {
            var id = await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
                INSERT INTO training_registration_runs (name, cycle_start_year, teachers, passed, deferred, failed, created_at, created_by_corp_id,
                                                        created_by_user_id)
                VALUES (@name, @cycle, @teachers, @passed, @deferred, @failed, @now, @byCorp, @byUser);
                {db.Dialect.SelectLastInsertId};
                """, new
            {
                name = request.Name.Trim(), cycle = rules.CycleStartYear, teachers = rows.Count,
                passed = rows.Count(r => r.Outcome == RegistrationOutcome.Pass), deferred = rows.Count(r => r.Outcome == RegistrationOutcome.Deferred),
                failed = rows.Count(r => r.Outcome == RegistrationOutcome.Fail), now, byCorp = caller.Account.CorpId, byUser = caller.Account.UserId,
            }, tx, cancellationToken: token));
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "training_registration_rows",
                ["corp_id", "user_id", "name", "total", "outcome", "reasons"], rows,
                r => [r.CorpId, r.UserId, r.Name, r.Total, r.Outcome, JsonSerializer.Serialize(r.Reasons)], token, shared: [("run_id", id)]);
            return id;
        }, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.registration-run", caller.Account.CorpId, [],
            $"run {runId} '{request.Name.Trim()}': {rows.Count} teachers", AuditLog.Allowed, ct);
        return (await GetAsync(caller, runId, null, ct))!;
    }

    /// <summary>A run as frozen: the bureau's admins see every school, a school's admins their own (<paramref name="corpId"/> required).</summary>
    public async Task<RegistrationRunView> GetAsync(Caller caller, long id, string? corpId, CancellationToken ct)
    {
        if (!AccessPolicy.IsBureauAdmin(caller) && (corpId is null || !caller.Has(Roles.SchoolAdmin, corpId)))
        {
            throw new ForbiddenException("Missing scope: admin of the bureau, or of the school named by corpId.");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var run = await connection.QuerySingleOrDefaultAsync<RegistrationRun>(new CommandDefinition("""
            SELECT id, name, cycle_start_year, teachers, passed, deferred, failed, created_at, created_by_corp_id, created_by_user_id
            FROM training_registration_runs WHERE id = @id
            """, new { id }, cancellationToken: ct)) ?? throw new NotFoundException($"No registration run {id}.");
        var rows = await connection.QueryAsync<(string CorpId, string UserId, string Name, decimal Total, string Outcome, string Reasons)>(
            new CommandDefinition($"""
                SELECT corp_id, user_id, name, total, outcome, reasons FROM training_registration_rows
                WHERE run_id = @id{(corpId is null ? "" : " AND corp_id = @corpId")} ORDER BY corp_id, user_id
                """, new { id, corpId }, cancellationToken: ct));
        return new RegistrationRunView(run, rows.Select(r => new RegistrationRow(r.CorpId, r.UserId, r.Name, r.Total, r.Outcome,
            JsonSerializer.Deserialize<List<string>>(r.Reasons) ?? [])).ToList());
    }

    /// <summary>Every current staff member of <paramref name="corpIds"/> with their standing over all their accounts' records.</summary>
    public async Task<IReadOnlyList<RegistrationRow>> StandingsAsync(IReadOnlyList<string> corpIds, TrainingOptions rules, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var staff = (await connection.QueryAsync<(string CorpId, string UserId, string Name, string? UnionId, DateTime? RemovedAt)>(new CommandDefinition(
            "SELECT corp_id, user_id, name, union_id, removed_at FROM staff WHERE corp_id IN @corpIds", new { corpIds }, cancellationToken: ct))).ToList();
        var links = await connection.QueryAsync<(string CorpA, string UserA, string CorpB, string UserB)>(new CommandDefinition(
            "SELECT corp_id_a, user_id_a, corp_id_b, user_id_b FROM person_links WHERE unlinked_at IS NULL", cancellationToken: ct));
        var credits = await connection.QueryAsync<PersonCredit>(new CommandDefinition("""
            SELECT corp_id, user_id, earned_on, credits, kind, domain, level, source, practical, concentrated FROM training_credits
            WHERE status = 'approved' AND corp_id IN @corpIds
            """, new { corpIds }, cancellationToken: ct));
        var appraisals = await connection.QueryAsync<(string CorpId, string UserId, int Year, bool Passed)>(new CommandDefinition(
            "SELECT corp_id, user_id, year, passed FROM training_appraisals WHERE corp_id IN @corpIds", new { corpIds }, cancellationToken: ct));

        // One person: accounts joined by a link in force, or by the same unionid among corps of one unionId space.
        var parent = new Dictionary<(string, string), (string, string)>();
        (string, string) Root((string, string) account)
        {
            while (parent.TryGetValue(account, out var up) && up != account)
            {
                account = up;
            }

            return account;
        }

        void Join((string, string) a, (string, string) b)
        {
            var (ra, rb) = (Root(a), Root(b));
            if (ra != rb)
            {
                parent[ra] = rb;
            }
        }

        foreach (var l in links)
        {
            Join((l.CorpA, l.UserA), (l.CorpB, l.UserB));
        }

        foreach (var same in staff.Where(s => !string.IsNullOrEmpty(s.UnionId)).GroupBy(s => (Space: corps.SameUnionIdSpace(s.CorpId)[0], s.UnionId)))
        {
            var first = same.First();
            foreach (var other in same.Skip(1))
            {
                Join((first.CorpId, first.UserId), (other.CorpId, other.UserId));
            }
        }

        var creditsOf = credits.ToLookup(c => Root((c.CorpId, c.UserId)), c => c.AsEntry());
        var appraisalsOf = appraisals.ToLookup(a => Root((a.CorpId, a.UserId)));
        return staff.Where(s => s.RemovedAt is null).Select(s =>
        {
            var person = Root((s.CorpId, s.UserId));
            // Where two schools recorded the same year, a failed appraisal stands.
            var results = appraisalsOf[person].GroupBy(a => a.Year).Select(g => new AppraisalResult(g.Key, g.All(a => a.Passed))).OrderBy(a => a.Year).ToList();
            var compliance = CreditCompliance.Evaluate(rules.CycleStartYear, creditsOf[person].ToList(), results, rules);
            return new RegistrationRow(s.CorpId, s.UserId, s.Name, compliance.Total, compliance.Registration, compliance.Reasons);
        }).OrderBy(r => r.CorpId, StringComparer.Ordinal).ThenBy(r => r.UserId, StringComparer.Ordinal).ToList();
    }

    private sealed record PersonCredit(string CorpId, string UserId, DateOnly EarnedOn, decimal? Credits, string Kind, int Domain, string Level, string Source,
        bool Practical, bool Concentrated)
    {
        public CreditEntry AsEntry() => new(EarnedOn, Credits ?? 0m, Kind, Domain, Level, Source, Practical, Concentrated);
    }
}
