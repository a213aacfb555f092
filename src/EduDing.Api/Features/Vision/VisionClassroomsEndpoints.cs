using EduDing.Api.Features.Identity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Vision;

/// <summary>明眸 classrooms: lighting renovation and adjustable desks per classroom, and the city summary.</summary>
internal static class VisionClassroomsEndpoints
{
    internal static async Task<Ok<ClassroomDto>> PutClassroomAsync(string corpId, string classroomId, ClassroomRequest request, Caller caller,
        VisionFollowUp followUp, CancellationToken ct)
    {
        var classroom = await followUp.SaveClassroomAsync(caller, corpId, classroomId, request, ct);
        return TypedResults.Ok(new ClassroomDto(corpId, classroomId, classroom.Name, classroom.LightingRenovatedOn, classroom.Desks,
            classroom.AdjustableDesks, classroom.UpdatedAt));
    }

    internal static async Task<Ok<IReadOnlyList<ClassroomDto>>> ClassroomsAsync(string corpId, Caller caller,
        VisionRepository vision, VisionAccess access, CancellationToken ct)
    {
        access.School(corpId);
        VisionAccess.RequireStatistics(caller, corpId);
        return TypedResults.Ok<IReadOnlyList<ClassroomDto>>((await vision.ClassroomsAsync(corpId, ct)).Select(c => new ClassroomDto(c.CorpId,
            c.ClassroomId, c.Name, c.LightingRenovatedOn, c.Desks, c.AdjustableDesks, c.UpdatedAt)).ToList());
    }

    internal static async Task<Ok<IReadOnlyList<ClassroomSummary>>> ClassroomSummaryAsync(string? corpId, Caller caller,
        VisionRepository vision, VisionAccess access, CancellationToken ct)
    {
        VisionAccess.RequireStatistics(caller, corpId);
        return TypedResults.Ok<IReadOnlyList<ClassroomSummary>>((await vision.ClassroomsAsync(corpId, ct)).GroupBy(c => c.CorpId).Select(g =>
            new ClassroomSummary(g.Key, access.School(g.Key).Name, g.Count(), g.Count(c => c.LightingRenovatedOn is not null),
                VisionStatistics.Rate(g.Count(c => c.LightingRenovatedOn is not null), g.Count()), g.Sum(c => c.Desks), g.Sum(c => c.AdjustableDesks),
                VisionStatistics.Rate(g.Sum(c => c.AdjustableDesks), g.Sum(c => c.Desks)), 100m)).ToList());
    }
}
