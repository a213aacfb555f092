using System.Data.Common;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Training;

[RequestSchema("role", "startsOn")]
internal sealed record RoleRequest([property: CodeValues(typeof(TeacherRoleKind))] string? Role, DateOnly? StartsOn, DateOnly? EndsOn);

/// <summary>The whole profile of a teacher's account at a school: it replaces the last one.</summary>
[RequestSchema("roles")]
internal sealed record TeacherProfileRequest(int? CycleStartYear, IReadOnlyList<RoleRequest?>? Roles);

/// <summary>A person's profile over their accounts: their own cycle start (null: the city's) and their role periods.</summary>
internal sealed record TeacherProfile(int? CycleStartYear, IReadOnlyList<TeacherRole> Roles);

/// <summary>
/// What the rules need beyond credits and appraisals (docs/training.md): per-teacher cycle starts, role periods
/// (新任教师 probation, 新任校长), class advisers from the mirror, and the mandatory trainings with who passed them.
/// Read for a set of accounts at once, then asked per person.
/// </summary>
internal sealed class TeacherFacts
{
    private readonly ILookup<(string, string), TeacherRole> roles;
    private readonly Dictionary<(string, string), (int Year, DateTime At)> cycleStarts;
    private readonly HashSet<(string, string)> advisers;
    private readonly IReadOnlyList<(long Id, string OrganiserCorpId, string Scope, string Title, string Group, DateOnly EndsOn)> mandatory;
    private readonly HashSet<(long, string, string)> passed;

    private TeacherFacts(ILookup<(string, string), TeacherRole> roles, Dictionary<(string, string), (int, DateTime)> cycleStarts,
        HashSet<(string, string)> advisers, IReadOnlyList<(long, string, string, string, string, DateOnly)> mandatory, HashSet<(long, string, string)> passed)
    {
        this.roles = roles;
        this.cycleStarts = cycleStarts;
        this.advisers = advisers;
        this.mandatory = mandatory;
        this.passed = passed;
    }

    /// <summary>Reads the facts of the accounts <paramref name="where"/> selects (over columns named corp_id and user_id).</summary>
    public static async Task<TeacherFacts> ReadAsync(DbConnection connection, string where, object args, CancellationToken ct)
    {
        var roles = await connection.QueryAsync<(string CorpId, string UserId, string Role, DateOnly StartsOn, DateOnly? EndsOn)>(new CommandDefinition(
            $"SELECT corp_id, user_id, role, starts_on, ends_on FROM training_roles WHERE {where}", args, cancellationToken: ct));
        var starts = await connection.QueryAsync<(string CorpId, string UserId, int Year, DateTime At)>(new CommandDefinition(
            $"SELECT corp_id, user_id, cycle_start_year, recorded_at FROM training_cycle_overrides WHERE cycle_start_year IS NOT NULL AND ({where})", args,
            cancellationToken: ct));
        var advisers = await connection.QueryAsync<(string CorpId, string UserId)>(new CommandDefinition(
            $"SELECT DISTINCT corp_id, user_id FROM class_members WHERE is_adviser = 1 AND ({where})", args, cancellationToken: ct));
        var trainings = (await connection.QueryAsync<(long Id, string OrganiserCorpId, string Scope, string Title, string Group)>(new CommandDefinition(
            "SELECT id, organiser_corp_id, scope, title, mandatory_for FROM trainings WHERE mandatory_for IS NOT NULL", cancellationToken: ct))).ToList();
        var mandatory = new List<(long, string, string, string, string, DateOnly)>();
        var passed = new HashSet<(long, string, string)>();
        if (trainings.Count > 0)
        {
            var ids = trainings.Select(t => t.Id).ToList();
            var ends = (await connection.QueryAsync<(long TrainingId, DateTime EndsAt)>(new CommandDefinition(
                    "SELECT training_id, ends_at FROM training_sessions WHERE training_id IN @ids", new { ids }, cancellationToken: ct)))
                .GroupBy(s => s.TrainingId).ToDictionary(g => g.Key, g => ShanghaiTime.DayOf(g.Max(s => s.EndsAt)));
            mandatory.AddRange(trainings.Where(t => ends.ContainsKey(t.Id)).Select(t => (t.Id, t.OrganiserCorpId, t.Scope, t.Title, t.Group, ends[t.Id])));
            var filter = new DynamicParameters(args);
            filter.Add("ids", ids);
            passed.UnionWith(await connection.QueryAsync<(long, string, string)>(new CommandDefinition($"""
                SELECT training_id, corp_id, user_id FROM training_enrolments
                WHERE training_id IN @ids AND result IN ('pass', 'excellent') AND ({where})
                """, filter, cancellationToken: ct)));
        }

        return new TeacherFacts(roles.ToLookup(r => (r.CorpId, r.UserId), r => new TeacherRole(r.Role, r.StartsOn, r.EndsOn)),
            starts.ToDictionary(s => (s.CorpId, s.UserId), s => (s.Year, s.At)), advisers.ToHashSet(), mandatory, passed);
    }

