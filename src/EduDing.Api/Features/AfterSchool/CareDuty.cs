using System.ComponentModel;
using System.Globalization;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>A teacher's duty sign-in for one session: theirs, or covering for the group's teacher.</summary>
internal sealed record DutySignIn(long OfferingId, DateOnly Day, string TeacherUserId, [property: CodeValues(typeof(CareDuty))] string Role, int Minutes, DateTime SignedAt);

/// <summary>The cover (代课) named for a group on a day, when its teacher is away.</summary>
internal sealed record CareCover(long OfferingId, DateOnly Day, string TeacherUserId, string Reason);

/// <summary>One teacher's after-school hours over a period: sessions signed, minutes, and whether they are the school's staff.</summary>
internal sealed record TeacherHours(string TeacherUserId, string Name, bool SchoolStaff, int Sessions, int CoverSessions, decimal Hours);

/// <summary>
/// Teachers' duty (docs/after-school.md): the group's teacher signs in for each session they run (or the cover a school
/// admin named for that day when the teacher is away), the session's length that day is recorded, and the school
/// exports hours per teacher for 课后服务 pay, its own staff and outside staff apart.
/// </summary>
internal sealed class CareDuty(Database db, CareRepository care, CareDaily loop, OrgDirectory directory, AccessPolicy access, TimeProvider time)
{
    [Description("本组教师")]
    public const string TeacherRole = "teacher";
    [Description("代岗教师")]
    public const string CoverRole = "cover";

