using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>Participation of one group (a class, a grade, a school, the city): enrolled children of the eligible ones.</summary>
internal sealed record ParticipationRow(string Key, string Label, int Eligible, int Enrolled, [property: Unit(UnitAttribute.Percent)] decimal? Rate, int AllFiveDays, [property: Unit(UnitAttribute.Percent)] decimal? AllFiveDaysShare);

/// <summary>Today's attendance of a school: expected (应到), present or late (实到), on leave, absent, handover alerts.</summary>
internal sealed record AttendanceRow(string CorpId, int Expected, int Present, int OnLeave, int Absent, int Unmarked, int HandoverAlerts);

/// <summary>An elective's demand against its capacity.</summary>
internal sealed record ElectiveDemand(string CorpId, long OfferingId, string Name, int Capacity, int Applications, int Enrolled, int Waitlisted);

/// <summary>
/// After-school statistics on a day (docs/after-school.md): participation (children enrolled in a program running that
/// day, of the current students of its grades, from the mirror) by class, grade, school and the city against the 2020
/// baseline (AfterSchool:BaselineParticipationRate, 63.34%), the share attending all five weekdays, today's attendance,
/// and elective demand against capacity.
/// </summary>
internal sealed class CareStatistics(Database db, CareRepository care, CareDailyRepository daily, CareDaily loop, OrgDirectory directory)
{
    public async Task<IReadOnlyList<ParticipationRow>> ParticipationAsync(IReadOnlyCollection<string> corpIds, string by, DateOnly day,
        CancellationToken ct)
    {
        var names = await directory.CorpNamesAsync(ct);
        var perClass = new List<(string CorpId, long ClassId, string ClassName, int? Grade, int Eligible, int Enrolled, int AllFive)>();
        foreach (var corpId in corpIds)
        {
            var programs = (await care.RunningOnAsync(day, ct)).Where(p => p.CorpId == corpId).ToList();
            if (programs.Count == 0)
            {
                continue;
            }

            var grades = programs.SelectMany(p => p.Grades).Distinct().ToList();
            var enrolled = await EnrolledByClassAsync(programs.Select(p => p.Id).ToList(), ct);
            foreach (var c in await directory.ClassesAsync(corpId, new ClassFilter(GradeLevels: grades), ct))
            {
                var e = enrolled.GetValueOrDefault(c.ClassId);
                perClass.Add((corpId, c.ClassId, c.Name, c.GradeLevel, c.Students, e.Enrolled, e.AllFive));
            }
        }

        IEnumerable<IGrouping<(string Key, string Label), (string CorpId, long ClassId, string ClassName, int? Grade, int Eligible, int Enrolled, int AllFive)>> groups = by switch
        {
            "class" => perClass.GroupBy(c => ($"{c.CorpId}:{c.ClassId}", c.ClassName)),
            "grade" => perClass.GroupBy(c => ($"{c.Grade}", $"{c.Grade}年级")),
            "school" => perClass.GroupBy(c => (c.CorpId, names.GetValueOrDefault(c.CorpId, c.CorpId))),
            _ => perClass.GroupBy(_ => ("city", "全市")),
        };
        return groups.OrderBy(g => g.Key.Key, StringComparer.Ordinal).Select(g =>
        {
            var (eligible, enrolled, allFive) = (g.Sum(c => c.Eligible), g.Sum(c => c.Enrolled), g.Sum(c => c.AllFive));
            return new ParticipationRow(g.Key.Key, g.Key.Label, eligible, enrolled, Rate(enrolled, eligible), allFive, Rate(allFive, enrolled));
        }).ToList();
    }

