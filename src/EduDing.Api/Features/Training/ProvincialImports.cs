using System.Data.Common;
using System.Security.Cryptography;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Training;

internal sealed record ProvincialImportReport(long? ImportId, int TotalRows, int GoodRows, IReadOnlyList<ProvincialProblem> Problems, string OnErrors,
    bool Imported, int Created, int Updated, int Unchanged, int Superseded);

/// <summary>An approved local credit the provincial platform has no record of yet (the school registers it there).</summary>
internal sealed record UnregisteredCredit(long Id, string UserId, string? Name, string Title, [property: CodeValues(typeof(CreditSource))] string Source, DateOnly EarnedOn, decimal? Credits);

/// <summary>
/// The provincial platform's records brought in (docs/training.md): a school's own file or the bureau's city-wide one,
/// stored as approved credits of source <c>provincial</c>, idempotent by each row's key (a re-import updates what
/// changed and leaves the rest), and reconciled: a local claim or completion of the same person and training (the same
/// title, ended within <see cref="TrainingOptions.ReconcileWindowDays"/>) is superseded by the provincial record, which
/// counts instead. With <c>onErrors=reject</c> (the default) a file with any bad row stores nothing.
/// </summary>
internal sealed class ProvincialImports(Database db, CorpDirectory corps, TrainingYears years, AuditLog audit, IOptions<TrainingOptions> options,
    TimeProvider time)
{
    private const string LocalOpen = "('approved', 'pending', 'returned')";

    /// <summary>
    /// Who may import for <paramref name="corpId"/>: for a school, its admins or the bureau's (that school's teachers);
    /// for the bureau, its admins (every school's, each row naming its school). The school imported for, or null for
    /// the city. 403 before anything is read.
    /// </summary>
    public string? RequireScope(Caller caller, string corpId)
    {
        var corp = corps.Find(corpId);
        if (corp is { Kind: CorpKind.School } && (caller.Has(Roles.SchoolAdmin, corpId) || AccessPolicy.IsBureauAdmin(caller)))
        {
            return corpId;
        }

        return corp is { Kind: CorpKind.Bureau } && caller.Has(Roles.BureauAdmin, corpId)
            ? null
            : throw new ForbiddenException("Missing scope: admin of this school (its teachers' records) or of the bureau (the city's).");
    }

    public async Task<ProvincialImportReport> ImportAsync(Caller caller, string corpId, string fileName, byte[] file, string onErrors,
        CancellationToken ct)
    {
        var ownSchool = RequireScope(caller, corpId);
        if (onErrors is not ("reject" or "skip"))
        {
            throw new RequestValidationException("onErrors", "must be reject (nothing is stored when a row is bad) or skip (the good rows are stored)");
        }

        var schools = corps.All.Where(c => c.Kind == CorpKind.School && (ownSchool is null || c.CorpId == ownSchool)).ToList();
        IReadOnlyList<ImportableTeacher> teachers;
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            teachers = (await connection.QueryAsync<ImportableTeacher>(new CommandDefinition(
                "SELECT corp_id, user_id, name, job_number FROM staff WHERE corp_id IN @schools AND removed_at IS NULL",
                new { schools = schools.Select(s => s.CorpId).ToList() }, cancellationToken: ct))).ToList();
        }

        var rules = options.Value;
        var (total, parsed, parseProblems) = ProvincialImport.Parse(new MemoryStream(file), rules.ProvincialColumns, rules.DomainNames, ownSchool,
            schools.GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First().CorpId), teachers);
        // A record of a year the bureau has locked for the school is a row problem: the year is corrected by reopening it.
        var locked = await years.LockedAsync(ct);
        var closed = parsed.Where(r => locked.Contains((r.CorpId, r.EndedOn.Year))).ToList();
        var rows = parsed.Except(closed).ToList();
        var problems = parseProblems.Concat(closed.Select(r => new ProvincialProblem(r.Row,
            rules.ProvincialColumns.GetValueOrDefault("endedOn") ?? ProvincialImport.DefaultColumns["endedOn"],
            $"year {r.EndedOn.Year} is closed for this school: ask the bureau to reopen it"))).OrderBy(p => p.Row).ToList();
        var store = rows.Count > 0 && (problems.Count == 0 || onErrors == "skip");
        if (!store)
        {
            return new ProvincialImportReport(null, total, rows.Count, problems, onErrors, false, 0, 0, 0, 0);
        }

        var now = time.UtcNowForDatabase();
        var sha = Convert.ToHexString(SHA256.HashData(file)).ToLowerInvariant();
        var name = fileName.Length > 200 ? fileName[..200] : fileName;
        try
        {
            var (importId, created, updated, unchanged, superseded) = await db.InTransactionAsync(async (tx, token) =>
            {
                var (created, updated, unchanged, ids) = await UpsertAsync(tx, rows, caller, now, token);
                var superseded = await ReconcileAsync(tx, rows, ids, rules.ReconcileWindowDays, now, token);
                var importId = await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
                    INSERT INTO training_imports (corp_id, file_sha256, file_name, total_rows, good_rows, created, updated, unchanged, superseded,
                                                  imported_by_corp_id, imported_by_user_id, imported_at)
                    VALUES (@corpId, @sha, @name, @total, @good, @created, @updated, @unchanged, @superseded, @byCorp, @byUser, @now);
                    {db.Dialect.SelectLastInsertId};
                    """, new
                {
                    corpId, sha, name, total, good = rows.Count, created, updated, unchanged, superseded, byCorp = caller.Account.CorpId,
                    byUser = caller.Account.UserId, now,
                }, tx, cancellationToken: token));
                return (importId, created, updated, unchanged, superseded);
            }, ct);
            await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.provincial-import", corpId, [],
                $"import {importId} of {name} ({sha[..12]}): {rows.Count} of {total} rows; {created} new, {updated} updated, {unchanged} unchanged, " +
                $"{superseded} local credits superseded", AuditLog.Allowed, ct);
            return new ProvincialImportReport(importId, total, rows.Count, problems, onErrors, true, created, updated, unchanged, superseded);
        }
        catch (DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            throw new ConflictException("Another import of the same records ran at the same moment; import the file again.", "有人同时导入了相同的记录，请重新导入该文件。", reason: "concurrent_import");
        }
    }

    private static string KeyOf(ProvincialRow r) => $"{r.CorpId}/{r.UserId}/{r.ProjectCode}";

    /// <summary>Inserts the new rows and updates the changed ones; the stored credit's id of every row by its key.</summary>
    private async Task<(int Created, int Updated, int Unchanged, Dictionary<string, long> Ids)> UpsertAsync(DbTransaction tx,
        IReadOnlyList<ProvincialRow> rows, Caller caller, DateTime now, CancellationToken ct)
    {
        var connection = tx.Connection!;
        var existing = new Dictionary<string, StoredProvincial>();
        foreach (var chunk in rows.Select(KeyOf).Chunk(1000))
        {
            foreach (var stored in await connection.QueryAsync<StoredProvincial>(new CommandDefinition("""
                         SELECT id, provincial_key, title, organiser, earned_on, credits, domain, level, training_level, kind
                         FROM training_credits WHERE provincial_key IN @chunk
                         """, new { chunk }, tx, cancellationToken: ct)))
            {
                existing[stored.ProvincialKey] = stored;
            }
        }

        var fresh = rows.Where(r => !existing.ContainsKey(KeyOf(r))).ToList();
        await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "training_credits",
            ["corp_id", "user_id", "kind", "domain", "level", "credits", "earned_on", "title", "organiser", "provincial_key", "training_level"],
            fresh, r => [r.CorpId, r.UserId, r.Kind, r.Domain, r.Level, r.Credits, r.EndedOn, r.Title, r.Organiser, KeyOf(r), r.TrainingLevel], ct,
            shared:
            [
                ("source", "provincial"), ("practical", false), ("concentrated", false), ("status", CreditStatus.Approved), ("created_at", now),
                ("created_by_corp_id", caller.Account.CorpId), ("created_by_user_id", caller.Account.UserId), ("decided_at", now),
            ]);
        var ids = existing.ToDictionary(e => e.Key, e => e.Value.Id);
        foreach (var chunk in fresh.Select(KeyOf).Chunk(1000))
        {
            foreach (var (id, key) in await connection.QueryAsync<(long, string)>(new CommandDefinition(
                         "SELECT id, provincial_key FROM training_credits WHERE provincial_key IN @chunk", new { chunk }, tx, cancellationToken: ct)))
            {
                ids[key] = id;
            }
        }

        var updated = 0;
        foreach (var row in rows)
        {
            if (existing.GetValueOrDefault(KeyOf(row)) is { } stored && !stored.Matches(row))
            {
                updated += await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE training_credits SET title = @Title, organiser = @Organiser, earned_on = @EndedOn, credits = @Credits, domain = @Domain,
                                                level = @Level, training_level = @TrainingLevel, kind = @Kind, decided_at = @now
                    WHERE id = @id
                    """, new { row.Title, row.Organiser, row.EndedOn, row.Credits, row.Domain, row.Level, row.TrainingLevel, row.Kind, id = stored.Id, now }, tx,
                    cancellationToken: ct));
            }
        }

        return (fresh.Count, updated, rows.Count - fresh.Count - updated, ids);
    }

    /// <summary>
    /// Supersedes the local credits (claims, completions, school records) that the provincial rows record: the same
    /// person (the account or one linked to it), the same title once spaces are ignored, ended within the window; the
    /// closest in time first, each local credit once. The number superseded.
    /// </summary>
    private async Task<int> ReconcileAsync(DbTransaction tx, IReadOnlyList<ProvincialRow> rows, IReadOnlyDictionary<string, long> ids, int windowDays,
        DateTime now, CancellationToken ct)
    {
        var connection = tx.Connection!;
        var links = (await connection.QueryAsync<(string CorpA, string UserA, string CorpB, string UserB)>(new CommandDefinition(
            "SELECT corp_id_a, user_id_a, corp_id_b, user_id_b FROM person_links WHERE unlinked_at IS NULL", transaction: tx,
            cancellationToken: ct))).ToList();
        var person = new Dictionary<(string, string), (string, string)>();
        (string, string) Root((string, string) account) =>
            person.TryGetValue(account, out var parent) && parent != account ? person[account] = Root(parent) : account;
        foreach (var (corpA, userA, corpB, userB) in links)
        {
            var (a, b) = (Root((corpA, userA)), Root((corpB, userB)));
            if (a != b)
            {
                person[a] = b;
            }
        }

        var accounts = rows.Select(r => (r.CorpId, r.UserId)).ToHashSet();
        var people = accounts.Select(Root).ToHashSet();
        var corpsToRead = rows.Select(r => r.CorpId)
            .Concat(links.SelectMany(l => new[] { (l.CorpA, l.UserA), (l.CorpB, l.UserB) }).Where(a => people.Contains(Root(a))).Select(a => a.Item1))
            .Distinct().ToList();
        var candidates = new Dictionary<((string, string) Person, string Title), List<(long Id, DateOnly EarnedOn)>>();
        foreach (var local in await connection.QueryAsync<LocalCredit>(new CommandDefinition($"""
                     SELECT id, corp_id, user_id, title, earned_on FROM training_credits
                     WHERE corp_id IN @corpsToRead AND source <> 'provincial' AND status IN {LocalOpen}
                     """, new { corpsToRead }, tx, cancellationToken: ct)))
        {
            var root = Root((local.CorpId, local.UserId));
            if (people.Contains(root))
            {
                var key = (root, Normalise(local.Title));
                if (!candidates.TryGetValue(key, out var list))
                {
                    candidates[key] = list = [];
                }

                list.Add((local.Id, local.EarnedOn));
            }
        }

        var matches = new List<(long LocalId, long By)>();
        foreach (var row in rows)
        {
            if (!candidates.TryGetValue((Root((row.CorpId, row.UserId)), Normalise(row.Title)), out var list) || list.Count == 0)
            {
                continue;
            }

            var match = list.Where(l => Math.Abs(l.EarnedOn.DayNumber - row.EndedOn.DayNumber) <= windowDays)
                .OrderBy(l => Math.Abs(l.EarnedOn.DayNumber - row.EndedOn.DayNumber)).ThenBy(l => l.Id).Select(l => (long?)l.Id).FirstOrDefault();
            if (match is { } localId)
            {
                list.RemoveAll(l => l.Id == localId);
                matches.Add((localId, ids[KeyOf(row)]));
            }
        }

        // Set-based: one statement per 500 superseded credits, each pointing at its own provincial record.
        var superseded = 0;
        foreach (var chunk in matches.Chunk(500))
        {
            var args = new DynamicParameters(new { now, localIds = chunk.Select(m => m.LocalId).ToList() });
            var cases = string.Join(" ", chunk.Select((m, i) =>
            {
                args.Add($"l{i}", m.LocalId);
                args.Add($"b{i}", m.By);
                return $"WHEN @l{i} THEN @b{i}";
            }));
            superseded += await connection.ExecuteAsync(new CommandDefinition($"""
                UPDATE training_credits SET status = '{CreditStatus.Superseded}', superseded_by = CASE id {cases} END, decided_at = @now
                WHERE id IN @localIds AND status IN {LocalOpen}
                """, args, tx, cancellationToken: ct));
        }

        return superseded;
    }

    private static string Normalise(string title) =>
        string.Concat(title.Where(c => !char.IsWhiteSpace(c))).ToUpperInvariant();

    /// <summary>The school's approved local credits earned in the current cycle that no provincial record has replaced yet.</summary>
    public async Task<IReadOnlyList<UnregisteredCredit>> UnregisteredAsync(string corpId, CancellationToken ct)
    {
        var rules = options.Value;
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<UnregisteredCredit>(new CommandDefinition("""
            SELECT c.id, c.user_id, s.name, c.title, c.source, c.earned_on, c.credits
            FROM training_credits c LEFT JOIN staff s ON s.corp_id = c.corp_id AND s.user_id = c.user_id
            WHERE c.corp_id = @corpId AND c.source <> 'provincial' AND c.status = 'approved' AND c.earned_on >= @from AND c.earned_on <= @to
            ORDER BY c.earned_on, c.id
            """, new
        {
            corpId, from = new DateOnly(rules.CycleStartYear, 1, 1), to = new DateOnly(rules.CycleStartYear + rules.CycleYears - 1, 12, 31),
        }, cancellationToken: ct))).ToList();
    }

    private sealed record LocalCredit(long Id, string CorpId, string UserId, string Title, DateOnly EarnedOn);

    private sealed record StoredProvincial(long Id, string ProvincialKey, string Title, string Organiser, DateOnly EarnedOn, decimal? Credits, int Domain,
        string Level, string? TrainingLevel, string Kind)
    {
        public bool Matches(ProvincialRow r) =>
            Title == r.Title && Organiser == r.Organiser && EarnedOn == r.EndedOn && Credits == r.Credits && Domain == r.Domain && Level == r.Level &&
            TrainingLevel == r.TrainingLevel && Kind == r.Kind;
    }
}
