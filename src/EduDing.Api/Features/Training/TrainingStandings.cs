using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Training;

/// <summary>A current teacher of a school with their standing over all their accounts, and their cycle's credits by training level.</summary>
internal sealed record PersonStanding(string CorpId, string UserId, string Name, CycleCompliance Compliance,
    IReadOnlyDictionary<string, decimal> ByTrainingLevel, IReadOnlyList<(string CorpId, string UserId)> Accounts);

/// <summary>
/// Every current teacher's standing in a set of schools, computed set-based (docs/training.md): the schools' staff,
/// the accounts linked to them elsewhere (person links, the same unionid within a unionId space), their credits,
/// appraisals and profiles read in a handful of statements, people joined, then <see cref="CreditCompliance"/> per
/// person. Registration runs, reports and reminders all read standings through here.
/// </summary>
internal sealed class TrainingStandings(Database db, CorpDirectory corps, TimeProvider time)
{
    /// <summary>省 / 市 / 县 / 校, or other (conversions, non-vetted institutions). Haining's bureau is county-level (县级市).</summary>
    public static readonly IReadOnlyList<string> TrainingLevels = ["province", "city", "county", "school", "other"];

    /// <summary>Every current teacher of these schools.</summary>
    public Task<IReadOnlyList<PersonStanding>> OfSchoolsAsync(IReadOnlyList<string> corpIds, TrainingOptions rules, CancellationToken ct) =>
        ComputeAsync(corpIds, null, rules, ct);

    /// <summary>These accounts (current teachers among them), each over all of its person's accounts.</summary>
    public Task<IReadOnlyList<PersonStanding>> OfAccountsAsync(IReadOnlyList<(string CorpId, string UserId)> accounts, TrainingOptions rules,
        CancellationToken ct) =>
        ComputeAsync([], accounts, rules, ct);

