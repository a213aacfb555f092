using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Vision;

/// <summary>Screening rounds: creating, listing, progress and publishing to parents.</summary>
internal static class VisionRoundsEndpoints
{
    internal static async Task<Created<RoundDto>> CreateRoundAsync(CreateRound request, Caller caller,
        VisionService service, CancellationToken ct)
    {
        var round = await service.CreateRoundAsync(caller, request, ct);
        return TypedResults.Created($"/api/vision/rounds/{round.Id}", RoundDto.From(round));
    }

    internal static async Task<Ok<IReadOnlyList<RoundDto>>> ListRoundsAsync(Caller caller, VisionRepository vision,
        CancellationToken ct)
    {
        var schools = caller.CorpsWith(Roles.SchoolStaff);
        if (!VisionAccess.IsBureau(caller) && schools.Count == 0)
        {
            throw new ForbiddenException("Missing scope: bureau or school staff.");
        }

        var rounds = await vision.ListRoundsAsync(VisionAccess.IsBureau(caller) ? null : schools, ct);
        return TypedResults.Ok<IReadOnlyList<RoundDto>>(rounds.Select(RoundDto.From).ToList());
    }

    internal static async Task<Ok<RoundProgressDto>> ProgressAsync(long roundId, string? corpId, Caller caller,
        VisionRepository vision, VisionAccess access, CancellationToken ct)
    {
        VisionAccess.RequireStatistics(caller, corpId);
        var round = await vision.FindRoundAsync(roundId, ct) ?? throw new NotFoundException($"No screening round {roundId}.");
        var rows = await vision.ProgressAsync(roundId, corpId, ct);
        var schools = rows.GroupBy(r => r.CorpId).Select(g => new ProgressItem(g.Key, null, access.School(g.Key).Name, g.Sum(r => r.Enrolled),
            g.Sum(r => r.Screened), VisionStatistics.Rate(g.Sum(r => r.Screened), g.Sum(r => r.Enrolled)))).ToList();
        var classes = rows.Select(r => new ProgressItem(r.CorpId, r.ClassId, r.ClassName, r.Enrolled, r.Screened, VisionStatistics.Rate(r.Screened, r.Enrolled)))
            .ToList();
        return TypedResults.Ok(new RoundProgressDto(RoundDto.From(round), schools, corpId is null ? [] : classes));
    }

    internal static async Task<Accepted<RemindedDto>> PublishAsync(long roundId, string corpId, Caller caller,
        VisionService service, CancellationToken ct) =>
        TypedResults.Accepted($"/api/vision/rounds/{roundId}/progress?corpId={corpId}",
            new RemindedDto(await service.PublishAsync(caller, roundId, corpId, ct)));
}
