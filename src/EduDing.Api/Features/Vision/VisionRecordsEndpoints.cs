using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Features.Privacy;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Vision;

/// <summary>Entering and reading identifiable records: one student, a class, an xlsx import; scoped to the class and audited.</summary>
internal static class VisionRecordsEndpoints
{
    private static VisionRecordInput? ToInput(RecordRequest? r, string? studentUserId, Dictionary<string, string[]> errors, string prefix)
    {
        if (r is null)
        {
            errors[prefix.TrimEnd('.')] = ["must be an object"];
            return null;
        }

        var glasses = VisionImport.ParseGlasses(r.Glasses);
        if (glasses is null)
        {
            errors[prefix + "glasses"] = ["must be none, frame, contact or ok-lens"];
        }

        if (r.BirthDate is null)
        {
            errors[prefix + "birthDate"] = ["is required"];
        }

        if (r.ScreenedOn is null)
        {
            errors[prefix + "screenedOn"] = ["is required"];
        }

        var student = studentUserId ?? r.StudentUserId;
        if (string.IsNullOrWhiteSpace(student))
        {
            errors[prefix + "studentUserId"] = ["is required"];
        }

        return glasses is null || r.BirthDate is null || r.ScreenedOn is null || string.IsNullOrWhiteSpace(student)
            ? null
            : new VisionRecordInput(student, r.Sex ?? "", r.BirthDate.Value, r.ScreenedOn.Value, glasses.Value, r.UcvaRight, r.UcvaLeft,
                r.WalkDistanceRight, r.WalkDistanceLeft, r.CvaRight, r.CvaLeft, r.SphereRight, r.CylinderRight, r.AxisRight, r.SphereLeft,
                r.CylinderLeft, r.AxisLeft, r.AxialLengthRight, r.AxialLengthLeft, string.IsNullOrWhiteSpace(r.NotTestableReason) ? null : r.NotTestableReason.Trim());
    }

    internal static async Task<Ok<SavedDto>> EnterOneAsync(long roundId, string corpId, string studentUserId, RecordRequest request,
        Caller caller, VisionService service, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var input = ToInput(request, studentUserId, errors, "");
        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var outcome = await service.EnterAsync(caller, roundId, corpId, [input], VisionRecordSource.Single, ct);
        return TypedResults.Ok(new SavedDto(outcome.Created, outcome.Updated, outcome.Unchanged));
    }

    internal static async Task<Ok<SavedDto>> EnterClassAsync(long roundId, string corpId, ClassRecordsRequest request, Caller caller, VisionService service, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Records is not { Count: > 0 and <= 200 })
        {
            throw new RequestValidationException("records", "must hold 1 to 200 records (a class at a time)");
        }

        var inputs = request.Records.Select((r, i) => ToInput(r, null, errors, $"records[{i}].")).ToList();
        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var outcome = await service.EnterAsync(caller, roundId, corpId, inputs, VisionRecordSource.Class, ct);
        return TypedResults.Ok(new SavedDto(outcome.Created, outcome.Updated, outcome.Unchanged));
    }

    /// <summary>
    /// A class's records of the round, without the children whose guardians have not consented to vision screening
    /// under the processing notice in force (docs/privacy.md; GET /api/corps/{corpId}/consents lists them).
    /// </summary>
    internal static async Task<Ok<IReadOnlyList<RecordDto>>> ClassRecordsAsync(long roundId, string corpId, long classId, Caller caller, VisionService service,
        VisionRepository vision, VisionAccess access, ConsentService consents, CancellationToken ct)
    {
        await service.RoundForSchoolAsync(roundId, corpId, ct);
        var records = await vision.ClassRecordsAsync(roundId, corpId, classId, ct);
        var shown = await consents.ShownAsync(corpId, ConsentPurpose.VisionScreening, records.Select(r => r.StudentUserId).ToList(), ct);
        records = records.Where(r => shown.Contains(r.StudentUserId)).ToList();
        await access.RequireClassReadAsync(caller, corpId, classId, records.Select(r => r.StudentUserId).ToList(), $"class {classId} records of round {roundId}", ct);
        return TypedResults.Ok<IReadOnlyList<RecordDto>>(records.Select(RecordDto.From).ToList());
    }

    internal static async Task<Ok<StudentVisionDto>> GetStudentAsync(long roundId, string corpId, string studentUserId, Caller caller,
        VisionService service, VisionRepository vision, OrgDirectory directory, VisionAccess access, ConsentService consents, CancellationToken ct)
    {
        await service.RoundForSchoolAsync(roundId, corpId, ct);
        var record = await vision.FindRecordAsync(roundId, corpId, studentUserId, ct);
        var classId = record?.ClassId ?? (await directory.ClassesOfStudentAsync(corpId, studentUserId, ct)).Select(c => (long?)c.ClassId).FirstOrDefault()
            ?? throw new NotFoundException($"No student {studentUserId} in corp {corpId}.");
        await access.RequireClassReadAsync(caller, corpId, classId, [studentUserId], $"record of round {roundId}", ct);
        if (record is not null && (await consents.ShownAsync(corpId, ConsentPurpose.VisionScreening, [studentUserId], ct)).Count == 0)
        {
            throw new ForbiddenException("The child's guardian has not consented to vision screening under the processing notice in force.",
                "该学生的监护人尚未同意（或已撤回同意）视力筛查个人信息处理，学校不能查看其结果。");
        }

        return record is null
            ? throw new NotFoundException($"No record of {studentUserId} in round {roundId}.")
            : TypedResults.Ok(new StudentVisionDto(RecordDto.From(record),
                (await vision.HistoryAsync(roundId, corpId, studentUserId, ct)).Select(RecordDto.From).ToList()));
    }

    /// <summary>Imports a school's records from an xlsx file in the import template's layout; each problem names its row and column.</summary>
    internal static async Task<Ok<ImportReport>> ImportAsync(long roundId, string corpId, string? onErrors, HttpRequest http, Caller caller,
        VisionService service, CancellationToken ct)
    {
        // The form is read here rather than bound, so that a wrong content type is a 400 naming the field, after the caller check.

        // Scope before content: nobody but the school's admins has the upload read.
        await service.RequireImportScopeAsync(caller, roundId, corpId, ct);
        var (fileName, content) = await Xlsx.ReadUploadAsync(http, 30 * 1024 * 1024, "at most 30 MB (split the school's file by grade)", ct);
        return TypedResults.Ok(await service.ImportAsync(caller, roundId, corpId, fileName, content,
            onErrors ?? VisionImportMode.Reject, ct));
    }

    internal static FileContentHttpResult Template() =>
        TypedResults.File(VisionImport.Template(), Xlsx.ContentType, "视力筛查导入模板.xlsx");
}