    private async Task<IReadOnlyList<PersonStanding>> ComputeAsync(IReadOnlyList<string> corpIds, IReadOnlyList<(string CorpId, string UserId)>? only,
        TrainingOptions rules, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var (onlyFilter, onlyArgs) = IdentityFilter.Of(only ?? [], "corp_id", "user_id");
        var staff = (await connection.QueryAsync<StaffAccount>(new CommandDefinition(only is null
                ? "SELECT corp_id, user_id, name, union_id, removed_at FROM staff WHERE corp_id IN @corpIds"
                : $"SELECT corp_id, user_id, name, union_id, removed_at FROM staff WHERE {onlyFilter}",
            only is null ? new { corpIds } : onlyArgs, cancellationToken: ct))).ToList();
        var links = (await connection.QueryAsync<(string CorpA, string UserA, string CorpB, string UserB)>(new CommandDefinition(
            "SELECT corp_id_a, user_id_a, corp_id_b, user_id_b FROM person_links WHERE unlinked_at IS NULL", cancellationToken: ct))).ToList();

        // The same people's other accounts: through a link, or by unionid in the same unionId space.
        var known = staff.Select(s => (s.CorpId, s.UserId)).ToHashSet();
        var elsewhere = new HashSet<(string CorpId, string UserId)>();
        foreach (var l in links)
        {
            if (known.Contains((l.CorpA, l.UserA)) && !known.Contains((l.CorpB, l.UserB)))
            {
                elsewhere.Add((l.CorpB, l.UserB));
            }

            if (known.Contains((l.CorpB, l.UserB)) && !known.Contains((l.CorpA, l.UserA)))
            {
                elsewhere.Add((l.CorpA, l.UserA));
            }
        }

        var unionIds = staff.Where(s => !string.IsNullOrEmpty(s.UnionId)).Select(s => s.UnionId!).Distinct().ToList();
        foreach (var chunk in unionIds.Chunk(2000))
        {
            var others = await connection.QueryAsync<StaffAccount>(new CommandDefinition(
                "SELECT corp_id, user_id, name, union_id, removed_at FROM staff WHERE union_id IN @chunk", new { chunk }, cancellationToken: ct));
            staff.AddRange(others.Where(o => !known.Contains((o.CorpId, o.UserId))));
        }

        elsewhere.UnionWith(staff.Where(s => !known.Contains((s.CorpId, s.UserId))).Select(s => (s.CorpId, s.UserId)));
        // Within the schools, by corp (an index range); elsewhere, account by account.
        var inCorps = corpIds.ToHashSet();
        var (extra, args) = IdentityFilter.Of(elsewhere.Where(e => !inCorps.Contains(e.CorpId)).Concat(only ?? []).ToList(), "corp_id", "user_id");
        args.Add("corpIds", corpIds.Count > 0 ? corpIds : [""]);
        var accounts = $"(corp_id IN @corpIds OR {extra})";

        var credits = await connection.QueryAsync<PersonCredit>(new CommandDefinition($"""
            SELECT id, corp_id, user_id, earned_on, credits, kind, domain, level, source, practical, concentrated, training_level FROM training_credits
            WHERE status = 'approved' AND {accounts}
            """, args, cancellationToken: ct));
        // Split credits count part by part (their domain and level); the rest wholly in their own.
        var parts = (await connection.QueryAsync<(long CreditId, int Domain, string Level, decimal Credits)>(new CommandDefinition($"""
            SELECT p.credit_id, p.domain, p.level, p.credits FROM training_credit_parts p
            WHERE p.credit_id IN (SELECT id FROM training_credits WHERE status = 'approved' AND {accounts})
            """, args, cancellationToken: ct))).ToLookup(p => p.CreditId);
        var appraisals = await connection.QueryAsync<(string CorpId, string UserId, int Year, bool Passed)>(new CommandDefinition(
            $"SELECT corp_id, user_id, year, passed FROM training_appraisals WHERE {accounts}", args, cancellationToken: ct));
        var facts = await TeacherFacts.ReadAsync(connection, accounts, args, ct);

        var people = new People();
        foreach (var l in links)
        {
            people.Join((l.CorpA, l.UserA), (l.CorpB, l.UserB));
        }

        foreach (var same in staff.Where(s => !string.IsNullOrEmpty(s.UnionId)).GroupBy(s => (Space: corps.SameUnionIdSpace(s.CorpId)[0], s.UnionId)))
        {
            var first = same.First();
            foreach (var other in same.Skip(1))
            {
                people.Join((first.CorpId, first.UserId), (other.CorpId, other.UserId));
            }
        }

        var accountsOf = staff.Select(s => (s.CorpId, s.UserId)).Concat(elsewhere).Distinct().ToLookup(people.Root);
        var creditsOf = credits.ToLookup(c => people.Root((c.CorpId, c.UserId)));
        var appraisalsOf = appraisals.ToLookup(a => people.Root((a.CorpId, a.UserId)));
        var today = ShanghaiTime.Today(time);
        bool IsSchool(string corpId) => corps.Find(corpId) is { Kind: CorpKind.School };
        return staff.Where(s => s.RemovedAt is null && known.Contains((s.CorpId, s.UserId))).Select(s =>
        {
            var person = people.Root((s.CorpId, s.UserId));
            var mine = accountsOf[person].ToList();
            // Where two schools recorded the same year, a failed appraisal stands.
            var results = appraisalsOf[person].GroupBy(a => a.Year).Select(g => new AppraisalResult(g.Key, g.All(a => a.Passed))).OrderBy(a => a.Year).ToList();
            var cycleStart = facts.ProfileOf(mine).CycleStartYear ?? rules.CycleStartYear;
            var entries = creditsOf[person].ToList();
            var compliance = CreditCompliance.Evaluate(cycleStart, entries.SelectMany(c => c.AsEntries(parts[c.Id])).ToList(), results, rules,
                facts.SituationOf(mine, IsSchool, today));
            var byLevel = entries.Where(c => c.EarnedOn.Year >= compliance.CycleStart && c.EarnedOn.Year <= compliance.CycleEnd)
                .GroupBy(c => c.TrainingLevelKey).ToDictionary(g => g.Key, g => g.Sum(c => CreditCompliance.CountedTowardCycle(c.AsEntries([]).Single(), rules)));
            return new PersonStanding(s.CorpId, s.UserId, s.Name, compliance, byLevel, mine);
        }).OrderBy(r => r.CorpId, StringComparer.Ordinal).ThenBy(r => r.UserId, StringComparer.Ordinal).ToList();
    }

    private sealed record StaffAccount(string CorpId, string UserId, string Name, string? UnionId, DateTime? RemovedAt);

    private sealed record PersonCredit(long Id, string CorpId, string UserId, DateOnly EarnedOn, decimal? Credits, string Kind, int Domain, string Level,
        string Source, bool Practical, bool Concentrated, string? TrainingLevel)
    {
        public IEnumerable<CreditEntry> AsEntries(IEnumerable<(long CreditId, int Domain, string Level, decimal Credits)> parts)
        {
            var split = parts.ToList();
            return split.Count > 0
                ? split.Select(p => new CreditEntry(EarnedOn, p.Credits, Kind, p.Domain, p.Level, Source, Practical, Concentrated))
                : [new CreditEntry(EarnedOn, Credits ?? 0m, Kind, Domain, Level, Source, Practical, Concentrated)];
        }

        /// <summary>Where the training was organised: as the provincial record says; the bureau's own trainings are county-level; a school's 校本.</summary>
        public string TrainingLevelKey => TrainingLevel ?? Source switch
        {
            "provincial" => "province",
            "city" => "county",
            "school-based" => "school",
            _ => "other",
        };
    }

    /// <summary>Accounts joined into people (union–find).</summary>
    private sealed class People
    {
        private readonly Dictionary<(string, string), (string, string)> parent = [];

        public (string, string) Root((string, string) account)
        {
            while (parent.TryGetValue(account, out var up) && up != account)
            {
                account = up;
            }

            return account;
        }

        public void Join((string, string) a, (string, string) b)
        {
            var (ra, rb) = (Root(a), Root(b));
            if (ra != rb)
            {
                parent[ra] = rb;
            }
        }
    }
}
