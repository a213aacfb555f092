using System.ComponentModel;
using System.Globalization;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Notices;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>Roll marks: 到 present, 迟到 late, 请假 on leave, 缺勤 absent.</summary>
internal static class RollStatus
{
    [Description("出勤")]
    public const string Present = "present";

    [Description("迟到")]
    public const string Late = "late";

    [Description("请假")]
    public const string Leave = "leave";

    [Description("缺勤")]
    public const string Absent = "absent";

    public static readonly IReadOnlyList<string> All = [Present, Late, Leave, Absent];
}

/// <summary>One child on a group's roll for a day, as its teacher sees it (pickup phones included, every read audited).</summary>
internal sealed record RollRow(long ApplicationId, string StudentUserId, string StudentName, bool OnLeave, [property: CodeValues(typeof(RollStatus))] string? Status, bool LateEntry,
    IReadOnlyList<PickupPerson> Pickup, CareDelegate? Delegate, Handover? Handover);

/// <summary>
/// The daily loop (docs/after-school.md): who is expected in a group on a day (enrolled, the day's weekday chosen, a
/// school day by the calendar), leave reported ahead by families, one-day delegates, the teacher's roll, the pickup
/// handover checked against the list, and two alerts sent once each: to the family when a child is absent without
/// leave, and to the teacher and the school's admins when a present child has no handover by the end plus a grace.
/// </summary>
internal sealed class CareDaily(CareRepository care, CareDailyRepository daily, OrgDirectory directory, AccessPolicy access, AuditLog audit,
    SystemNotices notices, IOptions<AfterSchoolOptions> options, IOptions<IdentityOptions> identity, TimeProvider time)
{
    public const string RollReadAction = "care.roll.read";
    public const string AbsenceAlert = "absence";
    public const string HandoverAlert = "handover";

    private AfterSchoolOptions Settings => options.Value;

    /// <summary>The session a program runs on a day, with the day's end time; null when it does not run that day.</summary>
    public async Task<(CareSession Session, TimeOnly EndsAt, int Weekday)?> SessionOnAsync(CareProgram program, DateOnly day, CancellationToken ct)
    {
        if (day < program.StartsOn || day > program.EndsOn)
        {
            return null;
        }

        var stored = await care.DaysAsync(program.CorpId, day, day, ct);
        var calendar = SchoolCalendar.Of(stored);
        var cancelled = stored.Any(d => d.Kind == CalendarDayKind.Cancelled);
        int? weekday = program.Kind == CareProgramKind.Term ? calendar.TimetableWeekday(day) : cancelled ? null : SchoolCalendar.Weekday(day);
        if (weekday is null || (await care.SessionsAsync(program.Id, ct)).FirstOrDefault(s => s.Weekday == weekday) is not { } session)
        {
            return null;
        }

        return (session, calendar.EndsAt(day) ?? TimeOnly.Parse(session.EndsAt, CultureInfo.InvariantCulture), weekday.Value);
    }

    /// <summary>The children expected in an offering on a day: enrolled, and the day's timetable weekday among those they chose.</summary>
    public async Task<IReadOnlyList<CareApplication>> ExpectedAsync(CareProgram program, CareOffering offering, DateOnly day, CancellationToken ct)
    {
        if (await SessionOnAsync(program, day, ct) is not { } session)
        {
            return [];
        }

        return await ExpectedOnAsync(offering, session.Weekday, ct);
    }

    /// <summary>The children of an offering expected on a session day of the given timetable weekday.</summary>
    private async Task<IReadOnlyList<CareApplication>> ExpectedOnAsync(CareOffering offering, int weekday, CancellationToken ct) =>
        (await daily.EnrolledAsync(offering.Id, ct)).Where(a => a.WeekdaySet.Contains(weekday)).ToList();

    /// <summary>The roll keeper of an offering: its teacher, or the school's admins. 404 for an offering of another school.</summary>
    public async Task<(CareProgram Program, CareOffering Offering)> RequireKeeperAsync(Caller caller, string corpId, long offeringId, CancellationToken ct)
    {
        access.School(corpId);
        var offering = await care.FindOfferingAsync(offeringId, ct);
        var program = offering is null ? null : await care.FindProgramAsync(offering.ProgramId, ct);
        var keeper = caller.Has(Roles.SchoolAdmin, corpId) ||
                     (offering?.TeacherUserId is { } teacher && program?.CorpId == corpId && caller.Identities.Contains((corpId, teacher)));
        if (!keeper)
        {
            // Refused alike whether or not the group exists, so that group ids of other schools reveal nothing.
            throw new ForbiddenException("Missing scope: the teacher of this group or an admin of the school.");
        }

        if (program is null || program.CorpId != corpId)
        {
            throw new NotFoundException($"No after-school group {offeringId} in {corpId}.");
        }

        return (program, offering!);
    }

    public async Task<IReadOnlyList<RollRow>> RollAsync(Caller caller, string corpId, long offeringId, DateOnly day, CancellationToken ct)
    {
        var (program, offering) = await RequireKeeperAsync(caller, corpId, offeringId, ct);
        var expected = await ExpectedAsync(program, offering, day, ct);
        var ids = expected.Select(a => a.Id).ToList();
        var onLeave = await daily.OnLeaveAsync(ids, day, ct);
        var roll = await daily.RollAsync(offering.Id, day, ct);
        var delegates = await daily.DelegatesAsync(ids, day, ct);
        var handovers = await daily.HandoversAsync(ids, day, ct);
        var rows = new List<RollRow>();
        foreach (var a in expected)
        {
            var student = await directory.FindStudentAsync(a.CorpId, a.StudentUserId, ct);
            rows.Add(new RollRow(a.Id, a.StudentUserId, student?.Name ?? a.StudentUserId, onLeave.Contains(a.Id), roll.GetValueOrDefault(a.Id)?.Status,
                roll.GetValueOrDefault(a.Id)?.LateEntry ?? false, a.PickupPeople(), delegates.GetValueOrDefault(a.Id), handovers.GetValueOrDefault(a.Id)));
        }

        // The roll names children and their pickup people's phone numbers: an identifiable read, audited.
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, RollReadAction, corpId, expected.Select(a => a.StudentUserId),
            $"roll of after-school group {offeringId} on {day:yyyy-MM-dd}", AuditLog.Allowed, ct);
        return rows;
    }

    /// <summary>
    /// Marks the roll: only children expected that day, only up to today; a mark for an earlier day is a late entry
    /// (补签), allowed for AfterSchool:RollCorrectionDays days and recorded as such, while a mark already there changes
    /// only through <see cref="CareRollCorrections"/>.
    /// </summary>
    public async Task SaveRollAsync(Caller caller, string corpId, long offeringId, DateOnly day, IReadOnlyList<(long ApplicationId, string? Status)> entries,
        CancellationToken ct)
    {
        var (program, offering) = await RequireKeeperAsync(caller, corpId, offeringId, ct);
        var today = ShanghaiTime.Today(time);
        if (day > today)
        {
            throw new RequestValidationException("day", "the roll is taken on the day, not ahead");
        }

        if (Settings.RollLocked(day, today))
        {
            throw new RuleViolationException($"The roll of {day:yyyy-MM-dd} is locked: late entries are allowed for {Settings.RollCorrectionDays} days.", $"{day:M月d日}的考勤已锁定：补签限 {Settings.RollCorrectionDays} 天内。", reason: "roll_locked");
        }

        var expected = (await ExpectedAsync(program, offering, day, ct)).Select(a => a.Id).ToHashSet();
        // After the day, a mark already there changes only through a correction request the school decides.
        var marked = day < today ? await daily.RollAsync(offering.Id, day, ct) : new Dictionary<long, RollEntry>();
        var errors = new Dictionary<string, string[]>();
        if (entries.Count is 0 or > 2000)
        {
            errors["entries"] = ["must mark 1 to 2,000 children"];
        }

        for (var i = 0; i < Math.Min(entries.Count, 2000); i++)
        {
            if (!expected.Contains(entries[i].ApplicationId))
            {
                errors[$"entries[{i}].applicationId"] = ["is not expected in this group on this day"];
            }
            else if (entries[i].Status is null || !RollStatus.All.Contains(entries[i].Status!))
            {
                errors[$"entries[{i}].status"] = [$"must be one of {string.Join(", ", RollStatus.All)}"];
            }
            else if (marked.TryGetValue(entries[i].ApplicationId, out var mark) && mark.Status != entries[i].Status)
            {
                errors[$"entries[{i}].status"] = [$"was marked {mark.Status} on an earlier day: request a correction (POST …/roll/{day:yyyy-MM-dd}/corrections)"];
            }
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        await daily.SaveRollAsync(offering.Id, day, entries.Select(e => (e.ApplicationId, e.Status!)).ToList(), day < today, caller.UserIdIn(corpId),
            time.UtcNowForDatabase(), ct);
    }

    /// <summary>
    /// Records who collected a child: a listed pickup person or the day's delegate is "listed"; anyone else needs a
    /// reason and is flagged.
    /// </summary>
    public async Task<Handover> RecordHandoverAsync(Caller caller, string corpId, long offeringId, DateOnly day, long applicationId, string? collectedBy,
        string? relation, string? reason, CancellationToken ct)
    {
        var (program, offering) = await RequireKeeperAsync(caller, corpId, offeringId, ct);
        var application = (await ExpectedAsync(program, offering, day, ct)).FirstOrDefault(a => a.Id == applicationId)
                          ?? throw new RequestValidationException("applicationId", "is not expected in this group on this day");
        if (string.IsNullOrWhiteSpace(collectedBy) || collectedBy.Length > 50 || string.IsNullOrWhiteSpace(relation) || relation.Length > 20)
        {
            throw new RequestValidationException("collectedBy", "the collector's name (≤ 50) and relation (≤ 20) are required");
        }

        var name = collectedBy.Trim();
        var delegated = (await daily.DelegatesAsync([applicationId], day, ct)).GetValueOrDefault(applicationId);
        var listed = application.PickupPeople().Any(p => p.Name.Trim() == name) || delegated?.Name.Trim() == name;
        if (!listed && (string.IsNullOrWhiteSpace(reason) || reason.Length > 200))
        {
            throw new RequestValidationException("reason", "is required when the collector is not on the child's pickup list (at most 200 characters)");
        }

        var now = time.UtcNowForDatabase();
        await daily.SaveHandoverAsync(applicationId, day, name, relation.Trim(), listed, listed ? null : reason!.Trim(), caller.UserIdIn(corpId), now, ct);
        return (await daily.HandoversAsync([applicationId], day, ct))[applicationId];
    }

    // ---- a family's ----

    /// <summary>Leave reported ahead (today at the earliest), by date range, up to 30 days.</summary>
    public async Task<CareLeave> ReportLeaveAsync(Caller caller, long applicationId, DateOnly? from, DateOnly? to, string? reason, CancellationToken ct)
    {
        var application = await care.ApplicationOfAsync(caller, applicationId, ct);
        var today = ShanghaiTime.Today(time);
        if (from is not { } start || start < today)
        {
            throw new RequestValidationException("from", "is required, today or later (leave is reported ahead)");
        }

        if (to is not { } end || end < start || end > start.AddDays(29))
        {
            throw new RequestValidationException("to", "is required, from the first day to at most 30 days");
        }

        if (string.IsNullOrWhiteSpace(reason) || reason.Length > 200)
        {
            throw new RequestValidationException("reason", "is required, at most 200 characters");
        }

        var id = await daily.AddLeaveAsync(application.Id, start, end, reason.Trim(), application.GuardianCorpId, application.GuardianUserId,
            time.UtcNowForDatabase(), ct);
        return new CareLeave(id, application.Id, start, end, reason.Trim());
    }

    /// <summary>A one-day delegate collector (代接), today or later.</summary>
    public async Task<CareDelegate> SetDelegateAsync(Caller caller, long applicationId, DateOnly day, PickupPerson? person, CancellationToken ct)
    {
        var application = await care.ApplicationOfAsync(caller, applicationId, ct);
        if (day < ShanghaiTime.Today(time))
        {
            throw new RequestValidationException("day", "must be today or later");
        }

        if (!PickupPerson.IsValid(person))
        {
            throw new RequestValidationException("name", "the delegate needs a name (≤ 50), a relation (≤ 20) and a phone number");
        }

        var delegation = new CareDelegate(application.Id, day, person!.Name.Trim(), person.Relation.Trim(), person.Phone.Trim());
        await daily.SetDelegateAsync(delegation, application.GuardianUserId, time.UtcNowForDatabase(), ct);
        return delegation;
    }

    // ---- alerts ----

    /// <summary>
    /// The day's alerts at <paramref name="nowUtc"/>, each sent once (claimed in the database, so several instances send
    /// it once): the family of a child marked absent without leave; the group's teacher and the school's admins for a
    /// child marked present or late with no handover by the session's end plus AfterSchool:HandoverGrace.
    /// </summary>
    public async Task<(int Absences, int Handovers)> RunAlertsAsync(DateTime nowUtc, CancellationToken ct)
    {
        var today = ShanghaiTime.DayOf(nowUtc);
        var timeOfDay = TimeOnly.FromDateTime(ShanghaiTime.FromUtc(nowUtc).DateTime);
        var (absences, handovers) = (0, 0);
        foreach (var program in await care.RunningOnAsync(today, ct))
        {
            if (await SessionOnAsync(program, today, ct) is not { } session)
            {
                continue;
            }

            foreach (var offering in await care.OfferingsAsync(program.Id, ct))
            {
                var expected = await ExpectedOnAsync(offering, session.Weekday, ct);
                var ids = expected.Select(a => a.Id).ToList();
                var roll = await daily.RollAsync(offering.Id, today, ct);
                var onLeave = await daily.OnLeaveAsync(ids, today, ct);
                var collected = await daily.HandoversAsync(ids, today, ct);
                var dueAt = session.EndsAt.Add(Settings.HandoverGrace, out var wrappedDays);
                var handoverDue = wrappedDays == 0 && timeOfDay >= dueAt;
                foreach (var child in expected)
                {
                    var status = roll.GetValueOrDefault(child.Id)?.Status;
                    if (status == "absent" && !onLeave.Contains(child.Id) &&
                        await daily.TryClaimAlertAsync(child.Id, today, AbsenceAlert, nowUtc, ct))
                    {
                        await AlertFamilyAsync(program, child, today, ct);
                        absences++;
                    }

                    if (handoverDue && status is "present" or "late" && !collected.ContainsKey(child.Id) &&
                        await daily.TryClaimAlertAsync(child.Id, today, HandoverAlert, nowUtc, ct))
                    {
                        await AlertStaffAsync(program, offering, child, session.EndsAt, ct);
                        handovers++;
                    }
                }
            }
        }

        return (absences, handovers);
    }

    private async Task AlertFamilyAsync(CareProgram program, CareApplication child, DateOnly day, CancellationToken ct)
    {
        var guardian = await directory.FindAccountAsync(child.GuardianCorpId, child.GuardianUserId, ct);
        var student = await directory.FindStudentAsync(child.CorpId, child.StudentUserId, ct);
        await notices.SendAsync(new SystemNotice("care-absence", program.CorpId, program.Name, "课后服务缺勤提醒",
            $"{student?.Name ?? "孩子"}今天（{day:M月d日}）未到{program.Name}，也没有请假记录。请尽快与老师联系确认孩子的去向。", null,
            [new NoticeRecipient(child.GuardianCorpId, child.GuardianUserId, guardian?.UnionId, guardian?.Name ?? child.GuardianUserId, "guardians",
                child.ClassId, "after-school absence without leave")]), ct);
    }

    private async Task AlertStaffAsync(CareProgram program, CareOffering offering, CareApplication child, TimeOnly endsAt, CancellationToken ct)
    {
        var student = await directory.FindStudentAsync(child.CorpId, child.StudentUserId, ct);
        var people = (await directory.AdminsAsync(program.CorpId, identity.Value.SchoolAdminTitles, identity.Value.BureauAdminDepartmentIds, ct)).ToList();
        if (offering.TeacherUserId is { } teacher)
        {
            people.AddRange(await directory.CurrentStaffAsync(program.CorpId, [teacher], ct));
        }

        if (people.Count == 0)
        {
            return;
        }

        await notices.SendAsync(new SystemNotice("care-handover", program.CorpId, program.Name, "课后服务接送提醒",
            $"{offering.Name}的{student?.Name ?? child.StudentUserId}已到{endsAt:HH\\:mm}结束时间，仍没有接送交接记录。请确认孩子是否已被接走。", null,
            people.DistinctBy(p => p.UserId).Select(p => new NoticeRecipient(p.CorpId, p.UserId, p.UnionId, p.Name, "staff", child.ClassId,
                "after-school handover missing")).ToList()), ct);
    }
}
