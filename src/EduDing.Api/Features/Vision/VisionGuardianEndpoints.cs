using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EduDing.Api.Features.Vision;

/// <summary>A guardian's view of their own children's results, series and referrals.</summary>
internal static class VisionGuardianEndpoints
{
    internal static async Task<ChildVisionDto> ChildAsync(string corpId, string studentUserId, string name, VisionRepository vision, CancellationToken ct)
    {
        var records = await vision.StudentRecordsAsync(corpId, studentUserId, publishedOnly: true, ct);
        var results = new List<ResultDto>();
        foreach (var (round, record) in records)
        {
            results.Add(new ResultDto(RoundDto.From(round), RecordDto.From(record), VisionReport.For(record),
                await CorrectionsAfterPublicationAsync(vision, round.Id, corpId, record, ct)));
        }

        return new ChildVisionDto(corpId, studentUserId, name, results,
            records.Select(r => new SeriesPoint(r.Round.Id, r.Record.ScreenedOn, r.Record.UcvaR, r.Record.UcvaL, r.Record.SeR, r.Record.SeL)).ToList(),
            (await vision.ReferralsOfStudentAsync(corpId, studentUserId, ct))
            .Where(f => records.Any(r => r.Round.Id == f.RoundId)).Select(ReferralDto.From).ToList());
    }

    /// <summary>Each version entered after the round was published for the school, against the version before it.</summary>
    internal static async Task<IReadOnlyList<CorrectionDto>> CorrectionsAfterPublicationAsync(VisionRepository vision, long roundId, string corpId,
        VisionRecord current, CancellationToken ct)
    {
        if (current.Version == 1 || await vision.PublishedAtAsync(roundId, corpId, ct) is not { } publishedAt)
        {
            return [];
        }

        var versions = (await vision.HistoryAsync(roundId, corpId, current.StudentUserId, ct)).Append(current).OrderBy(v => v.Version).ToList();
        return versions.Zip(versions.Skip(1))
            .Where(pair => pair.Second.EnteredAt > publishedAt)
            .Select(pair => new CorrectionDto(pair.Second.EnteredAt, pair.Second.Version, VisionReport.Changes(pair.First, pair.Second)))
            .ToList();
    }

    internal static async Task<Ok<IReadOnlyList<MyChildSummary>>> MyChildrenAsync(Caller caller, OrgDirectory directory, VisionRepository vision,
        VisionAccess access, CancellationToken ct)
    {
        var summaries = new List<MyChildSummary>();
        foreach (var child in (await directory.ChildrenAsync(caller.Identities, ct)).DistinctBy(c => (c.CorpId, c.StudentUserId)))
        {
            await access.RequireGuardianAsync(caller, child.CorpId, child.StudentUserId, "vision results (own child)", ct);
            var detail = await ChildAsync(child.CorpId, child.StudentUserId, child.Name, vision, ct);
            summaries.Add(new MyChildSummary(child.CorpId, child.StudentUserId, child.Name, detail.Results.LastOrDefault(),
                detail.Referrals.Count(r => r.Status is ReferralStatus.Open or ReferralStatus.Acknowledged)));
        }

        return TypedResults.Ok<IReadOnlyList<MyChildSummary>>(summaries);
    }

    internal static async Task<Ok<ChildVisionDto>> MyChildAsync(string corpId, string studentUserId, Caller caller, OrgDirectory directory,
        VisionRepository vision, VisionAccess access, CancellationToken ct)
    {
        await access.RequireGuardianAsync(caller, corpId, studentUserId, "vision results (own child)", ct);
        var name = (await directory.ChildrenAsync(caller.Identities, ct)).First(c => c.CorpId == corpId && c.StudentUserId == studentUserId).Name;
        return TypedResults.Ok(await ChildAsync(corpId, studentUserId, name, vision, ct));
    }
}