    /// <summary>Per class: distinct children enrolled in any of the programs, and of them those attending every weekday.</summary>
    private async Task<IReadOnlyDictionary<long, (int Enrolled, int AllFive)>> EnrolledByClassAsync(IReadOnlyList<long> programIds, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(long ClassId, string StudentUserId, string Weekdays)>(new CommandDefinition("""
            SELECT a.class_id, a.student_user_id, a.weekdays FROM care_applications a
            WHERE a.program_id IN @programIds AND a.status = 'approved'
              AND EXISTS (SELECT 1 FROM care_places p WHERE p.application_id = a.id AND p.status = 'enrolled')
            """, new { programIds = programIds.ToList() }, cancellationToken: ct));
        return rows.GroupBy(r => r.ClassId).ToDictionary(g => g.Key, g =>
        {
            var students = g.GroupBy(r => r.StudentUserId).ToList();
            return (students.Count, students.Count(s => s.Any(r => AllFive(r.Weekdays))));
        });
    }

    private static bool AllFive(string weekdays)
    {
        var days = weekdays.Split(',', StringSplitOptions.RemoveEmptyEntries);
        return Enumerable.Range(1, 5).All(d => days.Contains(d.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>Attendance of each school on a day, over every group of the programs running that day.</summary>
    public async Task<IReadOnlyList<AttendanceRow>> AttendanceAsync(IReadOnlyCollection<string> corpIds, DateOnly day, CancellationToken ct)
    {
        var rows = new List<AttendanceRow>();
        foreach (var corpId in corpIds)
        {
            var (expected, present, leave, absent, unmarked, alerts) = (0, 0, 0, 0, 0, 0);
            foreach (var program in (await care.RunningOnAsync(day, ct)).Where(p => p.CorpId == corpId))
            {
                foreach (var offering in await care.OfferingsAsync(program.Id, ct))
                {
                    var children = await loop.ExpectedAsync(program, offering, day, ct);
                    var ids = children.Select(c => c.Id).ToList();
                    var roll = await daily.RollAsync(offering.Id, day, ct);
                    var onLeave = await daily.OnLeaveAsync(ids, day, ct);
                    expected += children.Count;
                    foreach (var id in ids)
                    {
                        switch (roll.GetValueOrDefault(id)?.Status)
                        {
                            case "present" or "late":
                                present++;
                                break;
                            case "leave":
                                leave++;
                                break;
                            case "absent" when onLeave.Contains(id):
                                leave++;
                                break;
                            case "absent":
                                absent++;
                                break;
                            default:
                                unmarked++;
                                break;
                        }
                    }

                    alerts += await HandoverAlertsAsync(ids, day, ct);
                }
            }

            rows.Add(new AttendanceRow(corpId, expected, present, leave, absent, unmarked, alerts));
        }

        return rows;
    }

    private async Task<int> HandoverAlertsAsync(IReadOnlyList<long> applicationIds, DateOnly day, CancellationToken ct)
    {
        if (applicationIds.Count == 0)
        {
            return 0;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT COUNT(*) FROM care_alerts WHERE application_id IN @ids AND day = @day AND kind = 'handover'",
            new { ids = applicationIds.ToList(), day }, cancellationToken: ct));
    }

    /// <summary>Each elective of the programs running on the day: applications still in the running, enrolled, waitlisted.</summary>
    public async Task<IReadOnlyList<ElectiveDemand>> ElectivesAsync(IReadOnlyCollection<string> corpIds, DateOnly day, CancellationToken ct)
    {
        var demand = new List<ElectiveDemand>();
        foreach (var program in (await care.RunningOnAsync(day, ct)).Where(p => corpIds.Contains(p.CorpId)))
        {
            var counts = (await care.PlaceCountsAsync(program.Id, ct)).ToDictionary(c => c.OfferingId);
            foreach (var offering in (await care.OfferingsAsync(program.Id, ct)).Where(o => o.Kind == OfferingKind.Elective))
            {
                var c = counts.GetValueOrDefault(offering.Id);
                demand.Add(new ElectiveDemand(program.CorpId, offering.Id, offering.Name, offering.Capacity,
                    (c?.Held ?? 0) + (c?.Enrolled ?? 0) + (c?.Waitlisted ?? 0) + (c?.Applied ?? 0), c?.Enrolled ?? 0, c?.Waitlisted ?? 0));
            }
        }

        return demand;
    }

    public static decimal? Rate(int part, int whole) => whole == 0 ? null : Math.Round(100m * part / whole, 2, MidpointRounding.AwayFromZero);
}
