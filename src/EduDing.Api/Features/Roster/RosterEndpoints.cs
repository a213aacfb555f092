using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Roster;

internal sealed record StudentClassDto(long ClassId, string ClassName);

internal sealed record StudentGuardianDto(string UserId, string Name, string RelationCode);

internal sealed record StudentRecordDto(string CorpId, string UserId, string Name, string? StudentNumber,
    IReadOnlyList<StudentClassDto> Classes, IReadOnlyList<StudentGuardianDto> Guardians);

internal sealed record SchoolClassDto(long ClassId, string Name, int? GradeLevel, long? GradeId, long? PeriodId, string? PeriodName,
    int Students);

/// <summary>A guardian as a teacher sees them in the roster: who and how related, never a phone number.</summary>
internal sealed record ClassGuardianDto(string UserId, string Name, string RelationCode);

internal sealed record ClassStudentDto(string UserId, string Name, string? StudentNumber, IReadOnlyList<ClassGuardianDto> Guardians);

internal sealed record ClassStudentsDto(string CorpId, long ClassId, string ClassName, string Scope, IReadOnlyList<ClassStudentDto> Students);

/// <remarks>
/// The 家校通讯录 as the mini-app needs it (docs/access.md): a school's classes for its staff; a class's students with
/// their guardians' relation for its teachers and the school's admins; one child's record for the child's guardians,
/// teachers and school admins, or the bureau under a school's grant. Children are identifiable data of minors: every
/// read of students, allowed or refused, is audited.
/// </remarks>
internal static class RosterEndpoints
{
    public const string StudentReadAction = "student.record.read";
    public const string ClassReadAction = "roster.class.read";

    public static IEndpointRouteBuilder MapRosterEndpoints(this IEndpointRouteBuilder app)
    {
        var school = app.MapGroup("/api/corps/{corpId}").WithTags("Roster");
        school.MapGet("/classes", ListClassesAsync).RequireAudience(Audience.SchoolStaff).WithName("Roster_ListClasses");
        school.MapGet("/classes/{classId:long}/students", ClassStudentsAsync).RequireAudience(Audience.ClassTeacherOrSchoolAdmin)
            .WithName("Roster_ClassStudents");
        school.MapGet("/students/{studentUserId}", StudentAsync).RequireAudience(Audience.ChildOfCaller).WithName("Students_GetRecord");
        return app;
    }

    /// <summary>The school's current classes with grade, period and the number of students (no child named).</summary>
    private static async Task<Ok<IReadOnlyList<SchoolClassDto>>> ListClassesAsync(string corpId, int? gradeLevel, Caller caller,
        AccessPolicy access, OrgDirectory directory, CancellationToken ct)
    {
        access.RequireSchoolStaff(caller, corpId);
        if (gradeLevel is < 1 or > 12)
        {
            throw new RequestValidationException("gradeLevel", "grade levels are 1 to 12");
        }

        var classes = await directory.ClassesAsync(corpId, new ClassFilter(GradeLevels: gradeLevel is { } g ? [g] : null), ct);
        return TypedResults.Ok<IReadOnlyList<SchoolClassDto>>(classes.Select(c =>
            new SchoolClassDto(c.ClassId, c.Name, c.GradeLevel, c.GradeId, c.PeriodId, c.PeriodName, c.Students)).ToList());
    }

    /// <summary>One class's students and their guardians' relation: its teachers and advisers, and the school's admins. Audited.</summary>
    private static async Task<Ok<ClassStudentsDto>> ClassStudentsAsync(string corpId, long classId, Caller caller, AccessPolicy access,
        OrgDirectory directory, CancellationToken ct)
    {
        access.School(corpId);
        var (students, guardians, _) = await directory.ClassRosterAsync(corpId, classId, ct);
        // A grant is for the bureau's reading of records, not for browsing rosters.
        var match = await access.ScopeOverClassAsync(caller, corpId, classId, allowGrant: false, ct);
        await access.AuditClassReadAsync(caller, corpId, classId, students.Select(s => s.UserId).ToList(), ClassReadAction,
            $"students of class {classId}", match, ct);
        var name = (await directory.ClassesAsync(corpId, new ClassFilter(ClassIds: [classId]), ct)).FirstOrDefault()?.Name
                   ?? throw new NotFoundException($"No class {classId} in corp {corpId}.");
        return TypedResults.Ok(new ClassStudentsDto(corpId, classId, name, ScopeName(match!.Scope), students.Select(s =>
            new ClassStudentDto(s.UserId, s.Name, s.StudentNumber, guardians.Where(g => g.StudentUserId == s.UserId)
                .Select(g => new ClassGuardianDto(g.GuardianUserId, g.Name, g.RelationCode)).ToList())).ToList()));
    }

    /// <summary>One child's record: their guardians, a teacher of one of their classes, the school's admins, or a grant. Audited.</summary>
    private static async Task<Ok<StudentRecordDto>> StudentAsync(string corpId, string studentUserId, Caller caller, AccessPolicy access,
        OrgDirectory directory, CancellationToken ct)
    {
        access.School(corpId);
        var student = await directory.FindStudentAsync(corpId, studentUserId, ct)
                      ?? throw new NotFoundException($"No student {studentUserId} in corp {corpId}.");
        await access.RequireChildReadAsync(caller, corpId, studentUserId, StudentReadAction,
            "not the student's guardian, teacher or school admin", ct);
        var classes = await directory.ClassesOfStudentAsync(corpId, studentUserId, ct);
        var guardians = await directory.GuardiansOfStudentAsync(corpId, studentUserId, ct);
        return TypedResults.Ok(new StudentRecordDto(corpId, student.UserId, student.Name, student.StudentNumber,
            classes.Select(c => new StudentClassDto(c.ClassId, c.ClassName)).ToList(),
            guardians.Select(g => new StudentGuardianDto(g.UserId, g.Name, g.RelationCode)).ToList()));
    }

    private static string ScopeName(Scope scope) => scope switch
    {
        Scope.ClassAdvised => "adviser",
        Scope.ClassTaught => "teacher",
        _ => Roles.SchoolAdmin,
    };
}
