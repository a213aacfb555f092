using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>The lookups every after-school service starts with, answering 404 alike for what does not exist and what is not the caller's.</summary>
internal static class CareLookups
{
    /// <summary>The program, when it is one of <paramref name="corpId"/>'s.</summary>
    public static async Task<CareProgram> ProgramOfSchoolAsync(this CareRepository care, string corpId, long id, CancellationToken ct) =>
        await care.FindProgramAsync(id, ct) is { } program && program.CorpId == corpId
            ? program
            : throw new NotFoundException($"No after-school program {id} in {corpId}.");

    /// <summary>The application, when the caller is the guardian who made it.</summary>
    public static async Task<CareApplication> ApplicationOfAsync(this CareRepository care, Caller caller, long id, CancellationToken ct) =>
        await care.FindApplicationAsync(id, ct) is { } application && caller.Identities.Contains((application.GuardianCorpId, application.GuardianUserId))
            ? application
            : throw new NotFoundException($"No after-school application {id} of yours.");
}