    /// <summary>The person's profile: the roles of all their accounts, and the cycle start recorded last by any of their schools.</summary>
    public TeacherProfile ProfileOf(IReadOnlyCollection<(string CorpId, string UserId)> accounts) => new(
        accounts.Where(cycleStarts.ContainsKey).Select(a => cycleStarts[a]).OrderByDescending(s => s.At).Select(s => (int?)s.Year).FirstOrDefault(),
        accounts.SelectMany(a => roles[a]).Distinct().OrderBy(r => r.StartsOn).ToList());

    /// <summary>
    /// The person's situation: their roles, and each mandatory training meant for them — a city training for the
    /// teachers of every school, a school's for its own — by its target group as of the day it ends.
    /// </summary>
    public TeacherSituation SituationOf(IReadOnlyCollection<(string CorpId, string UserId)> accounts, Func<string, bool> isSchool, DateOnly today)
    {
        var personRoles = accounts.SelectMany(a => roles[a]).Distinct().ToList();
        var attendance = new List<MandatoryAttendance>();
        foreach (var t in mandatory)
        {
            var inScope = accounts.Where(a => t.Scope == "city" ? isSchool(a.CorpId) : a.CorpId == t.OrganiserCorpId).ToList();
            var meant = inScope.Count > 0 && t.Group switch
            {
                MandatoryGroup.AllTeachers => true,
                MandatoryGroup.NewTeachers => personRoles.Any(r => r.Role == TeacherRoleKind.NewTeacher && r.StartsOn <= t.EndsOn &&
                                                                  (r.EndsOn is not { } end || end >= t.EndsOn)),
                MandatoryGroup.ClassAdvisers => inScope.Any(advisers.Contains),
                _ => false,
            };
            if (meant)
            {
                attendance.Add(new MandatoryAttendance(t.Id, t.Title, t.EndsOn, accounts.Any(a => passed.Contains((t.Id, a.CorpId, a.UserId)))));
            }
        }

        return new TeacherSituation(personRoles, attendance, today);
    }
}

/// <summary>The school records a teacher's profile: their own cycle start where it differs, and their role periods.</summary>
internal sealed class TeacherProfiles(Database db, OrgDirectory directory, AccessPolicy access, AuditLog audit, TimeProvider time)
{
    public async Task SaveAsync(Caller caller, string corpId, string userId, TeacherProfileRequest request, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school records its teachers' profiles");
        if ((await directory.CurrentStaffAsync(corpId, [userId], ct)).Count == 0)
        {
            throw new NotFoundException($"No teacher {userId} in {corpId}.");
        }

        var today = ShanghaiTime.Today(time);
        var errors = new Dictionary<string, string[]>();
        if (request.CycleStartYear is { } start && (start < 2016 || start > today.Year + 1))
        {
            errors["cycleStartYear"] = [$"when set, a year from 2016 (the credit system) to {today.Year + 1}; leave it out for the city's cycle"];
        }

        var roles = request.Roles ?? [];
        if (roles.Count > 10)
        {
            errors["roles"] = ["at most 10 role periods"];
        }

        for (var i = 0; i < Math.Min(roles.Count, 10); i++)
        {
            if (roles[i] is not { Role: { } role, StartsOn: { } from } r || !TeacherRoleKind.All.Contains(role) || from.Year < 2000 ||
                from > today.AddYears(1) || r.EndsOn is { } to && (to < from || to > from.AddYears(5)))
            {
                errors[$"roles[{i}]"] = [$"role ({string.Join(", ", TeacherRoleKind.All)}), startsOn, and endsOn on or after it (within 5 years) when known"];
            }
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var now = time.UtcNowForDatabase();
        var by = caller.UserIdIn(corpId);
        await db.InTransactionAsync(async (tx, token) =>
        {
            var c = tx.Connection!;
            await c.ExecuteAsync(new CommandDefinition("DELETE FROM training_roles WHERE corp_id = @corpId AND user_id = @userId",
                new { corpId, userId }, tx, cancellationToken: token));
            foreach (var role in roles)
            {
                await c.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO training_roles (corp_id, user_id, role, starts_on, ends_on, recorded_by_user_id, recorded_at)
                    VALUES (@corpId, @userId, @Role, @StartsOn, @EndsOn, @by, @now)
                    """, new { corpId, userId, role!.Role, role.StartsOn, role.EndsOn, by, now }, tx, cancellationToken: token));
            }

            // The row stays without an own cycle start: its time tells the city's standings that the profile changed.
            await c.ExecuteAsync(new CommandDefinition(
                db.Dialect.Upsert("training_cycle_overrides", ["corp_id", "user_id"], ["cycle_start_year", "recorded_by_user_id", "recorded_at"]),
                new { corp_id = corpId, user_id = userId, cycle_start_year = request.CycleStartYear, recorded_by_user_id = by, recorded_at = now }, tx,
                cancellationToken: token));
        }, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.profile", corpId, [],
            $"{userId}: cycle from {request.CycleStartYear?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "the city's"}, " +
            $"roles {string.Join("; ", roles.Select(r => $"{r!.Role} {r.StartsOn:yyyy-MM-dd}–{r.EndsOn:yyyy-MM-dd}"))}", AuditLog.Allowed, ct);
    }
}
