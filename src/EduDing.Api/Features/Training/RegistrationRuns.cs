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

internal sealed record RegistrationRow(string CorpId, string UserId, string Name, decimal Total, [property: CodeValues(typeof(RegistrationOutcome))] string Outcome, IReadOnlyList<string> Reasons);

internal sealed record RegistrationRunView(RegistrationRun Run, IReadOnlyList<RegistrationRow> Rows);

[RequestSchema("name")]
internal sealed record RegistrationRunRequest(string? Name);

/// <summary>
/// 定期注册 runs (docs/training.md): the bureau freezes every current teacher's standing — total, outcome and reasons,
/// over all the person's accounts — as a snapshot that later corrections do not alter, computed set-based by
/// <see cref="TrainingStandings"/>.
/// </summary>
internal sealed class RegistrationRuns(Database db, CorpDirectory corps, TrainingStandings standings, AuditLog audit, IOptions<TrainingOptions> options, TimeProvider time)
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
        var rows = (await standings.OfSchoolsAsync(corps.All.Where(c => c.Kind == CorpKind.School).Select(c => c.CorpId).ToList(), rules, ct))
            .Select(s => new RegistrationRow(s.CorpId, s.UserId, s.Name, s.Compliance.Total, s.Compliance.Registration, s.Compliance.Reasons)).ToList();
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
}
