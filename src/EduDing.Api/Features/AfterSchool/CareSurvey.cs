using System.Data.Common;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>The survey's result for one offering and its teacher: answers, the average rating (1–5), and the comments.</summary>
internal sealed record SurveyResult(long OfferingId, string Offering, string? TeacherUserId, int Answers, decimal? AverageRating,
    IReadOnlyList<string> Comments);

/// <summary>
/// The end-of-term parent satisfaction survey (the bureau asks for it; docs/after-school.md): once the program's last
/// fortnight begins, a family answers once per course or group their child was enrolled in (a 1–5 rating and an
/// optional comment, anonymous to the school); the school's admins and the bureau read the results per course and teacher.
/// </summary>
internal sealed class CareSurvey(Database db, CareRepository care, AccessPolicy access, TimeProvider time)
{
    public async Task AnswerAsync(Caller caller, long applicationId, long? offeringId, int? rating, string? comment, CancellationToken ct)
    {
        var application = await care.ApplicationOfAsync(caller, applicationId, ct);

        var place = (await care.PlacesAsync([applicationId], ct)).FirstOrDefault(p => p.OfferingId == offeringId && p.EnrolledAt is not null);
        if (place is null)
        {
            throw new RequestValidationException("offeringId", "must be a course or group the child was enrolled in");
        }

        var program = (await care.FindProgramAsync(application.ProgramId, ct))!;
        if (ShanghaiTime.Today(time) < program.EndsOn.AddDays(-14))
        {
            throw new RuleViolationException($"The survey opens on {program.EndsOn.AddDays(-14):yyyy-MM-dd}, in the program's last fortnight.", $"满意度评价将于 {program.EndsOn.AddDays(-14):M月d日} 开放（项目最后两周）。", reason: "survey_not_open");
        }

        if (rating is not (>= 1 and <= 5))
        {
            throw new RequestValidationException("rating", "must be 1 (very dissatisfied) to 5 (very satisfied)");
        }

        if (comment is { Length: > 500 })
        {
            throw new RequestValidationException("comment", "at most 500 characters");
        }

        var offering = await care.FindOfferingAsync(place.OfferingId, ct);
        await using var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO care_survey (application_id, offering_id, teacher_user_id, rating, comment, answered_at)
                VALUES (@applicationId, @offeringId, @teacher, @rating, @comment, @now)
                """, new
            {
                applicationId, offeringId = place.OfferingId, teacher = offering?.TeacherUserId, rating, comment = comment?.Trim(),
                now = time.UtcNowForDatabase(),
            }, cancellationToken: ct));
        }
        catch (DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            throw new ConflictException("This course was already rated for this child.", "已为孩子评价过这门课程。", reason: "already_rated");
        }
    }

    public async Task<IReadOnlyList<SurveyResult>> ResultsAsync(Caller caller, string corpId, long programId, CancellationToken ct)
    {
        access.School(corpId);
        if (!caller.Has(Roles.SchoolAdmin, corpId) && !AccessPolicy.IsBureau(caller))
        {
            throw new ForbiddenException("Missing scope: the school's admins, or the bureau.");
        }

        await care.ProgramOfSchoolAsync(corpId, programId, ct);
        await using var connection = await db.OpenConnectionAsync(ct);
        var answers = (await connection.QueryAsync<(long OfferingId, int Rating, string? Comment)>(new CommandDefinition("""
            SELECT s.offering_id, s.rating, s.comment FROM care_survey s JOIN care_offerings o ON o.id = s.offering_id
            WHERE o.program_id = @programId
            """, new { programId }, cancellationToken: ct))).ToLookup(a => a.OfferingId);
        return (await care.OfferingsAsync(programId, ct)).Select(o => new SurveyResult(o.Id, o.Name, o.TeacherUserId, answers[o.Id].Count(),
            answers[o.Id].Any() ? Math.Round((decimal)answers[o.Id].Average(a => a.Rating), 2) : null,
            answers[o.Id].Select(a => a.Comment).OfType<string>().Where(c => c.Length > 0).ToList())).ToList();
    }
}