    /// <summary>A school admin names a cover teacher (school staff) for a group's session on a day.</summary>
    public async Task<CareCover> SetCoverAsync(Caller caller, string corpId, long offeringId, DateOnly day, string? teacherUserId, string? reason,
        CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school arranges cover");
        var (program, offering) = await GroupAsync(corpId, offeringId, ct);
        if (await loop.SessionOnAsync(program, day, ct) is null)
        {
            throw new RequestValidationException("day", "the group has no session that day");
        }

        if (string.IsNullOrWhiteSpace(teacherUserId) || (await directory.CurrentStaffAsync(corpId, [teacherUserId], ct)).Count == 0)
        {
            throw new RequestValidationException("teacherUserId", "must be a current member of the school's staff");
        }

        if (string.IsNullOrWhiteSpace(reason) || reason.Length > 200)
        {
            throw new RequestValidationException("reason", "is required (why the group's teacher is away), at most 200 characters");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            db.Dialect.Upsert("care_covers", ["offering_id", "day"], ["teacher_user_id", "reason", "set_by_user_id", "set_at"]),
            new
            {
                offering_id = offering.Id, day, teacher_user_id = teacherUserId, reason = reason.Trim(), set_by_user_id = caller.UserIdIn(corpId),
                set_at = time.UtcNowForDatabase(),
            }, cancellationToken: ct));
        return new CareCover(offering.Id, day, teacherUserId, reason.Trim());
    }

    /// <summary>
    /// The group's teacher (or the day's cover) signs in for today's session. Once per teacher, group and day: a second
    /// sign-in changes nothing. 404 for anyone else.
    /// </summary>
    public async Task<DutySignIn> SignInAsync(Caller caller, string corpId, long offeringId, CancellationToken ct)
    {
        access.School(corpId);
        var offering = await care.FindOfferingAsync(offeringId, ct);
        var program = offering is null ? null : await care.FindProgramAsync(offering.ProgramId, ct);
        var today = ShanghaiTime.Today(time);
        var cover = offering is null ? null : await CoverAsync(offering.Id, today, ct);
        var me = caller.UserIdIn(corpId);
        var role = offering?.TeacherUserId is { } teacher && caller.Identities.Contains((corpId, teacher)) && cover is null ? TeacherRole
            : cover is not null && caller.Identities.Contains((corpId, cover.TeacherUserId)) ? CoverRole
            : null;
        if (role is null || program is null || program.CorpId != corpId)
        {
            // Answered alike for groups that do not exist and groups that are not the caller's to run today.
            throw new NotFoundException($"No after-school group {offeringId} that you run today (its teacher, or the cover named for today).");
        }

        if (await loop.SessionOnAsync(program, today, ct) is not { } session)
        {
            throw new RuleViolationException("The group has no session today.", "该班组今天没有托管安排。", reason: "no_session_today");
        }

        var minutes = (int)(session.EndsAt - TimeOnly.Parse(session.Session.StartsAt, CultureInfo.InvariantCulture)).TotalMinutes;
        var now = time.UtcNowForDatabase();
        await using var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO care_duty (offering_id, day, teacher_corp_id, teacher_user_id, role, minutes, signed_at)
                VALUES (@offeringId, @today, @corpId, @me, @role, @minutes, @now)
                """, new { offeringId, today, corpId, me, role, minutes, now }, cancellationToken: ct));
        }
        catch (System.Data.Common.DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            // Signed in already: the first sign-in stands.
        }

        return await connection.QuerySingleAsync<DutySignIn>(new CommandDefinition("""
            SELECT offering_id, day, teacher_user_id, role, minutes, signed_at FROM care_duty
            WHERE offering_id = @offeringId AND day = @today AND teacher_user_id = @me
            """, new { offeringId, today, me }, cancellationToken: ct));
    }

    /// <summary>Hours per teacher over a program's groups in a period, the school's own staff and outside staff apart.</summary>
    public async Task<IReadOnlyList<TeacherHours>> HoursAsync(Caller caller, string corpId, long programId, DateOnly from, DateOnly to,
        CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school pays its after-school teachers");
        await care.ProgramOfSchoolAsync(corpId, programId, ct);
        if (to < from || to > from.AddYears(1))
        {
            throw new RequestValidationException("to", "must be on or after from, within a year");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = (await connection.QueryAsync<(string TeacherUserId, string Role, int Minutes, long? ProviderId)>(new CommandDefinition("""
            SELECT d.teacher_user_id, d.role, d.minutes, o.provider_id FROM care_duty d JOIN care_offerings o ON o.id = d.offering_id
            WHERE o.program_id = @programId AND d.day >= @from AND d.day <= @to
            """, new { programId, from, to }, cancellationToken: ct))).ToList();
        var staff = (await directory.CurrentStaffAsync(corpId, rows.Select(r => r.TeacherUserId).Distinct().ToList(), ct))
            .ToDictionary(s => s.UserId, s => s.Name);
        var accounts = new Dictionary<string, string>();
        foreach (var outside in rows.Select(r => r.TeacherUserId).Distinct().Where(u => !staff.ContainsKey(u)))
        {
            accounts[outside] = (await directory.FindAccountAsync(corpId, outside, ct))?.Name ?? outside;
        }

        // Outside staff: not on the school's staff, or teaching an outside provider's course.
        return rows.GroupBy(r => r.TeacherUserId).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new TeacherHours(g.Key,
            staff.GetValueOrDefault(g.Key) ?? accounts.GetValueOrDefault(g.Key, g.Key), staff.ContainsKey(g.Key) && g.All(r => r.ProviderId is null),
            g.Count(r => r.Role == TeacherRole), g.Count(r => r.Role == CoverRole), Math.Round(g.Sum(r => r.Minutes) / 60m, 2))).ToList();
    }

    public async Task<CareCover?> CoverAsync(long offeringId, DateOnly day, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QueryFirstOrDefaultAsync<CareCover>(new CommandDefinition(
            "SELECT offering_id, day, teacher_user_id, reason FROM care_covers WHERE offering_id = @offeringId AND day = @day",
            new { offeringId, day }, cancellationToken: ct));
    }

    private async Task<(CareProgram Program, CareOffering Offering)> GroupAsync(string corpId, long offeringId, CancellationToken ct)
    {
        var offering = await care.FindOfferingAsync(offeringId, ct);
        var program = offering is null ? null : await care.FindProgramAsync(offering.ProgramId, ct);
        return program is not null && program.CorpId == corpId
            ? (program, offering!)
            : throw new NotFoundException($"No after-school group {offeringId} in {corpId}.");
    }
}
